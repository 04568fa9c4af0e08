"""Bounded failure: a message or an outgoing row that keeps failing ends as ``failed``.

A try is counted before its work starts, so a crash, a killed worker or dramatiq's
time limit still counts (``TimeLimitExceeded`` is a ``BaseException``: an
``except Exception`` never sees it). When the tries are used up the row is marked
``failed`` with the last error, shown by ``drumbeat inbox`` and ``drumbeat outbox``,
and the sweeper gives up on it instead of queueing it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dramatiq.middleware.time_limit import TimeLimitExceeded
from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from models.db import session_factory
from models.mailbox import InboundMessage, InboundStatus, OutboundMessage, OutboundStatus
from workers.runtime import Runtime, one_statement

__all__ = [
    "INTERRUPTIONS",
    "MAX_INBOUND_ATTEMPTS",
    "Stored",
    "begin_inbound",
    "begin_inbound_try",
    "describe",
    "fail_exhausted",
    "gave_up",
    "record_inbound_failure",
    "record_send_failure",
]

MAX_INBOUND_ATTEMPTS = 3
# What a worker may be interrupted by and still record the failure: its own errors, and
# dramatiq's time limit.
INTERRUPTIONS: tuple[type[BaseException], ...] = (Exception, TimeLimitExceeded)
NEVER_FINISHED = "it never finished (the worker stopped or ran out of time)"
_MAX_ERROR = 4000


def describe(error: BaseException) -> str:
    """An error as the row keeps it: its type, and its message when it has one."""
    if isinstance(error, TimeLimitExceeded):
        return "TimeLimitExceeded: the time limit for one message was reached"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def gave_up(attempts: int, error: str | None) -> str:
    """The reason a row ends as failed after using all its tries."""
    return f"gave up after {attempts} tries: {error or NEVER_FINISHED}"[-_MAX_ERROR:]


def begin_inbound(session: Session, inbound_id: int, *columns: Any) -> Row[Any] | None:
    """Count one try of a waiting message before its work starts; the row's ``attempts``,
    ``error`` and ``columns`` after counting, or None when it is not waiting."""
    return session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == inbound_id,
               InboundMessage.status == InboundStatus.RECEIVED.value)
        .values(attempts=InboundMessage.attempts + 1)
        .returning(InboundMessage.attempts, InboundMessage.error, *columns)
        .execution_options(synchronize_session=False)).first()


@dataclass(frozen=True)
class Stored:
    """What processing needs of a stored row whose try is counted, read without locking it."""

    id: int
    raw: bytes
    envelope_to: tuple[str, ...]
    peer_address: str | None
    attempts: int = 1  # this try included


def begin_inbound_try(rt: Runtime, inbound_id: int,
                      max_attempts: int = MAX_INBOUND_ATTEMPTS) -> Stored | str:
    """Count a try of a waiting message before any work: its bytes and envelope, or its
    status when it is not waiting. A try that crashes or reaches the time limit still
    counts; past ``max_attempts`` tries the message is failed for good. On a batch's
    PostgreSQL connection the count is one statement in autocommit."""
    counted = one_statement(rt, _BEGIN_INBOUND, (inbound_id,))
    if counted:
        attempts, _error, raw, envelope_to, peer_address = counted[0]
        if attempts <= max_attempts:
            return Stored(inbound_id, raw or b"", tuple(envelope_to or ()), peer_address,
                          attempts)
    with rt.sessions() as session, session.begin():
        columns = (InboundMessage.raw, InboundMessage.envelope_to, InboundMessage.peer_address)
        found = session.execute(select(  # counted above: the try past the last
            InboundMessage.attempts, InboundMessage.error, *columns).where(
            InboundMessage.id == inbound_id,
            InboundMessage.status == InboundStatus.RECEIVED.value)).first() if counted \
            else begin_inbound(session, inbound_id, *columns)
        if found is None:
            status = session.scalar(select(InboundMessage.status).where(
                InboundMessage.id == inbound_id))
            return str(status) if status is not None else "missing"
        if found.attempts > max_attempts:  # every try so far began and never finished
            session.execute(update(InboundMessage).where(InboundMessage.id == inbound_id).values(
                status=InboundStatus.FAILED.value, processed_at=rt.clock(),
                attempts=InboundMessage.attempts - 1,
                error=gave_up(found.attempts - 1, found.error)))
            return InboundStatus.FAILED.value
    return Stored(inbound_id, found.raw or b"", tuple(found.envelope_to or ()),
                  found.peer_address, found.attempts)


# begin_inbound as one prepared statement, with the columns begin_inbound_try reads
_BEGIN_INBOUND = (
    "UPDATE inbound_message SET attempts = attempts + 1 WHERE id = %s AND status = "
    f"'{InboundStatus.RECEIVED.value}' RETURNING attempts, error, raw, envelope_to, "
    "peer_address")


def record_inbound_failure(rt: Runtime, inbound_id: int, error: str,
                           max_attempts: int = MAX_INBOUND_ATTEMPTS) -> str:
    """After a try failed (its attempt already counted): keep the error, and park the
    message as failed once its tries are used; the sweeper tries it again otherwise.
    Returns the row's status.

    A fresh session: the worker's own connection may be the one that broke, or was
    interrupted halfway through a statement."""
    with session_factory(rt.engine)() as session, session.begin():
        row = session.get(InboundMessage, inbound_id, with_for_update=True)
        if row is None:
            return "missing"
        if row.status != InboundStatus.RECEIVED.value:
            return row.status
        row.error = error[-_MAX_ERROR:]
        if row.attempts >= max_attempts:
            row.status = InboundStatus.FAILED.value
            row.error = gave_up(row.attempts, error)
            row.processed_at = rt.clock()
        return row.status


def record_send_failure(rt: Runtime, outbox_id: int, error: str, max_attempts: int, *,
                        counted: bool) -> str:
    """After sending a row failed unexpectedly (not a relay's answer): keep the error
    and queue it again, or mark it failed once its tries are used. ``counted`` says
    whether the failed try was already counted (the row was claimed); a try that
    failed before its claim (rendering) is counted here. Returns the row's status."""
    with session_factory(rt.engine)() as session, session.begin():
        row = session.get(OutboundMessage, outbox_id, with_for_update=True)
        if row is None:
            return "missing"
        if row.status in (OutboundStatus.SENT.value, OutboundStatus.FAILED.value) or (
                not counted and row.status == OutboundStatus.CLAIMED.value):
            return row.status  # sent, given up, or another worker's claim: theirs to finish
        if not counted:
            row.attempts += 1
        if row.attempts >= max_attempts:
            row.status, row.last_error = OutboundStatus.FAILED.value, gave_up(row.attempts,
                                                                              error)
        else:
            row.status, row.last_error = OutboundStatus.QUEUED.value, error[-_MAX_ERROR:]
        return row.status


def fail_exhausted(session: Session, now: datetime, stale: timedelta, *,
                   max_inbound_attempts: int = MAX_INBOUND_ATTEMPTS,
                   max_send_attempts: int) -> tuple[list[int], list[int]]:
    """For the sweeper: the stale inbound messages and outbox rows whose tries are used
    are marked failed (with their last error) rather than queued again; returns their ids."""
    inbound = list(session.scalars(select(InboundMessage).where(
        InboundMessage.status == InboundStatus.RECEIVED.value,
        InboundMessage.received_at < now - stale,
        InboundMessage.attempts >= max_inbound_attempts).limit(10_000)))
    for row in inbound:
        row.status, row.processed_at = InboundStatus.FAILED.value, now
        row.error = gave_up(row.attempts, row.error)
    outbound = list(session.scalars(select(OutboundMessage).where(
        OutboundMessage.status.in_((OutboundStatus.PENDING.value, OutboundStatus.QUEUED.value,
                                    OutboundStatus.CLAIMED.value)),
        func.coalesce(OutboundMessage.claimed_at, OutboundMessage.created_at) < now - stale,
        OutboundMessage.attempts >= max_send_attempts).limit(10_000)))
    for outgoing in outbound:
        outgoing.status = OutboundStatus.FAILED.value
        outgoing.last_error = gave_up(outgoing.attempts, outgoing.last_error)
    return [row.id for row in inbound], [row.id for row in outbound]
