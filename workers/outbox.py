"""The outbox: rows first, broker messages second, and a claim before every send.

* :class:`OutboxRow` is one email to add, built the same way by every sender of
  mail (agendas, nudges, digests, answers); :func:`add_rows` inserts them with
  ``ON CONFLICT (dedupe_key) DO NOTHING`` and returns only the ids it created, so a
  tick run twice (or by two schedulers) queues each email once.
* :func:`claim` is one conditional UPDATE for a whole batch of ids: of two workers
  holding the same id, one wins; a row already sent is never claimed again.
  It stores the first try's words with the claim; :func:`mark_sent` is likewise one
  statement for many rows.
* :func:`stale_ids` finds rows a lost broker message or a crashed worker left
  behind, for the sweeper to queue again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, func, literal_column, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import TextClause

from mail.write.render import RenderedEmail
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
    dialect = session.get_bind().dialect.name
    values = [row.values() for row in rows]
    if dialect == "postgresql" and len(values) > 1:
        return _add_many_postgresql(session, values)
    # With RETURNING only the rows actually inserted come back (executemany for several).
    return list(session.scalars(_insert_statement(dialect),
                                values[0] if len(values) == 1 else values))


_ARRAYS = (  # each column of OutboxRow.values() and its PostgreSQL type (JSON sent as text)
    ("dedupe_key", "text"), ("kind", "text"), ("recipient_id", "integer"),
    ("to_address", "text"), ("subject", "text"), ("body_text", "text"), ("body_html", "text"),
    ("message_id", "text"), ("in_reply_to", "text"), ("references_header", "text"),
    ("context", "text"), ("created_at", "timestamptz"), ("status", "text"),
    ("claimed_at", "timestamptz"), ("attempts", "integer"))


def _add_many_postgresql(session: Session, values: list[dict[str, Any]]) -> list[int]:
    """Many rows in one INSERT ... SELECT FROM unnest(an array a column): a tick's
    thousands of agendas as fifteen parameters, where a multi-row VALUES list costs the
    driver more to build than the server to run."""
    names = ", ".join(name for name, _type in _ARRAYS)
    picked = names.replace("context", "context::json")
    arrays = {name: [v[name] for v in values] for name, _type in _ARRAYS}
    arrays["context"] = [json.dumps(context) for context in arrays["context"]]
    return list(session.scalars(text(
        f"INSERT INTO outbound_message ({names}) SELECT {picked} FROM unnest("
        + ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _ARRAYS)
        + f") AS v({names}) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"), arrays))


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


@dataclass(frozen=True)
class Claimed:
    """A row this worker took: its try's number and the words it is sent with (an
    earlier try's, when one stored them; None only for a row nobody gave words)."""

    outbox_id: int
    attempts: int
    words: RenderedEmail | None


def claim(session: Session, words: Mapping[int, RenderedEmail | None], now: datetime,
          stale: timedelta) -> list[Claimed]:
    """Take the rows (``words``' keys) for sending, and keep the first try's words on
    those that have none, so every retry sends the same and the reply parser knows what
    was sent. Rows sent, failed, or another worker's are left out: of two workers holding
    the same id, one wins. One statement on PostgreSQL; on SQLite the words follow in a
    second (an executemany)."""
    if not words:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _claim_postgresql(session, words, now, stale)
    model = OutboundMessage
    rows = session.execute(
        update(model)
        .where(model.id.in_(list(words)), or_(
            model.status.in_(WAITING),
            and_(model.status == OutboundStatus.CLAIMED.value, model.claimed_at < now - stale),
        ))
        .values(status=OutboundStatus.CLAIMED.value, claimed_at=now,
                attempts=model.attempts + 1)
        .returning(model.id, model.attempts, model.subject, model.body_text, model.body_html)
        .execution_options(synchronize_session=False)).all()
    new = {row.id: words[row.id] for row in rows if row.body_text is None and words[row.id]}
    if new:
        session.execute(
            update(model.__table__)
            .where(model.id == bindparam("row_id"), model.body_text.is_(None))
            .values(subject=bindparam("new_subject"), body_text=bindparam("new_text"),
                    body_html=bindparam("new_html")),
            [{"row_id": outbox_id, "new_subject": w.subject, "new_text": w.text,
              "new_html": w.html} for outbox_id, w in new.items() if w])
    return [Claimed(row.id, row.attempts, new.get(row.id) or _stored(row)) for row in rows]


def _claim_postgresql(session: Session, words: Mapping[int, RenderedEmail | None],
                      now: datetime, stale: timedelta) -> list[Claimed]:
    """``claim`` as one UPDATE ... FROM (VALUES the ids and their new words): one new
    version of each row, not two. (Each word a parameter of its own: as text arrays,
    psycopg would escape every agenda's HTML character by character.)"""
    params: dict[str, Any] = {"now": now, "stale_before": now - stale}
    for n, (outbox_id, w) in enumerate(words.items()):
        params.update({f"id_{n}": outbox_id, f"subject_{n}": w.subject if w else None,
                       f"text_{n}": w.text if w else None, f"html_{n}": w.html if w else None})
    rows = session.execute(_claim_statement(len(words)), params).all()
    return [Claimed(row.id, row.attempts, _stored(row) or words[row.id]) for row in rows]


@lru_cache(maxsize=64)
def _claim_statement(size: int) -> TextClause:
    """Written once per batch size, so its compiled form is reused."""
    new = ", ".join(f"(CAST(:id_{n} AS integer), CAST(:subject_{n} AS text), "
                    f"CAST(:text_{n} AS text), CAST(:html_{n} AS text))" for n in range(size))
    fresh = "o.body_text IS NULL AND new.text IS NOT NULL"
    ours = "o.body_text = new.text"  # after the SET: the words sent along were stored
    return text(
        f"UPDATE outbound_message AS o SET status = '{OutboundStatus.CLAIMED.value}', "
        "claimed_at = :now, attempts = o.attempts + 1, "
        f"subject = CASE WHEN {fresh} THEN new.subject ELSE o.subject END, "
        f"body_html = CASE WHEN {fresh} THEN new.html ELSE o.body_html END, "
        "body_text = COALESCE(o.body_text, new.text) "
        f"FROM (VALUES {new}) AS new (id, subject, text, html) "
        "WHERE o.id = new.id AND (o.status IN ("
        + ", ".join(f"'{status}'" for status in WAITING)
        + f") OR (o.status = '{OutboundStatus.CLAIMED.value}' AND o.claimed_at < :stale_before)) "
        "RETURNING o.id, o.attempts, "  # the words only when not the ones sent along
        + ", ".join(f"CASE WHEN {ours} THEN NULL ELSE o.{name} END AS {name}"
                    for name in ("subject", "body_text", "body_html")))


def _stored(row: Any) -> RenderedEmail | None:
    return None if row.body_text is None else RenderedEmail(row.subject, row.body_text,
                                                            row.body_html or "")


def mark_sent(session: Session, outbox_ids: Sequence[int], now: datetime) -> None:
    """The claimed rows are sent: the relay has their messages."""
    _finish(session, outbox_ids, status=OutboundStatus.SENT.value, sent_at=now,
            last_error=None)


def mark_failed(session: Session, outbox_id: int, answer: str) -> None:
    _finish(session, [outbox_id], status=OutboundStatus.FAILED.value, last_error=answer)


def release(session: Session, outbox_id: int, answer: str) -> None:
    """Back to the queue after a temporary failure; the retry (or the sweeper) sends it."""
    _finish(session, [outbox_id], status=OutboundStatus.QUEUED.value, last_error=answer)


def _finish(session: Session, outbox_ids: Sequence[int], **values: Any) -> None:
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id.in_(outbox_ids),
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
