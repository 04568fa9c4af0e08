"""Storing what arrives: the raw bytes become an InboundMessage row before anything else.

Both doors (SMTP and IMAP) call :func:`store_raw` and only then answer 250 or
mark the message seen. The same message arriving twice (both doors, or
redelivered) is stored once: its Message-ID is unique in the table, and a
message without one gets an id made from a hash of its bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
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


def message_id_of(raw: bytes) -> str:
    """The message's Message-ID, or ``<sha256-HEX@drumbeat.invalid>`` when it has none.

    Only the header block is parsed, and with the lenient compat32 policy: this
    runs before SMTP answers, so it must be cheap and must not fail.
    """
    try:
        value = _HEADERS.parsebytes(raw).get("Message-ID")
    except Exception:  # any malformed header block: fall back to the hash
        value = None
    text = " ".join(str(value).split()) if value else ""
    if text.startswith("<") and text.endswith(">") and "@" in text and len(text) <= 300:
        return text
    return f"<sha256-{hashlib.sha256(raw).hexdigest()}@drumbeat.invalid>"


def _summary(raw: bytes) -> tuple[str | None, str | None]:
    """From address and Subject for listings; best effort, never raises."""
    try:
        headers = _HEADERS.parsebytes(raw)
        addresses = getaddresses([str(headers.get("From", ""))])
        sender = addresses[0][1].lower()[:320] if addresses and addresses[0][1] else None
        subject = str(headers.get("Subject", ""))[:MAX_HEADER_CHARS] or None
    except Exception:
        return None, None
    return sender, subject


def store_raw(session: Session, raw: bytes, *, via: str, envelope_from: str | None = None,
              envelope_to: Sequence[str] = ()) -> tuple[int, bool]:
    """Insert the message unless it is already there; returns (row id, newly stored)."""
    message_id = message_id_of(raw)
    sender, subject = _summary(raw)
    table = InboundMessage.__table__
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[
        session.get_bind().dialect.name]
    statement = insert(table).values(
        message_id=message_id, raw=raw, sha256=hashlib.sha256(raw).hexdigest(), via=via,
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
