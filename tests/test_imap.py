"""The IMAP door against a real Dovecot: store first, then flag; once per message."""

from __future__ import annotations

import imaplib
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy import func, select

from mail.imap import ImapAccount
from models import ImapCursor, InboundMessage
from tests.conftest import Database
from tests.dovecot import PASSWORD, USER, Dovecot
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
