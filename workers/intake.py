"""Storing what arrives: the raw bytes become an InboundMessage row before anything else.

Both doors (SMTP and IMAP) call :func:`store_raw` and only then answer 250 or
mark the message seen. The same message arriving twice (both doors, or
redelivered through another route) is stored once: a row is keyed by its
Message-ID and :func:`content_hash` (the bytes without the trace fields each hop
prepends), so a second message that reuses a Message-ID with other content is
stored and judged on its own rather than dropped. A message without a
Message-ID gets one made from a hash of its bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from email.utils import getaddresses
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from mail.doors.smtpd import Incoming
from mail.read.decoding import decode_words
from models.base import utcnow
from models.mailbox import InboundMessage
from workers import metrics

MAX_HEADER_CHARS = 998
_WANTED = frozenset({"message-id", "from", "subject"})
_ANGLE_ADDRESS = re.compile(r"<([^<>@\s\":]+@[^<>@\s\"]+)>\s*")
_BARE_ADDRESS = re.compile(r"[^<>@\s\",;:()]+@[^<>@\s\",;:()]+")
# Fields a mail server prepends on each hop: they say how a copy travelled, not what
# it is, so two deliveries of one message by different routes differ only in these.
TRACE_FIELDS = frozenset({
    b"received", b"return-path", b"delivered-to", b"x-original-to", b"envelope-to",
    b"x-envelope-from", b"x-envelope-to", b"x-received", b"received-spf",
    b"authentication-results", b"arc-seal", b"arc-message-signature",
    b"arc-authentication-results", b"x-spam-status", b"x-spam-score", b"x-spam-checker-version",
    b"x-virus-scanned",
})


def content_hash(raw: bytes) -> str:
    """SHA-256 of the message without its leading trace fields, line ends as LF.

    What deduplication compares besides the Message-ID: the same message relayed
    by two routes (or fetched by IMAP after arriving by SMTP) gets the same hash,
    while any change to the message itself, however small, gives another. Only the
    fields before the first non-trace field are left out, so a trace-looking field
    further down still counts.
    """
    text = raw.replace(b"\r\n", b"\n")
    position, skipping = 0, False
    while position < len(text):
        end = text.find(b"\n", position)
        end = len(text) if end < 0 else end + 1
        line = text[position:end]
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                break
        elif line.startswith(b"From "):  # the mbox separator line
            skipping = True
        else:
            name, colon, _ = line.partition(b":")
            skipping = bool(colon) and name.strip().lower() in TRACE_FIELDS
            if not skipping:
                break
        position = end
    return hashlib.sha256(text[position:]).hexdigest()


def first_headers(block: bytes) -> dict[str, str]:
    """The first Message-ID, From and Subject of a header block, unfolded.

    Only these three are needed before the 250, so this reads the block line by
    line (about a tenth of a full header parse) and never raises. Like the email
    package's lenient parser, a line that is neither a header nor a continuation
    ends the block. Raw 8-bit values are read as UTF-8, else as Windows-1252.
    """
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in block.split(b"\n"):
        line = line.rstrip(b"\r")
        if not line:
            break
        if line[0] in b" \t":
            if current is not None:
                current.append(_text(line))
            continue
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.rstrip() or b" " in name:
            if line.startswith(b"From "):  # the mbox separator line
                continue
            break
        key = name.decode("ascii", "replace").lower()
        if key in _WANTED and key not in found:
            current = found[key] = [_text(value)]
        else:
            current = None
    return {key: "".join(parts).strip() for key, parts in found.items()}


def decoded(value: str) -> str:
    """A header's RFC 2047 encoded words (``=?utf-8?q?…?=``, how most mail clients send a
    non-ASCII subject) as text, for listings, decoded by :func:`mail.read.decoding.decode_words`;
    the value as it came when it has none or they cannot be read. Never raises."""
    if "=?" not in value:
        return value
    try:
        text = decode_words(value)
    except Exception:  # the decoder has its own fallbacks; this is the last one
        return value
    return value if text is None else text


def _text(value: bytes) -> str:
    """Header bytes as text a database column takes (no NUL, no lone surrogate)."""
    value = value.replace(b"\0", b"")
    if value.isascii():
        return value.decode("ascii")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("cp1252", "replace")


def message_id_of(raw: bytes, headers: dict[str, str] | None = None,
                  digest: str | None = None) -> str:
    """The message's Message-ID, or ``<sha256-HEX@drumbeat.invalid>`` when it has none.

    This runs before SMTP answers, so only the header block is read.
    """
    headers = headers if headers is not None else first_headers(raw[:_header_end(raw)])
    text = " ".join(headers.get("message-id", "").split())
    if text.startswith("<") and text.endswith(">") and "@" in text and len(text) <= 300:
        return text
    return f"<sha256-{digest or hashlib.sha256(raw).hexdigest()}@drumbeat.invalid>"


def sender_of(from_value: str) -> str | None:
    """The From address for listings, lower-cased; best effort, never raises."""
    if not from_value:
        return None
    match = _ANGLE_ADDRESS.search(from_value) if "<" in from_value else \
        _BARE_ADDRESS.fullmatch(from_value.strip())
    if match is not None and "," not in from_value[match.end():]:
        address = match.group(match.lastindex or 0)
    else:  # groups, comments, several addresses: the email package decides
        try:
            parsed = getaddresses([from_value])
        except Exception:
            return None
        address = parsed[0][1] if parsed and parsed[0][1] else ""
    return address.lower()[:320] or None


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
    return (insert(table).on_conflict_do_nothing(
        index_elements=[table.c.message_id, table.c.content_hash]).returning(table.c.id))


def row_values(raw: bytes, *, via: str, envelope_from: str | None = None,
               envelope_to: Sequence[str] = (), peer_address: str | None = None,
               received_at: datetime | None = None) -> dict[str, Any]:
    """The new row's columns, read from the header block only. ``received_at`` is
    Drumbeat's clock (``Runtime.clock``), the one every other stored time is on."""
    headers = first_headers(raw[:_header_end(raw)])
    digest = hashlib.sha256(raw).hexdigest()
    sender = sender_of(headers.get("from", ""))
    subject = decoded(headers.get("subject", ""))[:MAX_HEADER_CHARS] or None
    return {"message_id": message_id_of(raw, headers, digest), "raw": raw, "sha256": digest,
            "content_hash": content_hash(raw), "peer_address": peer_address,
            "via": via, "envelope_from": envelope_from, "envelope_to": list(envelope_to),
            "sender": sender, "subject": subject, "received_at": received_at or utcnow(),
            "status": "received", "attempts": 0}


def store_on(connection: Connection, raw: bytes, *, via: str,
             envelope_from: str | None = None, envelope_to: Sequence[str] = (),
             peer_address: str | None = None, received_at: datetime | None = None
             ) -> tuple[int, bool]:
    """Insert the message unless it is already there; returns (row id, newly stored)."""
    values = row_values(raw, via=via, envelope_from=envelope_from, envelope_to=envelope_to,
                        peer_address=peer_address, received_at=received_at)
    return _insert(connection, values)


def _insert(connection: Connection, values: dict[str, Any]) -> tuple[int, bool]:
    """The row unless one with its Message-ID and content hash exists; (id, newly stored)."""
    via = values["via"]
    new_id = connection.execute(_insert_statement(connection.dialect.name), values).scalar()
    if new_id is not None:
        metrics.stored(via)
        return new_id, True
    existing = connection.execute(select(InboundMessage.id).where(
        InboundMessage.message_id == values["message_id"],
        InboundMessage.content_hash == values["content_hash"])).scalar()
    assert existing is not None
    return existing, False


def store_raw(session: Session, raw: bytes, *, via: str, envelope_from: str | None = None,
              envelope_to: Sequence[str] = (), peer_address: str | None = None,
              received_at: datetime | None = None) -> tuple[int, bool]:
    """:func:`store_on` inside a session's transaction (the IMAP door, tests)."""
    return store_on(session.connection(), raw, via=via, envelope_from=envelope_from,
                    envelope_to=envelope_to, peer_address=peer_address,
                    received_at=received_at)


def store_too_large(session: Session, header_block: bytes, size: int, limit: int, *,
                    via: str, envelope_to: Sequence[str] = (),
                    received_at: datetime | None = None) -> tuple[int, bool]:
    """Record a message refused for its size: its headers say who sent what, no raw bytes.

    The SMTP door answers such a message 552, so its sender knows; a mailbox has no
    one to answer, so the row (status ``rejected``, the reason in ``error``) is how
    ``drumbeat inbox`` shows it was not read, and the message is never lost silently.
    """
    values = row_values(header_block, via=via, envelope_to=envelope_to,
                        received_at=received_at)
    values.update(raw=None, status="rejected", processed_at=values["received_at"],
                  content_hash=content_hash(header_block + b"\nsize: %d" % size),
                  error=f"too large: {size} bytes, the limit is {limit} "
                        "(DRUMBEAT_MAX_MESSAGE_BYTES); not read")
    return _insert(session.connection(), values)


class RawStore:
    """The SMTP door's store: short transactions on a plain connection.

    It runs for every message before the 250, so it skips the ORM session and the
    pool's pre-ping (give it an engine made with ``make_engine(url, pre_ping=False)``).
    On PostgreSQL each thread keeps one driver connection in autocommit and a
    prepared INSERT of arrays: messages that arrive together are stored by one
    statement, one transaction and one round trip (:meth:`store_each`, for
    :class:`mail.doors.smtpd.GroupCommit`). A connection found
    dead is replaced and the group tried once more, so a database restart costs
    one retry rather than a 451. Arrival times are read from ``clock``: give it the
    runtime's (Drumbeat's clock), so ``drumbeat inbox`` and everything that compares
    them with the workers' times use one clock.
    """

    def __init__(self, engine: Engine, via: str = "smtp", *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.via = via
        self.clock = clock
        self._local = threading.local()

    def __call__(self, raw: bytes, mail_from: str | None, rcpt_tos: Sequence[str],
                 peer_address: str | None = None) -> int:
        """Store one message; returns its row id."""
        return self.store_group([Incoming(raw, mail_from, tuple(rcpt_tos), peer_address)])[0]

    def store_each(self, group: Sequence[Incoming]) -> list[int | Exception]:
        """The group in one transaction; if that fails, each message on its own, so
        one message the database refuses cannot hold up the others."""
        try:
            return list(self.store_group(group))
        except Exception as error:
            if len(group) == 1:
                return [error]
        results: list[int | Exception] = []
        for incoming in group:
            try:
                results.append(self.store_group([incoming])[0])
            except Exception as error:
                results.append(error)
        return results

    def store_group(self, group: Sequence[Incoming]) -> list[int]:
        """Every message of the group in one transaction; their row ids, in order."""
        for attempt in (1, 2):
            try:
                if self.engine.dialect.name == "postgresql":
                    return self._store_prepared(group)
                with self.engine.begin() as connection:
                    return [store_on(connection, item.raw, via=self.via,
                                     envelope_from=item.mail_from, envelope_to=item.rcpt_tos,
                                     peer_address=item.peer_address,
                                     received_at=self.clock())[0] for item in group]
            except DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
            except Exception as error:
                if attempt == 2 or not self._drop_broken_connection(error):
                    raise
        raise AssertionError("unreachable")

    def _store_prepared(self, group: Sequence[Incoming]) -> list[int]:
        """The group as one prepared INSERT of arrays, in autocommit: one statement is
        one transaction, so storing a group costs a single round trip to the server."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self.engine.raw_connection()
            connection.driver_connection.autocommit = True
            self._local.connection = connection
        now = self.clock()
        rows = [row_values(item.raw, via=self.via, envelope_from=item.mail_from,
                           envelope_to=item.rcpt_tos, peer_address=item.peer_address,
                           received_at=now) for item in group]
        for values in rows:
            values["envelope_to"] = json.dumps(values["envelope_to"])
        arrays = [[values[name] for values in rows] for name in _ARRAYS]  # a column each
        keys = list(zip(arrays[0], arrays[3], strict=True))  # (message_id, content hash)
        cursor = connection.driver_connection.cursor()
        try:
            cursor.execute(_PG_INSERT, (self.via, *arrays), prepare=True)
            found = {(message_id, digest): row_id
                     for row_id, message_id, digest in cursor.fetchall()}
            new = len(found)
            if new < len(rows):  # some were stored before: the same message again
                missing = [key for key in keys if key not in found]
                cursor.execute(_PG_EXISTING, ([m for m, _ in missing], [h for _, h in missing]))
                found.update(((message_id, digest), row_id)
                             for row_id, message_id, digest in cursor.fetchall())
        finally:
            cursor.close()
        for _ in range(new):
            metrics.stored(self.via)
        return [int(found[key]) for key in keys]

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


_ARRAYS = ("message_id", "raw", "sha256", "content_hash", "peer_address", "envelope_from",
           "envelope_to", "sender", "subject", "received_at")
_PG_INSERT = (
    "INSERT INTO inbound_message (message_id, raw, sha256, content_hash, peer_address, via, "
    "envelope_from, envelope_to, sender, subject, received_at, status, attempts) "
    "SELECT m, r, h, c, p, %s, f, t::json, s, j, a, 'received', 0 FROM unnest("
    "%s::text[], %s::bytea[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], "
    "%s::text[], %s::text[], %s::timestamptz[]) AS u (m, r, h, c, p, f, t, s, j, a) "
    "ON CONFLICT (message_id, content_hash) DO NOTHING RETURNING id, message_id, content_hash")
_PG_EXISTING = ("SELECT i.id, i.message_id, i.content_hash FROM inbound_message i "
                "JOIN unnest(%s::text[], %s::text[]) AS k (m, h) "
                "ON i.message_id = k.m AND i.content_hash = k.h")
