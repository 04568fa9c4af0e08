"""Sending outbox rows a batch at a time: read, render once, claim, build, hand over, mark.

The work unit is a batch of ids (:func:`deliver_batch`); one row alone (:func:`deliver`,
a retry, an answer's :func:`hand_over`) is a batch of one through the same code:

1. Read the rows and render those without words, kind by kind, outside any transaction
   (a digest's charts take a while; on SQLite a transaction holds the write lock). A
   kind's renderer first reads what all the batch's rows of that kind show: an agenda
   batch reads its pairs' people, tasks, goals, meetings and talking points in a fixed
   number of queries, however many rows it holds.
2. Claim them in one UPDATE and store the new words in the same transaction, so no row
   lock is held during SMTP and every retry sends the same words (a row an earlier try
   gave words keeps those). The Message-ID was fixed when the row was created.
3. Build every message, then hand them over one after another on the transport's
   connection, marking them sent in groups of ``MARK_EVERY``. A worker killed between
   a handover and its group's mark leaves those rows claimed, and the sweeper sends
   them again: with messages built beforehand a group is a few milliseconds of SMTP,
   so the window stays about what one row's had between its 250 OK and its mark,
   for a tenth of the statements.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message
from functools import partial
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from mail.doors.transport import PermanentFailure, RelayUnavailable, TemporaryFailure
from mail.write.compose import AttachedFile, InlineImage, build_message, threading_ids
from mail.write.render import RenderedEmail
from mail.write.tokens import reply_address
from models.db import session_factory
from models.mailbox import OutboundMessage
from models.mailbox import OutboundStatus as Status
from workers import failures, metrics, outbox
from workers.runtime import Runtime

log = logging.getLogger("drumbeat.send")
T = TypeVar("T")

MARK_EVERY = 8  # rows handed over before their mark; see the module's docstring
RETRY = "retry"  # a row's status after a batch: put back for a later try
FINAL = (Status.SENT.value, Status.FAILED.value)
MAX_RETRY_SECONDS = 3600.0


class RetryLater(Exception):
    """Raised to the broker so the message is retried with backoff."""


@dataclass
class Delivered:
    """What became of a batch: each row's status (``RETRY``: put back for a later try,
    after ``retry_after`` seconds, because the relay said so)."""

    statuses: dict[int, str] = field(default_factory=dict)
    retry_after: float = 0.0
    answer: str = ""  # the relay's words when it asked for a later try

    @property
    def to_retry(self) -> list[int]:
        return [outbox_id for outbox_id, status in self.statuses.items() if status == RETRY]


@dataclass(frozen=True)
class Outgoing:
    """A claimed row's message, ready for the relay."""

    outbox_id: int
    message: Message
    attempts: int
    to_address: str
    kind: str


@dataclass
class _Prepared:
    """A row read and rendered before its claim."""

    row: OutboundMessage
    words: RenderedEmail | None  # None: the row has words already
    images: Sequence[InlineImage] = ()
    files: Sequence[AttachedFile] = ()


def deliver(rt: Runtime, outbox_id: int) -> str:
    """Send one row (a batch of one); returns its status afterwards. Raises RetryLater
    when the relay asked for a later try."""
    done = deliver_batch(rt, [outbox_id])
    status = done.statuses.get(outbox_id, "missing")
    if status == RETRY:
        raise RetryLater(done.answer)
    return status


def deliver_batch(rt: Runtime, outbox_ids: Sequence[int]) -> Delivered:
    """Send a batch of rows; what became of each.

    A failure before a row reaches the relay that is not the relay's answer (a
    rendering bug, a malformed row, the time limit) is recorded on that row: queued
    again for the sweeper, or failed once ``send_max_attempts`` tries are used; a
    rendering bug stops only its own row. One while handing a row over goes on to the
    broker and leaves that row claimed: the sweeper takes it over, counting the try,
    since the relay may have it already. Rows the relay has are marked sent either way.
    """
    batch = _Batch(rt, dict.fromkeys(outbox_ids))
    try:
        _deliver(rt, batch)
    except failures.INTERRUPTIONS as error:
        if batch.interrupted(error):
            raise
    return batch.done


def _deliver(rt: Runtime, batch: _Batch) -> None:
    with rt.sessions() as session:
        rows = list(session.scalars(select(OutboundMessage).where(
            OutboundMessage.id.in_(list(batch.waiting)))))
        prepared = _render(rt, session, batch.still_to_send(rows), batch)
    batch.record_failures()
    if not prepared:
        return
    stale = timedelta(minutes=rt.settings.outbox_stale_minutes)
    with rt.sessions() as session, session.begin():
        claimed = outbox.claim(session, {outbox_id: item.words for outbox_id, item
                                         in prepared.items()}, rt.clock(), stale)
        batch.claimed_now(session, [c.outbox_id for c in claimed])
    outgoing = []
    for claim in claimed:
        item = prepared[claim.outbox_id]
        message = batch.attempt([claim.outbox_id], partial(
            build_for, rt, item.row, item.images, item.files, words=claim.words))
        if message is not None:
            outgoing.append(Outgoing(claim.outbox_id, message, claim.attempts,
                                     item.row.to_address, item.row.kind))
    batch.record_failures()
    _hand_over_all(rt, outgoing, batch)


def _render(rt: Runtime, session: Session, rows: Sequence[OutboundMessage], batch: _Batch
            ) -> dict[int, _Prepared]:
    """Words for the rows that have none (each kind's renderer reads what its rows
    show at once), and every row's pictures and files (made again on a retry, from
    the same stored figures). A row whose rendering fails is recorded and left out."""
    by_kind: dict[str, list[OutboundMessage]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row)
    prepared: dict[int, _Prepared] = {}
    for kind, group in by_kind.items():
        unworded = [row for row in group if row.body_text is None]
        render = batch.attempt([row.id for row in unworded], partial(
            rt.renderers.words[kind], session, unworded, rt)) if unworded else None
        for row in group:
            if row.id in batch.waiting:  # not recorded as failed with its kind's reads
                item = batch.attempt([row.id], partial(_prepare, rt, session, row, render))
                if item is not None:
                    prepared[row.id] = item
    return prepared


def _prepare(rt: Runtime, session: Session, row: OutboundMessage,
             render: Callable[[OutboundMessage], RenderedEmail] | None) -> _Prepared:
    words = None
    if row.body_text is None:
        assert render is not None
        words = render(row)
    parts = rt.renderers.parts.get(row.kind)
    images, files = parts(session, row, rt) if parts else ((), ())
    return _Prepared(row, words, images, files)


def build_for(rt: Runtime, row: OutboundMessage, images: Sequence[InlineImage] = (),
              files: Sequence[AttachedFile] = (), *, words: RenderedEmail | None = None
              ) -> Message:
    """The MIME message of a row, as the relay will get it: with ``words``, or the
    words stored on it."""
    settings = rt.settings
    in_reply_to, references = threading_ids(row.in_reply_to,
                                            (row.references_header or "").split())
    return build_message(
        rendered=words or RenderedEmail(row.subject, row.body_text or "", row.body_html or ""),
        from_addr=settings.from_header, to_addr=row.to_address,
        reply_to=reply_address(row.id, settings.secret_key.get_secret_value(),
                               settings.mail_domain),
        message_id=row.message_id or "", in_reply_to=in_reply_to,
        references=references.split(), date=rt.clock(),
        auto_submitted=(row.context or {}).get("auto_submitted", "auto-generated"),
        inline_images=images, attachments=files,
    )


def send_claimed(rt: Runtime, added: outbox.AddedRow) -> str:
    """Build and hand over a row inserted claimed (an answer, right after the commit
    that applied its message), from the values in hand: no reading it back."""
    return hand_over(rt, added.outbox_id, claimed_message(rt, added), attempts=1,
                     to_address=added.row.to_address, kind=added.row.kind)


def claimed_message(rt: Runtime, added: outbox.AddedRow) -> Message:
    """The MIME message of a row inserted with its words, built from the values in hand."""
    return build_for(rt, added.row.as_stored(added.outbox_id))


def hand_over(rt: Runtime, outbox_id: int, message: Message, attempts: int,
              to_address: str, *, kind: str = "answer") -> str:
    """Give a claimed row's message to the transport and record what happened: the
    batch handover for one (``kind`` is the row's, for the metrics; answers are handed
    over by the inbound worker). Raises RetryLater when the relay asked for a later try."""
    batch = _Batch(rt, {})
    _hand_over_all(rt, [Outgoing(outbox_id, message, attempts, to_address, kind)], batch)
    if batch.done.statuses[outbox_id] == RETRY:
        raise RetryLater(batch.done.answer)
    return batch.done.statuses[outbox_id]


def _hand_over_all(rt: Runtime, outgoing: Sequence[Outgoing], batch: _Batch) -> None:
    """Hand the messages over one after another, marking them sent in groups. A relay
    that cannot be reached is taken to answer the same for the rest of the batch, each
    row counting the try (as when every row met it on its own), so a relay that times
    out costs one timeout a batch, not one a row; a 4xx for one message is its alone."""
    settings = rt.settings
    for number, item in enumerate(outgoing):
        batch.claimed.pop(item.outbox_id, None)
        batch.handing_over = item.outbox_id
        try:
            rt.transport.send(item.message, settings.sender_address, [item.to_address])
        except PermanentFailure as failure:
            batch.handing_over = None
            _refused(rt, item, failure.answer, batch)
            continue
        except RelayUnavailable as failure:
            batch.handing_over = None
            for later in outgoing[number:]:
                _refused_for_now(rt, later, failure.answer, batch)
            break
        except TemporaryFailure as failure:
            batch.handing_over = None
            _refused_for_now(rt, item, failure.answer, batch)
            continue
        batch.handing_over = None
        batch.handed.append(item)
        if len(batch.handed) >= MARK_EVERY:
            batch.mark_handed()
    batch.mark_handed()


def _refused(rt: Runtime, item: Outgoing, answer: str, batch: _Batch) -> None:
    with rt.sessions() as session, session.begin():
        outbox.mark_failed(session, item.outbox_id, answer)
    metrics.handed_over(item.kind, Status.FAILED.value)
    log.warning("outbox %s refused for good: %s", item.outbox_id, answer,
                extra={"outbox_id": item.outbox_id})
    batch.settle(item.outbox_id, Status.FAILED.value)


def _refused_for_now(rt: Runtime, item: Outgoing, answer: str, batch: _Batch) -> None:
    settings = rt.settings
    with rt.sessions() as session, session.begin():
        if item.attempts >= settings.send_max_attempts:
            outbox.mark_failed(session, item.outbox_id,
                               f"gave up after {item.attempts} tries: {answer}")
            metrics.handed_over(item.kind, Status.FAILED.value)
            batch.settle(item.outbox_id, Status.FAILED.value)
            return
        outbox.release(session, item.outbox_id, answer)
    metrics.handed_over(item.kind, RETRY)
    log.info("outbox %s will be retried: %s", item.outbox_id, answer,
             extra={"outbox_id": item.outbox_id})
    batch.settle(item.outbox_id, RETRY)
    batch.done.answer = answer
    batch.done.retry_after = max(batch.done.retry_after, min(
        settings.send_retry_min_seconds * 2 ** (item.attempts - 1), MAX_RETRY_SECONDS))


@dataclass
class _Batch:
    """Where each row of a batch is, so that a failure is recorded the right way."""

    rt: Runtime
    waiting: dict[int, None]  # not claimed yet: a failure counts a try of its own
    claimed: dict[int, None] = field(default_factory=dict)  # try counted; not offered yet
    handing_over: int | None = None  # the relay may have it from here on
    handed: list[Outgoing] = field(default_factory=list)  # the relay has them; mark to come
    failed: list[tuple[int, bool, BaseException]] = field(default_factory=list)  # counted?
    done: Delivered = field(default_factory=Delivered)

    def settle(self, outbox_id: int, status: str) -> None:
        self.waiting.pop(outbox_id, None)
        self.claimed.pop(outbox_id, None)
        self.done.statuses[outbox_id] = status

    def still_to_send(self, rows: Sequence[OutboundMessage]) -> list[OutboundMessage]:
        """Of the rows read, those not sent, failed or missing (those get their status)."""
        found = {row.id: row for row in rows}
        for outbox_id in list(self.waiting):
            row = found.get(outbox_id)
            if row is None or row.status in FINAL:
                self.settle(outbox_id, row.status if row else "missing")
        return [found[outbox_id] for outbox_id in self.waiting]

    def claimed_now(self, session: Session, outbox_ids: Sequence[int]) -> None:
        """After the claim: those rows are ours; the rest were sent, failed or taken
        by another worker meanwhile."""
        for outbox_id in outbox_ids:
            self.waiting.pop(outbox_id, None)
            self.claimed[outbox_id] = None
        if self.waiting:
            statuses: dict[int, str] = {row.id: row.status for row in session.execute(
                select(OutboundMessage.id, OutboundMessage.status)
                .where(OutboundMessage.id.in_(list(self.waiting))))}
            for outbox_id in list(self.waiting):
                self.settle(outbox_id, statuses.get(outbox_id, "missing"))

    def attempt(self, outbox_ids: Sequence[int], work: Callable[[], T]) -> T | None:
        """``work`` for these rows; its error is kept for them alone (None then), to be
        recorded by ``record_failures`` once no session of the batch is open (on SQLite
        an open one holds the write lock)."""
        try:
            return work()
        except Exception as error:
            log.error("outbox %s could not be sent", ", ".join(map(str, outbox_ids)),
                      exc_info=error, extra={"outbox_id": outbox_ids[0]})
            for outbox_id in outbox_ids:
                self.failed.append((outbox_id, outbox_id in self.claimed, error))
                self.settle(outbox_id, Status.QUEUED.value)  # until recorded
            return None

    def record_failures(self) -> None:
        """Each failed row's error, kept on it: queued again for the sweeper, or failed
        once its tries are used (a try not counted by a claim is counted here)."""
        for outbox_id, counted, error in self.failed:
            self.settle(outbox_id, failures.record_send_failure(
                self.rt, outbox_id, failures.describe(error),
                self.rt.settings.send_max_attempts, counted=counted))
        self.failed = []

    def mark_handed(self) -> None:
        if not self.handed:
            return
        _mark_sent(self.rt, [item.outbox_id for item in self.handed])
        for item in self.handed:
            metrics.handed_over(item.kind, Status.SENT.value)
            self.settle(item.outbox_id, Status.SENT.value)
        self.handed = []

    def interrupted(self, error: BaseException) -> bool:
        """Keep what is known after an interruption: rows the relay has are marked sent,
        and the failure is recorded on the rows not offered to it. True when the error
        must go on to the broker: a row may be at the relay unmarked (the sweeper's)."""
        unmarked = self.handing_over is not None
        try:
            self.mark_handed()
        except Exception:
            log.exception("outbox %s were sent but could not be marked",
                          [item.outbox_id for item in self.handed])
            unmarked = True
        log.error("a batch of outbox rows was interrupted; not sent: %s",
                  [*self.waiting, *self.claimed], exc_info=error)
        self.failed += [(outbox_id, False, error) for outbox_id in self.waiting]
        self.failed += [(outbox_id, True, error) for outbox_id in self.claimed]
        self.record_failures()
        return unmarked


MARK_RETRY_SECONDS = (0.2, 1.0, 5.0)


def _mark_sent(rt: Runtime, outbox_ids: Sequence[int]) -> None:
    """The relay has the messages, so the mark must not be lost to a passing database
    error: a row left claimed would be sent again by the sweeper. On failure it is
    tried again a few times on a fresh connection (the batch's may be the broken one)."""
    try:
        _record_sent(rt, outbox_ids)
        return
    except Exception as error:
        failure = error
    fresh = session_factory(rt.engine)
    for delay in MARK_RETRY_SECONDS:
        log.warning("outbox %s was sent but could not be marked (%s); again in %.1f s",
                    ", ".join(map(str, outbox_ids)), failure, delay,
                    extra={"outbox_id": outbox_ids[0]})
        time.sleep(delay)
        try:
            with fresh() as session, session.begin():
                outbox.mark_sent(session, outbox_ids, rt.clock())
            return
        except Exception as error:
            failure = error
    raise failure


def _record_sent(rt: Runtime, outbox_ids: Sequence[int]) -> None:
    """Mark the rows sent as soon as the relay has them (the shorter this gap, the
    smaller the chance that a crash makes the sweeper send them again).

    On a batch's PostgreSQL connection it is one statement in autocommit: one round
    trip, and a third of the CPU of BEGIN, UPDATE and COMMIT even pipelined; elsewhere
    a session.
    """
    connection = rt.connection
    if connection is None or connection.dialect.name != "postgresql" \
            or connection.in_transaction():
        with rt.sessions() as session, session.begin():
            outbox.mark_sent(session, outbox_ids, rt.clock())
        return
    driver = connection.connection.driver_connection
    driver.autocommit = True  # no transaction is open (checked above)
    try:
        driver.execute(_MARK_SENT, (rt.clock(), list(outbox_ids)), prepare=True)
    finally:
        with contextlib.suppress(Exception):  # a dead connection keeps its setting
            driver.autocommit = False


_MARK_SENT = ("UPDATE outbound_message SET status = 'sent', sent_at = %s, last_error = NULL "
              "WHERE id = ANY(%s) AND status = 'claimed'")
