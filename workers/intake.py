"""Storing what arrives: the raw bytes become an InboundMessage row before anything else.

Both doors (SMTP and IMAP) call :func:`store_raw` and only then answer 250 or
mark the message seen. The same message arriving twice (both doors, or
redelivered) is stored once: its Message-ID is unique in the table, and a
message without one gets an id made from a hash of its bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Sequence
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from models.base import utcnow
from models.mailbox import InboundMessage
from workers import metrics

_HEADERS = BytesHeaderParser(policy=compat32)
MAX_HEADER_CHARS = 998


def _header_block(raw: bytes) -> Message | None:
    """The headers only, parsed leniently (compat32): cheap, and it must not fail."""
    try:
        return _HEADERS.parsebytes(raw)
    except Exception:  # a malformed header block: the caller falls back
        return None


def message_id_of(raw: bytes, headers: Message | None = None, digest: str | None = None
                  ) -> str:
    """The message's Message-ID, or ``<sha256-HEX@drumbeat.invalid>`` when it has none.

    This runs before SMTP answers, so only the header block is parsed.
    """
    headers = headers if headers is not None else _header_block(raw)
    value = headers.get("Message-ID") if headers is not None else None
    text = " ".join(str(value).split()) if value else ""
    if text.startswith("<") and text.endswith(">") and "@" in text and len(text) <= 300:
        return text
    return f"<sha256-{digest or hashlib.sha256(raw).hexdigest()}@drumbeat.invalid>"


def _summary(headers: Message | None) -> tuple[str | None, str | None]:
    """From address and Subject for listings; best effort, never raises."""
    if headers is None:
        return None, None
    try:
        addresses = getaddresses([str(headers.get("From", ""))])
        sender = addresses[0][1].lower()[:320] if addresses and addresses[0][1] else None
        subject = str(headers.get("Subject", ""))[:MAX_HEADER_CHARS] or None
    except Exception:
        return None, None
    return sender, subject


def _header_end(raw: bytes) -> int:
    """Where the header block ends (the body is never needed before the 250)."""
    crlf, lf = raw.find(b"\r\n\r\n"), raw.find(b"\n\n")
    ends = [index + width for index, width in ((crlf, 4), (lf, 2)) if index >= 0]
    return min(ends) if ends else len(raw)


@lru_cache(maxsize=4)
def _insert_statement(dialect: str) -> Insert:
    """Built once per dialect: SQLAlchemy then reuses the compiled form for every message."""
    table = InboundMessage.__table__
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    return (insert(table).on_conflict_do_nothing(index_elements=[table.c.message_id])
            .returning(table.c.id))


def row_values(raw: bytes, *, via: str, envelope_from: str | None = None,
               envelope_to: Sequence[str] = ()) -> dict[str, Any]:
    """The new row's columns, read from the header block only."""
    headers = _header_block(raw[:_header_end(raw)])
    digest = hashlib.sha256(raw).hexdigest()
    sender, subject = _summary(headers)
    return {"message_id": message_id_of(raw, headers, digest), "raw": raw, "sha256": digest,
            "via": via, "envelope_from": envelope_from, "envelope_to": list(envelope_to),
            "sender": sender, "subject": subject, "received_at": utcnow(),
            "status": "received", "attempts": 0}


def store_on(connection: Connection, raw: bytes, *, via: str,
             envelope_from: str | None = None, envelope_to: Sequence[str] = ()
             ) -> tuple[int, bool]:
    """Insert the message unless it is already there; returns (row id, newly stored)."""
    values = row_values(raw, via=via, envelope_from=envelope_from, envelope_to=envelope_to)
    new_id = connection.execute(_insert_statement(connection.dialect.name), values).scalar()
    if new_id is not None:
        metrics.stored(via)
        return new_id, True
    existing = connection.execute(select(InboundMessage.id).where(
        InboundMessage.message_id == values["message_id"])).scalar()
    assert existing is not None
    return existing, False


def store_raw(session: Session, raw: bytes, *, via: str, envelope_from: str | None = None,
              envelope_to: Sequence[str] = ()) -> tuple[int, bool]:
    """:func:`store_on` inside a session's transaction (the IMAP door, tests)."""
    return store_on(session.connection(), raw, via=via, envelope_from=envelope_from,
                    envelope_to=envelope_to)


class RawStore:
    """The SMTP door's store: one short transaction per message, on a plain connection.

    It runs for every message before the 250, so it skips the ORM session and the
    pool's pre-ping (give it an engine made with ``make_engine(url, pre_ping=False)``).
    On PostgreSQL each thread keeps one driver connection and a prepared INSERT,
    which costs about as much as the bare insert. A connection found dead is
    replaced and the insert tried once more, so a database restart costs one retry
    rather than a 451.
    """

    def __init__(self, engine: Engine, via: str = "smtp") -> None:
        self.engine = engine
        self.via = via
        self._local = threading.local()

    def __call__(self, raw: bytes, mail_from: str | None, rcpt_tos: Sequence[str]) -> int:
        for attempt in (1, 2):
            try:
                if self.engine.dialect.name == "postgresql":
                    return self._store_prepared(raw, mail_from, rcpt_tos)
                with self.engine.begin() as connection:
                    return store_on(connection, raw, via=self.via, envelope_from=mail_from,
                                    envelope_to=rcpt_tos)[0]
            except DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
            except Exception as error:
                if attempt == 2 or not self._drop_broken_connection(error):
                    raise
        raise AssertionError("unreachable")

    def _store_prepared(self, raw: bytes, mail_from: str | None,
                        rcpt_tos: Sequence[str]) -> int:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self.engine.raw_connection()
        values = row_values(raw, via=self.via, envelope_from=mail_from, envelope_to=rcpt_tos)
        params = (values["message_id"], raw, values["sha256"], self.via, mail_from,
                  json.dumps(list(rcpt_tos)), values["sender"], values["subject"],
                  values["received_at"])
        cursor = connection.cursor()
        try:
            cursor.execute(_PG_INSERT, params, prepare=True)
            row = cursor.fetchone()
            new = row is not None
            if row is None:  # already stored: the same message again
                cursor.execute(_PG_EXISTING, (values["message_id"],))
                row = cursor.fetchone()
            connection.commit()
            if new:
                metrics.stored(self.via)
        except BaseException:
            with contextlib.suppress(Exception):  # a dead connection cannot roll back
                connection.rollback()
            raise
        finally:
            cursor.close()
        assert row is not None
        return int(row[0])

    def _drop_broken_connection(self, error: Exception) -> bool:
        """Forget this thread's connection when it is closed; True if a retry may help."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            return False
        broken = bool(getattr(connection.dbapi_connection, "closed", False))
        if broken:
            connection.invalidate(error)
            self._local.connection = None
        else:
            return False
        return True


_PG_INSERT = (
    "INSERT INTO inbound_message (message_id, raw, sha256, via, envelope_from, envelope_to, "
    "sender, subject, received_at, status, attempts) "
    "VALUES (%s, %s, %s, %s, %s, %s::json, %s, %s, %s, 'received', 0) "
    "ON CONFLICT (message_id) DO NOTHING RETURNING id")
_PG_EXISTING = "SELECT id FROM inbound_message WHERE message_id = %s"
