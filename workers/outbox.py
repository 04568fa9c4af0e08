"""The outbox: rows first, broker messages second, and a claim before every send.

* :class:`OutboxRow` is one email to add, built the same way by every sender of
  mail (agendas, nudges, digests, answers); :func:`add_rows` inserts them with
  ``ON CONFLICT (dedupe_key) DO NOTHING`` and returns only the ids it created, so a
  tick run twice (or by two schedulers) queues each email once.
* :func:`claim` is one conditional UPDATE: of two workers holding the same id,
  one wins; a row already sent is never claimed again.
* :func:`stale_ids` finds rows a lost broker message or a crashed worker left
  behind, for the sweeper to queue again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, func, literal_column, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from models.mailbox import OutboundMessage, OutboundStatus

WAITING = (OutboundStatus.PENDING.value, OutboundStatus.QUEUED.value)


@dataclass(frozen=True)
class OutboxRow:
    """One email to add to the outbox. Words left None are rendered when it is first
    sent (agendas, nudges, digests); ``claimed`` rows are inserted already taken, for
    the caller to hand over right after its commit (the inbound worker's answers)."""

    dedupe_key: str
    kind: str
    to_address: str
    subject: str
    message_id: str
    created_at: datetime
    recipient_id: int | None = None
    context: Mapping[str, Any] = field(default_factory=dict)  # stored as JSON
    body_text: str | None = None
    body_html: str | None = None
    in_reply_to: str | None = None
    references_header: str | None = None
    claimed: bool = False

    def values(self) -> dict[str, Any]:
        """The INSERT's values: the same keys for every row, so rows batch together."""
        return {
            "dedupe_key": self.dedupe_key, "kind": self.kind, "recipient_id": self.recipient_id,
            "to_address": self.to_address, "subject": self.subject,
            "body_text": self.body_text, "body_html": self.body_html,
            "message_id": self.message_id, "in_reply_to": self.in_reply_to,
            "references_header": self.references_header, "context": dict(self.context),
            "created_at": self.created_at,
            "status": (OutboundStatus.CLAIMED if self.claimed else OutboundStatus.PENDING).value,
            "claimed_at": self.created_at if self.claimed else None,
            "attempts": 1 if self.claimed else 0,
        }

    def as_stored(self, outbox_id: int) -> OutboundMessage:
        """The row as it was inserted (not attached to a session): what building its
        message needs, without reading it back."""
        return OutboundMessage(id=outbox_id, **self.values())


@dataclass(frozen=True)
class AddedRow:
    """A row the outbox took, with its id: enough to build its message without
    reading it back (``workers.sending.send_claimed``)."""

    outbox_id: int
    row: OutboxRow


def add_rows(session: Session, rows: Sequence[OutboxRow]) -> list[int]:
    """Insert outbox rows whose dedupe key is new; the ids of those created."""
    if not rows:
        return []
    statement = _insert_statement(session.get_bind().dialect.name)
    values = [row.values() for row in rows]
    # With RETURNING only the rows actually inserted come back (executemany for several).
    return list(session.scalars(statement, values[0] if len(values) == 1 else values))


def add_capped(session: Session, row: OutboxRow, *, since: datetime, cap: int) -> list[int]:
    """Insert ``row`` unless its dedupe key is taken or its address got ``cap`` rows of
    its kind since ``since`` (the answers' hourly cap): one statement whose condition is
    the count, so a reply's answer costs one round trip, not two. The id when created."""
    statement = _capped_insert_statement(session.get_bind().dialect.name, row.kind)
    return list(session.scalars(statement, {**row.values(), "since": since, "cap": cap}))


@lru_cache(maxsize=8)
def _capped_insert_statement(dialect: str, kind: str) -> Insert:
    """Built once per dialect and kind. The kind is a literal so PostgreSQL can always use
    the partial index for answers (migration 0003), in a prepared statement's generic
    plan too."""
    assert kind.isidentifier(), kind  # a constant of the code, never a message's text
    table = OutboundMessage.__table__
    names = list(OutboxRow("", kind, "", "", "", datetime.min).values())
    params = {name: bindparam(name, type_=table.c[name].type) for name in names}
    recent = select(func.count()).select_from(table).where(
        table.c.kind == literal_column(f"'{kind}'"),
        table.c.to_address == params["to_address"],
        table.c.created_at >= bindparam("since", type_=table.c.created_at.type))
    source = select(*params.values()).where(recent.scalar_subquery() < bindparam("cap"))
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    return (insert(table).from_select(names, source)
            .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
            .returning(table.c.id))


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
