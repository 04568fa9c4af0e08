"""What Drumbeat keeps of a message after it is processed, and for how long.

The raw bytes are the evidence while a message may still be disputed or retried;
the outcome (what was applied, refused or not understood) is the record. So the
bytes go, the outcome stays: at once for forwarded notes when
DRUMBEAT_STORE_NOTES is false, and for every processed message after
DRUMBEAT_RAW_RETENTION_DAYS.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from models.mailbox import InboundMessage, InboundStatus


def clear_raw(row: InboundMessage) -> None:
    """Forget the message's bytes; its headers' summary and its outcome stay."""
    row.raw = None


def clear_old_raw(session: Session, now: datetime, days: int) -> int:
    """Clear the bytes of processed messages received more than ``days`` ago (0: keep
    them forever); returns how many were cleared. A message still waiting to be
    processed keeps its bytes, however old."""
    if days <= 0:
        return 0
    result = session.execute(
        update(InboundMessage)
        .where(InboundMessage.raw.is_not(None),
               InboundMessage.status != InboundStatus.RECEIVED.value,
               InboundMessage.received_at < now - timedelta(days=days))
        .values(raw=None)
        .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
