"""The IMAP door: poll a mailbox, store each new message, and only then let it go.

Order per message: fetch bytes → commit the InboundMessage → advance the
cursor → flag/move/delete on the server. A crash anywhere in between re-reads
the message next time, and the unique Message-ID makes that harmless. A
changed UIDVALIDITY (the folder was recreated) restarts from UID 0.
"""

from __future__ import annotations

import imaplib
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mail.imap import ImapAccount, ImapClient
from models.mailbox import ImapCursor
from workers.intake import store_raw
from workers.scheduler import pause

log = logging.getLogger("drumbeat.imap")
CONNECTION_ERRORS = (OSError, socket.timeout, imaplib.IMAP4.abort, imaplib.IMAP4.error)


@dataclass
class PollResult:
    seen: int = 0
    stored: int = 0
    duplicates: int = 0


def _cursor(session: Session, account: ImapAccount) -> ImapCursor | None:
    return session.scalar(select(ImapCursor).where(
        ImapCursor.account == account.key, ImapCursor.folder == account.folder))


def poll_once(sessions: sessionmaker[Session], account: ImapAccount,
              on_stored: Callable[[int], None] | None = None) -> PollResult:
    """Read every new message of the folder once; raises on connection problems."""
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
            raw = client.fetch_raw(uid)
            result.seen += 1
            if raw is None:
                continue
            with sessions() as session, session.begin():
                row_id, new = store_raw(session, raw, via="imap",
                                        envelope_to=[account.username])
                cursor = _cursor(session, account)
                assert cursor is not None
                cursor.last_uid = max(cursor.last_uid, uid)
            client.done(uid)
            if new:
                result.stored += 1
                if on_stored is not None:
                    on_stored(row_id)
            else:
                result.duplicates += 1
    return result


def run(sessions: sessionmaker[Session], account: ImapAccount, interval: float,
        stop: threading.Event, on_stored: Callable[[int], None] | None = None,
        max_backoff: float = 300) -> None:
    """Poll until ``stop`` is set; a dropped connection waits (with backoff) and reconnects."""
    backoff = interval
    while not stop.is_set():
        try:
            result = poll_once(sessions, account, on_stored)
        except CONNECTION_ERRORS as exc:
            log.warning("IMAP %s: %s; trying again in %.0f s", account.key, exc, backoff)
            pause(stop, backoff)
            backoff = min(backoff * 2, max_backoff)
            continue
        backoff = interval
        if result.seen:
            log.info("IMAP %s: %d new, %d already stored", account.key, result.stored,
                     result.duplicates)
        pause(stop, interval)
