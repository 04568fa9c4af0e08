"""Sending one outbox row: claim, render once, build the MIME message, hand it over.

The rendered subject and bodies are stored on the row before the first try, so
every retry sends the same words, and the reply parser later knows exactly what
it sent. The Message-ID was fixed when the row was created.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import Message

from mail.doors.transport import PermanentFailure, TemporaryFailure
from mail.write.compose import AttachedFile, InlineImage, build_message, threading_ids
from mail.write.render import RenderedEmail
from mail.write.tokens import reply_address
from models.db import session_factory
from models.mailbox import OutboundMessage
from models.mailbox import OutboundStatus as Status
from workers import failures, metrics, outbox
from workers.runtime import Runtime

log = logging.getLogger("drumbeat.send")

class RetryLater(Exception):
    """Raised to the broker so the message is retried with backoff."""


def deliver(rt: Runtime, outbox_id: int) -> str:
    """Send one row; returns the row's status afterwards. Raises RetryLater to retry.

    A failure before the row reaches the relay that is not the relay's answer (a
    rendering bug, a malformed row, the time limit) is recorded on the row: queued
    again for the sweeper, or failed once ``send_max_attempts`` tries are used. One
    while handing over leaves the row claimed: the sweeper takes it over, counting
    the try, since the relay may have it already."""
    stage = _Stage()
    try:
        return _deliver(rt, outbox_id, stage)
    except RetryLater:
        raise
    except failures.INTERRUPTIONS as error:
        if stage.handing_over:
            raise
        log.exception("outbox %s could not be sent", outbox_id, extra={"outbox_id": outbox_id})
        return failures.record_send_failure(rt, outbox_id, failures.describe(error),
                                            rt.settings.send_max_attempts,
                                            counted=stage.claimed)


@dataclass
class _Stage:
    """How far one delivery got, for recording a failure the right way."""

    claimed: bool = False  # the claim, and so the try, is committed
    handing_over: bool = False  # the relay may have the message from here on


def _deliver(rt: Runtime, outbox_id: int, stage: _Stage) -> str:
    stale = timedelta(minutes=rt.settings.outbox_stale_minutes)
    with rt.sessions() as session:
        # Words and pictures first, outside the claim's transaction: a digest's charts
        # take a while, and on SQLite a transaction here holds the database's write lock.
        row = session.get(OutboundMessage, outbox_id)
        if row is None or row.status in FINAL:
            return row.status if row else "missing"
        kinds = rt.renderers
        rendered = kinds.words[row.kind](session, row, rt) if row.body_text is None else None
        images, files = (kinds.parts[row.kind](session, row, rt) if row.kind in kinds.parts
                         else ((), ()))
    with rt.sessions() as session, session.begin():
        # The claim is committed with the words, before the relay is contacted, so the
        # row lock is never held during SMTP and every retry sends the same words.
        if not outbox.claim(session, outbox_id, rt.clock(), stale):
            row = session.get(OutboundMessage, outbox_id)
            return row.status if row else "missing"
        row = session.get(OutboundMessage, outbox_id)
        assert row is not None
        if row.body_text is None and rendered is not None:  # else an earlier try's words
            row.subject, row.body_text, row.body_html = (rendered.subject, rendered.text,
                                                         rendered.html)
        message = build_for(rt, row, images, files)
        attempts, to_address, kind = row.attempts, row.to_address, row.kind
    stage.claimed = stage.handing_over = True  # committed: the try is counted
    return hand_over(rt, outbox_id, message, attempts, to_address, kind=kind)


FINAL = (Status.SENT.value, Status.FAILED.value)


def build_for(rt: Runtime, row: OutboundMessage, images: Sequence[InlineImage] = (),
              files: Sequence[AttachedFile] = ()) -> Message:
    """The MIME message of a rendered row, as the relay will get it."""
    settings = rt.settings
    in_reply_to, references = threading_ids(row.in_reply_to,
                                            (row.references_header or "").split())
    return build_message(
        rendered=RenderedEmail(row.subject, row.body_text or "", row.body_html or ""),
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
    """Give a claimed row's message to the transport and record what happened
    (``kind`` is the row's, for the metrics; answers are handed over by the inbound worker)."""
    settings = rt.settings
    try:
        rt.transport.send(message, settings.sender_address, [to_address])
    except PermanentFailure as failure:
        with rt.sessions() as session, session.begin():
            outbox.mark_failed(session, outbox_id, failure.answer)
        metrics.handed_over(kind, Status.FAILED.value)
        log.warning("outbox %s refused for good: %s", outbox_id, failure.answer,
                    extra={"outbox_id": outbox_id})
        return Status.FAILED.value
    except TemporaryFailure as failure:
        with rt.sessions() as session, session.begin():
            if attempts >= settings.send_max_attempts:
                outbox.mark_failed(session, outbox_id, f"gave up after {attempts} tries: "
                                   f"{failure.answer}")
                metrics.handed_over(kind, Status.FAILED.value)
                return Status.FAILED.value
            outbox.release(session, outbox_id, failure.answer)
        metrics.handed_over(kind, "retry")
        log.info("outbox %s will be retried: %s", outbox_id, failure.answer,
                 extra={"outbox_id": outbox_id})
        raise RetryLater(failure.answer) from failure
    _mark_row_sent(rt, outbox_id)
    metrics.handed_over(kind, Status.SENT.value)
    return Status.SENT.value


MARK_RETRY_SECONDS = (0.2, 1.0, 5.0)


def _mark_row_sent(rt: Runtime, outbox_id: int) -> None:
    """The relay has the message, so the mark must not be lost to a passing database
    error: a row left claimed would be sent again by the sweeper. On failure it is
    tried again a few times on a fresh connection (the batch's may be the broken one)."""
    try:
        _record_sent(rt, outbox_id)
        return
    except Exception as error:
        failure = error
    fresh = session_factory(rt.engine)
    for delay in MARK_RETRY_SECONDS:
        log.warning("outbox %s was sent but could not be marked (%s); again in %.1f s",
                    outbox_id, failure, delay, extra={"outbox_id": outbox_id})
        time.sleep(delay)
        try:
            with fresh() as session, session.begin():
                outbox.mark_row_sent(session, outbox_id, rt.clock())
            return
        except Exception as error:
            failure = error
    raise failure


def _record_sent(rt: Runtime, outbox_id: int) -> None:
    """Mark the row sent as soon as the relay has it (the shorter this gap, the smaller
    the chance that a crash makes the sweeper send it again).

    On a batch's PostgreSQL connection it is one statement in autocommit: one round
    trip, and a third of the CPU of BEGIN, UPDATE and COMMIT even pipelined; elsewhere
    a session.
    """
    connection = rt.connection
    if connection is None or connection.dialect.name != "postgresql" \
            or connection.in_transaction():
        with rt.sessions() as session, session.begin():
            outbox.mark_row_sent(session, outbox_id, rt.clock())
        return
    driver = connection.connection.driver_connection
    driver.autocommit = True  # no transaction is open (checked above)
    try:
        driver.execute(_MARK_SENT, (rt.clock(), outbox_id), prepare=True)
    finally:
        with contextlib.suppress(Exception):  # a dead connection keeps its setting
            driver.autocommit = False


_MARK_SENT = ("UPDATE outbound_message SET status = 'sent', sent_at = %s, last_error = NULL "
              "WHERE id = %s AND status = 'claimed'")
