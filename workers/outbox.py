"""The outbox: rows first, broker messages second, and a claim before every send.

* :func:`add_rows` inserts rows with ``ON CONFLICT (dedupe_key) DO NOTHING`` and
  returns only the ids it created, so a tick run twice (or by two schedulers)
  queues each email once.
* :func:`claim` is one conditional UPDATE: of two workers holding the same id,
  one wins; a row already sent is never claimed again.
* :func:`stale_ids` finds rows a lost broker message or a crashed worker left
  behind, for the sweeper to queue again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from models.mailbox import OutboundMessage, OutboundStatus

WAITING = (OutboundStatus.PENDING.value, OutboundStatus.QUEUED.value)


def add_rows(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert outbox rows whose dedupe key is new; the ids of those created."""
    if not rows:
        return []
    statement = _insert_statement(session.get_bind().dialect.name)
    # With RETURNING only the rows actually inserted come back (executemany for several).
    return list(session.scalars(statement, rows[0] if len(rows) == 1 else list(rows)))


@lru_cache(maxsize=4)
def _insert_statement(dialect: str) -> Insert:
    """Built once per dialect (every answer is one), so SQLAlchemy reuses its compiled form."""
    table = OutboundMessage.__table__
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    return (insert(table).on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
            .returning(table.c.id))


def claim(session: Session, outbox_id: int, now: datetime, stale: timedelta) -> bool:
    """Take the row for sending; False when it is sent, failed, or another worker has it."""
    model = OutboundMessage
    result = session.execute(
        update(model)
        .where(model.id == outbox_id, or_(
            model.status.in_(WAITING),
            and_(model.status == OutboundStatus.CLAIMED.value, model.claimed_at < now - stale),
        ))
        .values(status=OutboundStatus.CLAIMED.value, claimed_at=now,
                attempts=model.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def mark_row_sent(session: Session, outbox_id: int, now: datetime) -> None:
    """The claimed row is sent: the relay has its message."""
    _finish(session, outbox_id, status=OutboundStatus.SENT.value, sent_at=now, last_error=None)


def mark_failed(session: Session, outbox_id: int, answer: str) -> None:
    _finish(session, outbox_id, status=OutboundStatus.FAILED.value, last_error=answer)


def release(session: Session, outbox_id: int, answer: str) -> None:
    """Back to the queue after a temporary failure; the retry (or the sweeper) sends it."""
    _finish(session, outbox_id, status=OutboundStatus.QUEUED.value, last_error=answer)


def _finish(session: Session, outbox_id: int, **values: Any) -> None:
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == outbox_id,
               OutboundMessage.status == OutboundStatus.CLAIMED.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def stale_ids(session: Session, now: datetime, stale: timedelta, limit: int = 10_000
              ) -> list[int]:
    """Rows still waiting, or claimed, for longer than ``stale``: their nudge was lost."""
    model = OutboundMessage
    since = func.coalesce(model.claimed_at, model.created_at)
    return list(session.scalars(
        select(model.id)
        .where(model.status.in_((*WAITING, OutboundStatus.CLAIMED.value)), since < now - stale)
        .order_by(model.id).limit(limit)))
