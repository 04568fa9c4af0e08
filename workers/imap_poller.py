"""The IMAP door: poll a mailbox, store each new message, and only then let it go.

Order per message: fetch bytes → commit the InboundMessage → advance the
cursor → flag/move/delete on the server. A crash anywhere in between re-reads
the message next time, and the unique Message-ID makes that harmless. A
changed UIDVALIDITY (the folder was recreated) restarts from UID 0.

A message over DRUMBEAT_MAX_MESSAGE_BYTES (the SMTP door's limit too) is not
fetched: its headers are stored as a ``rejected`` row saying why, so
``drumbeat inbox`` shows it, and it is only marked seen (never moved or deleted),
so it stays in the mailbox for a person to look at. The poll goes on.
"""

from __future__ import annotations

import imaplib
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from mail.doors.imap import ImapAccount, ImapClient
from models.base import utcnow
from models.mailbox import ImapCursor
from workers.intake import store_raw, store_too_large
from workers.scheduler import pause

log = logging.getLogger("drumbeat.imap")
CONNECTION_ERRORS = (OSError, socket.timeout, imaplib.IMAP4.abort, imaplib.IMAP4.error)
DEFAULT_MAX_MESSAGE_BYTES: int = Settings.model_fields["max_message_bytes"].default


@dataclass
class PollResult:
    seen: int = 0
    stored: int = 0
    duplicates: int = 0
    too_large: int = 0  # recorded as rejected, left in the mailbox marked seen


def _cursor(session: Session, account: ImapAccount) -> ImapCursor | None:
    return session.scalar(select(ImapCursor).where(
        ImapCursor.account == account.key, ImapCursor.folder == account.folder))


def poll_once(sessions: sessionmaker[Session], account: ImapAccount,
              on_stored: Callable[[int], None] | None = None,
              max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, *,
              clock: Callable[[], datetime] = utcnow) -> PollResult:
    """Read every new message of the folder once; raises on connection problems.
    Arrival times are read from ``clock`` (the runtime's: Drumbeat's clock)."""
    result = PollResult()
    with ImapClient(account) as client:
        validity = client.uidvalidity()
        with sessions() as session, session.begin():
            cursor = _cursor(session, account)
            if cursor is None or cursor.uidvalidity != validity:
                if cursor is not None:
                    log.warning("UIDVALIDITY of %s changed: reading it again", account.folder)
                    session.delete(cursor)
                    session.flush()
                cursor = ImapCursor(account=account.key, folder=account.folder,
                                    uidvalidity=validity, last_uid=0)
                session.add(cursor)
            last_uid = cursor.last_uid
        for uid in client.uids_after(last_uid):
            result.seen += 1
            size = client.size_of(uid)
            if size is not None and size > max_message_bytes:
                _record_too_large(sessions, client, uid, size, max_message_bytes, clock())
                result.too_large += 1
                continue
            raw = client.fetch_raw(uid)
            if raw is None:
                continue
            with sessions() as session, session.begin():
                row_id, new = store_raw(session, raw, via="imap",
                                        envelope_to=[account.username], received_at=clock())
                _advance(session, account, uid)
            client.done(uid)
            if new:
                result.stored += 1
                if on_stored is not None:
                    on_stored(row_id)
            else:
                result.duplicates += 1
    return result


def _advance(session: Session, account: ImapAccount, uid: int) -> None:
    cursor = _cursor(session, account)
    assert cursor is not None
    cursor.last_uid = max(cursor.last_uid, uid)


def _record_too_large(sessions: sessionmaker[Session], client: ImapClient, uid: int,
                      size: int, limit: int, received_at: datetime) -> None:
    """Store the headers of a message too large to read, saying why; then mark it seen."""
    account = client.account
    header = client.fetch_header(uid) or b""
    with sessions() as session, session.begin():
        row_id, _new = store_too_large(session, header, size, limit, via="imap",
                                       envelope_to=[account.username],
                                       received_at=received_at)
        _advance(session, account, uid)
    client.mark_seen(uid)
    log.warning("IMAP %s: message %s is %d bytes, over the limit of %d; recorded as "
                "rejected (inbound %s) and left in the mailbox", account.key, uid, size,
                limit, row_id, extra={"inbound_id": row_id})


def run(sessions: sessionmaker[Session], account: ImapAccount, interval: float,
        stop: threading.Event, on_stored: Callable[[int], None] | None = None,
        max_backoff: float = 300, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, *,
        clock: Callable[[], datetime] = utcnow) -> None:
    """Poll until ``stop`` is set; a dropped connection waits (with backoff) and reconnects."""
    backoff = interval
    while not stop.is_set():
        try:
            result = poll_once(sessions, account, on_stored, max_message_bytes, clock=clock)
        except CONNECTION_ERRORS as exc:
            log.warning("IMAP %s: %s; trying again in %.0f s", account.key, exc, backoff)
            pause(stop, backoff)
            backoff = min(backoff * 2, max_backoff)
            continue
        backoff = interval
        if result.seen:
            log.info("IMAP %s: %d new, %d already stored, %d too large", account.key,
                     result.stored, result.duplicates, result.too_large)
        pause(stop, interval)
