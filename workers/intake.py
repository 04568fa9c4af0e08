"""Storing what arrives: the raw bytes become an InboundMessage row before anything else.

Both doors (SMTP and IMAP) call :func:`store_raw` and only then answer 250 or
mark the message seen. The same message arriving twice (both doors, or
redelivered) is stored once: its Message-ID is unique in the table, and a
message without one gets an id made from a hash of its bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.base import utcnow
from models.mailbox import InboundMessage

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


def store_raw(session: Session, raw: bytes, *, via: str, envelope_from: str | None = None,
              envelope_to: Sequence[str] = ()) -> tuple[int, bool]:
    """Insert the message unless it is already there; returns (row id, newly stored)."""
    headers = _header_block(raw)
    digest = hashlib.sha256(raw).hexdigest()
    message_id = message_id_of(raw, headers, digest)
    sender, subject = _summary(headers)
    table = InboundMessage.__table__
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[
        session.get_bind().dialect.name]
    statement = insert(table).values(
        message_id=message_id, raw=raw, sha256=digest, via=via,
        envelope_from=envelope_from, envelope_to=list(envelope_to), sender=sender,
        subject=subject, received_at=utcnow(), status="received", attempts=0,
    ).on_conflict_do_nothing(index_elements=[table.c.message_id]).returning(table.c.id)
    new_id = session.scalar(statement)
    if new_id is not None:
        return new_id, True
    existing = session.scalar(select(InboundMessage.id).where(
        InboundMessage.message_id == message_id))
    assert existing is not None
    return existing, False
