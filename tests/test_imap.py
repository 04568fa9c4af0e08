"""The IMAP door against a real Dovecot: store first, then flag; once per message."""

from __future__ import annotations

import imaplib
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from sqlalchemy import func, select

from mail.doors.imap import ImapAccount
from models import ImapCursor, InboundMessage
from tests.conftest import Database
from tests.dovecot import PASSWORD, USER, Dovecot
from tests.test_cli_mail import drumbeat
from workers import imap_poller
from workers.intake import store_raw


def account(server: Dovecot, after: str = "seen") -> ImapAccount:
    return ImapAccount(host="127.0.0.1", port=server.port, username=USER, password=PASSWORD,
                       ssl=False, after=after)


def reply(n: int, message_id: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "ann@acme.example"
    message["To"] = "checkin@acme.example"
    message["Subject"] = f"Re: agenda {n}"
    message["Message-ID"] = message_id or f"<reply-{n}@mail.example>"
    message.set_content(f"T-{n} done")
    return message.as_bytes(policy=SMTP)


def count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(InboundMessage)) or 0


def test_new_messages_are_stored_then_marked_seen_once(db: Database, dovecot: Dovecot) -> None:
    for n in (1, 2, 3):
        dovecot.append(reply(n))
    first = imap_poller.poll_once(db.sessions, account(dovecot))
    assert (first.seen, first.stored, first.duplicates) == (3, 3, 0)
    assert all(b"\\Seen" in flags for flags in dovecot.flags())
    with db.session() as session:
        rows = list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))
        assert [r.raw for r in rows] == [reply(1), reply(2), reply(3)]
        assert {r.via for r in rows} == {"imap"}
        cursor = session.scalar(select(ImapCursor))
        assert cursor is not None and cursor.last_uid == 3

    assert imap_poller.poll_once(db.sessions, account(dovecot)).seen == 0
    dovecot.append(reply(4))
    assert imap_poller.poll_once(db.sessions, account(dovecot)).stored == 1
    assert count(db) == 4


def test_the_same_message_through_both_doors_is_stored_once(db: Database,
                                                            dovecot: Dovecot) -> None:
    with db.session() as session, session.begin():
        store_raw(session, reply(7), via="smtp")
    dovecot.append(reply(7))
    dovecot.append(reply(7))          # and redelivered into the mailbox
    result = imap_poller.poll_once(db.sessions, account(dovecot))
    assert (result.stored, result.duplicates) == (0, 2)
    assert count(db) == 1


def test_a_recreated_folder_is_read_again_without_duplicates(db: Database,
                                                             dovecot: Dovecot) -> None:
    dovecot.append(reply(1))
    imap_poller.poll_once(db.sessions, account(dovecot))
    with db.session() as session, session.begin():
        cursor = session.scalar(select(ImapCursor))
        assert cursor is not None
        cursor.uidvalidity += 1       # as if the server had recreated the folder
    dovecot.append(reply(2))
    result = imap_poller.poll_once(db.sessions, account(dovecot))
    assert (result.seen, result.stored, result.duplicates) == (2, 1, 1)


def test_move_after_storing(db: Database, dovecot: Dovecot) -> None:
    dovecot.append(reply(1))
    client = imaplib.IMAP4("127.0.0.1", dovecot.port)
    client.login(USER, PASSWORD)
    client.create("Processed")
    client.logout()
    result = imap_poller.poll_once(db.sessions, account(dovecot, after="move:Processed"))
    assert result.stored == 1
    assert dovecot.flags("INBOX") == []
    assert len(dovecot.flags("Processed")) == 1


def test_the_poller_survives_the_server_going_away(db: Database, dovecot: Dovecot) -> None:
    stop = threading.Event()
    poller = threading.Thread(target=imap_poller.run, args=(
        db.sessions, account(dovecot), 0.1, stop), kwargs={"max_backoff": 0.5})
    dovecot.append(reply(1))
    poller.start()
    try:
        deadline = time.monotonic() + 10
        while count(db) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        dovecot.stop()                # the connection drops; the poller keeps trying
        time.sleep(0.5)
        dovecot.start()
        dovecot.append(reply(2))
        deadline = time.monotonic() + 15
        while count(db) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        poller.join(timeout=10)
    assert count(db) == 2
    assert not poller.is_alive()


def big(n: int, size: int) -> bytes:
    message = EmailMessage()
    message["From"] = "ann@acme.example"
    message["To"] = "checkin@acme.example"
    message["Subject"] = f"Re: agenda {n} with a large attachment"
    message["Message-ID"] = f"<big-{n}@mail.example>"
    message.set_content("x" * size)
    return message.as_bytes(policy=SMTP)


def test_a_message_over_the_size_limit_is_recorded_and_left_in_the_mailbox_and_the_poll_goes_on(
        db: Database, dovecot: Dovecot) -> None:
    dovecot.append(reply(1))
    dovecot.append(big(2, 50_000))
    dovecot.append(reply(3))

    result = imap_poller.poll_once(db.sessions, account(dovecot, after="delete"),
                                   max_message_bytes=10_000)

    assert (result.seen, result.stored, result.too_large) == (3, 2, 1)
    assert [b"\\Seen" in flags for flags in dovecot.flags()] == [True]  # only the large one
    with db.session() as session:
        rows = list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))
    assert [row.status for row in rows] == ["received", "rejected", "received"]
    refused = rows[1]
    assert refused.raw is None and refused.sender == "ann@acme.example"
    assert refused.subject == "Re: agenda 2 with a large attachment"
    assert refused.error is not None and "too large" in refused.error and "10000" in refused.error
    assert imap_poller.poll_once(db.sessions, account(dovecot)).seen == 0


def test_imap_poll_says_how_many_were_too_large_and_the_inbox_lists_them(
        db: Database, dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(big(1, 50_000))
    env = {"DRUMBEAT_DATABASE_URL": db.url, "DRUMBEAT_MAILDIR": str(tmp_path / "maildir"),
           "DRUMBEAT_MAIL_DOMAIN": "acme.example", "DRUMBEAT_SECRET_KEY": "k" * 40,
           "DRUMBEAT_IMAP_HOST": "127.0.0.1", "DRUMBEAT_IMAP_PORT": str(dovecot.port),
           "DRUMBEAT_IMAP_USERNAME": USER, "DRUMBEAT_IMAP_PASSWORD": PASSWORD,
           "DRUMBEAT_IMAP_SSL": "false", "DRUMBEAT_MAX_MESSAGE_BYTES": "10000",
           "COLUMNS": "160"}

    polled = drumbeat(env, "imap-poll", "--once")
    assert polled.returncode == 0, polled.stderr
    assert "1 too large" in polled.stdout

    listing = drumbeat(env, "inbox")
    assert "rejected" in listing.stdout and "too large" in listing.stdout
