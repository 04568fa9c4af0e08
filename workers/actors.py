"""The dramatiq actors. Each takes ids or a timestamp, never objects, and is idempotent.

Actors are declared on a placeholder broker and bound to the real one by
:func:`bind` (Redis, or the in-process broker), so importing this module never
connects anywhere and tests can bind them to a broker of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import dramatiq
from dramatiq.brokers.stub import StubBroker
from sqlalchemy.exc import IntegrityError

from config.settings import Settings
from workers import agendas, digests, failures, inbound, metrics, outbox, retention, reviews
from workers.runtime import Runtime, one_connection, runtime
from workers.sending import RetryLater, deliver, deliver_batch, send_claimed

log = logging.getLogger("drumbeat.actors")
QUEUE = "drumbeat"
_placeholder = StubBroker()
SEND_BATCH = 32  # rows a send_batch message carries; see queue_batches
ADD_AT_ONCE = 32 * SEND_BATCH  # agenda rows a dispatch transaction adds before queueing them


@dramatiq.actor(broker=_placeholder, queue_name=QUEUE, max_retries=3)
def dispatch_due(now: str | None = None) -> None:
    """Add the agendas, reminders, evaluation digests and review-cycle emails due at ``now``
    (ISO 8601) to the outbox, then queue them."""
    rt = runtime()
    moment = datetime.fromisoformat(now) if now else rt.clock()
    ids = dispatch(rt, moment, queue_batches)
    if ids:
        log.info("dispatch at %s: %d new outbox rows", moment.isoformat(), len(ids))


def dispatch(rt: Runtime, moment: datetime,
             queue: Callable[[list[int]], None] = lambda _ids: None) -> list[int]:
    """The outbox rows due at ``moment``, added in short transactions (the agendas
    ``ADD_AT_ONCE`` rows at a time), each given to ``queue`` as soon as it commits: the
    first agendas are on their way while the rest are still added, and the other worker
    threads do not wait idle for the whole tick. The ids of the rows created. Adding is
    idempotent (dedupe keys), so a tick stopped halfway is finished by the next. The
    review cycle comes after the digests: it opens once their snapshot exists."""
    settings = rt.settings
    with rt.sessions() as session, session.begin():
        rows = agendas.due_rows(
            session, moment, timedelta(hours=settings.agenda_lead_hours), settings.mail_domain,
            timedelta(hours=settings.nudge_within_hours))
    ids: list[int] = []
    for start in range(0, len(rows), ADD_AT_ONCE):
        with rt.sessions() as session, session.begin():
            added = outbox.add_rows(session, rows[start:start + ADD_AT_ONCE])
        queue(added)
        ids += added
    with rt.sessions() as session, session.begin():
        added = digests.dispatch_due(session, moment, settings.mail_domain,
                                     settings.fiscal_year_start_month,
                                     settings.digest_delay_days,
                                     settings.digest_employee_summaries)
    queue(added)
    ids += added
    with rt.sessions() as session, session.begin():
        added = reviews.dispatch_due(
            session, moment, domain=settings.mail_domain,
            fiscal_year_start_month=settings.fiscal_year_start_month,
            delay_days=settings.digest_delay_days, kinds=settings.reviewed_kinds,
            step_days=settings.review_step_days, remind_days=settings.review_remind_days,
            scale_text=settings.review_scale)
    queue(added)
    return ids + added


def queue_batches(outbox_ids: list[int]) -> None:
    """Queue rows to send as ``send_batch`` messages of up to ``SEND_BATCH`` ids, in id
    order: a pair's two agendas were added together, so they share a batch's reads. A
    batch is small enough to finish well inside the time limit, and the tick's batches
    spread over every worker thread."""
    for start in range(0, len(outbox_ids), SEND_BATCH):
        send_batch.send(outbox_ids[start:start + SEND_BATCH])


@dramatiq.actor(broker=_placeholder, queue_name=QUEUE, max_retries=0)
def send_batch(outbox_ids: list[int]) -> None:
    """Send a batch of outbox rows on one database connection (``deliver_batch``). The
    rows the relay asked to retry go out again as one batch after the backoff of the
    refused row's tries; anything else (a bug, the time limit) is recorded on its row:
    queued for the sweeper, or failed once its tries are used."""
    with one_connection(runtime()) as rt:
        done = deliver_batch(rt, outbox_ids)
    if done.to_retry:
        send_batch.send_with_options(args=(done.to_retry,),
                                     delay=int(done.retry_after * 1000))


@dramatiq.actor(broker=_placeholder, queue_name=QUEUE, max_retries=8, min_backoff=15_000,
                max_backoff=3_600_000)
def send_email(outbox_id: int) -> None:
    """Send one outbox row (a batch of one); a temporary failure raises RetryLater and is
    retried with backoff. Anything else (a bug, the time limit) is recorded on the row:
    queued for the sweeper, or failed once its tries are used."""
    deliver(runtime(), outbox_id)


@dramatiq.actor(broker=_placeholder, queue_name=QUEUE, max_retries=0)
def process_inbound(inbound_id: int) -> None:
    """Parse, apply and answer one stored message; errors are recorded on its row."""
    _process_and_answer(runtime(), inbound_id)


@dramatiq.actor(broker=_placeholder, queue_name=QUEUE, max_retries=0)
def process_inbound_batch(inbound_ids: list[int]) -> None:
    """The SMTP door's nudge: several stored messages, processed one after another. When
    the time limit stops one, the rest go out as a new nudge with a time limit of its own."""
    with one_connection(runtime()) as rt:
        for index, inbound_id in enumerate(inbound_ids):
            if not _process_and_answer(rt, inbound_id) and inbound_ids[index + 1:]:
                process_inbound_batch.send(inbound_ids[index + 1:])
                return


def _process_and_answer(rt: Runtime, inbound_id: int, *, again: bool = False) -> bool:
    """Process one message, then send its answer from here: the answer row is committed
    claimed with the changes, so no second queue trip is needed; a failed send goes to
    ``send_email``'s retries, a lost worker to the sweeper. When the batch's connection
    was lost (a database restart), the message is tried once more: the connection
    reconnects on its next use; so it is when a concurrent message's transaction won a
    race (both inserted one meeting, a deadlock): the second try sees its commit.
    False when the time limit interrupted it."""
    try:
        processed = inbound.process(rt, inbound_id, send_now=True)
    except inbound.SenderCheckDelayed as exc:
        log.warning("inbound message %s waits for a later try: %s", inbound_id, exc,
                    extra={"inbound_id": inbound_id})
        inbound.record_failure(rt, inbound_id, f"waiting: {exc}")
        return True
    except failures.INTERRUPTIONS as exc:
        if not again and isinstance(exc, Exception) and (_lost(rt) or _conflict(exc)):
            log.warning("processing inbound message %s again: %s", inbound_id,
                        "the database connection was lost" if _lost(rt) else
                        failures.describe(exc), extra={"inbound_id": inbound_id})
            return _process_and_answer(rt, inbound_id, again=True)
        log.exception("processing inbound message %s failed", inbound_id,
                      extra={"inbound_id": inbound_id})
        metrics.processed("error")
        inbound.record_failure(rt, inbound_id, failures.describe(exc))
        return isinstance(exc, Exception)
    log.info("inbound message %s: %s", inbound_id, processed.status,
             extra={"inbound_id": inbound_id})
    for outbox_id in processed.to_queue:  # what the message made due besides its answer
        send_email.send(outbox_id)
    finished = True
    for answer in processed.to_send:
        outbox_id = answer.outbox_id
        try:
            send_claimed(rt, answer)
        except RetryLater:
            send_email.send_with_options(args=(outbox_id,),
                                         delay=int(rt.settings.send_retry_min_seconds * 1000))
        except failures.INTERRUPTIONS as exc:
            log.exception("sending answer %s failed; the sweeper will try again", outbox_id,
                          extra={"outbox_id": outbox_id})
            finished = finished and isinstance(exc, Exception)
    return finished


def _lost(rt: Runtime) -> bool:
    return rt.connection is not None and rt.connection.invalidated


CONFLICTS = ("40P01", "40001")  # PostgreSQL: deadlock detected, serialization failure


def _conflict(exc: Exception) -> bool:
    """An error a concurrent transaction caused, which trying again at once resolves."""
    return isinstance(exc, IntegrityError) or getattr(
        getattr(exc, "orig", None), "sqlstate", None) in CONFLICTS


@dramatiq.actor(broker=_placeholder, queue_name=QUEUE, max_retries=0)
def sweep_outbox() -> None:
    """Queue again the rows whose broker message was lost or whose worker died; give up
    (failed, with the last error) on those whose tries are used."""
    rt = runtime()
    stale = timedelta(minutes=rt.settings.outbox_stale_minutes)
    with rt.sessions() as session, session.begin():
        failed_in, failed_out = failures.fail_exhausted(
            session, rt.clock(), stale, max_inbound_attempts=inbound.MAX_ATTEMPTS,
            max_send_attempts=rt.settings.send_max_attempts)
    if failed_in or failed_out:
        log.warning("sweeper gave up on %d inbound and %d outbox rows whose tries were used",
                    len(failed_in), len(failed_out))
    with rt.sessions() as session:
        ids = outbox.stale_ids(session, rt.clock(), stale)
    queue_batches(ids)
    if ids:
        log.info("sweeper queued %d stale outbox rows again", len(ids))
    with rt.sessions() as session:
        waiting = inbound.stale_received(session, rt.clock(), stale)
    for inbound_id in waiting:
        process_inbound.send(inbound_id)


@dramatiq.actor(broker=_placeholder, queue_name=QUEUE, max_retries=0)
def housekeeping(now: str | None = None) -> None:
    """Clear the raw bytes of processed messages older than DRUMBEAT_RAW_RETENTION_DAYS
    at ``now`` (ISO 8601; default the runtime's clock)."""
    rt = runtime()
    moment = datetime.fromisoformat(now) if now else rt.clock()
    with rt.sessions() as session, session.begin():
        cleared = retention.clear_old_raw(session, moment, rt.settings.raw_retention_days)
    if cleared:
        log.info("cleared the raw bytes of %d processed messages older than %d days",
                 cleared, rt.settings.raw_retention_days)


ACTORS = (dispatch_due, send_batch, send_email, process_inbound, process_inbound_batch,
          sweep_outbox, housekeeping)


def bind(broker: dramatiq.Broker, settings: Settings) -> None:
    """Declare the actors on ``broker`` with the retry policy from ``settings``."""
    time_limit = int(settings.message_time_limit_seconds * 1000)
    for actor in (send_batch, send_email, process_inbound, process_inbound_batch):
        actor.options["time_limit"] = time_limit
    send_email.options.update(
        max_retries=settings.send_max_attempts,
        min_backoff=int(settings.send_retry_min_seconds * 1000),
        retry_when=lambda retries, exc: isinstance(exc, RetryLater)
        and retries < settings.send_max_attempts)
    for actor in ACTORS:
        actor.broker = broker
        broker.declare_actor(actor)
