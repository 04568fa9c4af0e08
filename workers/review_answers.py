"""Applying a reply to a review form: store the step, move the review on, say what was done.

The reply was read before the transaction like any other (``workers/inbound.py``:
quotes, signature and the form's own words removed, then
``mail.read.review_form.read_review_form``); its other lines go through the reply
grammar and the normal apply path. Here, in the message's transaction:

- only the right person answers a form: the employee their self-review and
  acknowledgement, the manager their review, HR a dispute (``may_answer``); anyone
  else's reply is treated as one naming no form at all, the answer an unknown
  reference gets, so a reply cannot be used to learn about someone else's review;
- a step is answered once, while it waits; an answer after its day is refused and
  says the step was missed (never guessed or back-filled);
- the next step's form is added to the outbox at once, and a dispute is mailed to
  every HR person at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from config.review_scale import parse_scale
from mail.read.review_form import FormKind, ReviewAnswer
from mail.write.answer import day_words
from mail.write.review_mail import ReviewFormContext
from models.people import Person
from models.reviews import AckState, Review, StepState
from workers import outbox
from workers.outbox import AddedRow, OutboxRow
from workers.reviews import cycle_dates, form_row, hr_people, step_rows


def may_answer(session: Session, form: ReviewFormContext, sender: Person) -> bool:
    """Whether ``sender`` is the one person (or HR) who answers this form."""
    review = session.get(Review, form.review_id)
    if review is None:
        return False
    kind = FormKind(form.form)
    if kind in (FormKind.SELF, FormKind.ACK):
        return sender.id == review.employee_id
    if kind == FormKind.MANAGER:
        return sender.id == review.manager_id
    # HR resolves a dispute, but never one of their own reviews, as employee or manager.
    return bool(sender.is_hr) and sender.id not in (review.employee_id, review.manager_id)


@dataclass
class ReviewOutcome:
    """What the answer says about the review, and the emails the answer made due."""

    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    not_understood: list[tuple[str, str]] = field(default_factory=list)
    new_rows: list[AddedRow] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"done": self.done, "refused": self.refused,
                "not_understood": self.not_understood}


def apply_answer(session: Session, context: ReviewFormContext, sender: Person,
                 answer: ReviewAnswer, *, now: datetime, inbound_id: int, domain: str
                 ) -> ReviewOutcome:
    """Store what a reply to a review form says (the sender may answer it: ``may_answer``)."""
    review = session.get(Review, context.review_id)
    form = FormKind(context.form)
    assert review is not None
    result = ReviewOutcome(not_understood=[(e.line, e.reason) for e in answer.errors])
    # The day first: a step past its day is missed before this answer is judged.
    result.new_rows += _added(session, step_rows(
        session, review.cycle, review, cycle_dates(review.cycle), now, domain))
    label = review.cycle.period_label
    scale = parse_scale(review.cycle.scale)

    def rating(value: int) -> str:
        return scale.label(value) if scale else str(value)

    if form == FormKind.SELF:
        if _closed(review.self_state, "Your self-review", review.self_at, result, review):
            return result
        if not any((answer.wins, answer.misses, answer.next, answer.rating is not None)):
            return _nothing(result, "self-review", "write wins:, misses: and next: at the top "
                            "of your reply, e.g. wins: shipped the billing flow")
        review.self_wins, review.self_misses, review.self_next = (
            answer.wins, answer.misses, answer.next)
        review.self_rating = answer.rating
        review.self_state, review.self_at = StepState.DONE.value, now
        review.self_message_id = inbound_id
        parts = [name for name, value in (("wins", answer.wins), ("misses", answer.misses),
                                          ("next", answer.next)) if value]
        if answer.rating is not None:
            parts.append(f"rating {rating(answer.rating)}")
        manager = review.manager.name if review.manager else "your manager"
        result.done.append(f"Your {label} self-review is recorded ({', '.join(parts)}); "
                           f"{manager} gets it with your figures.")
    elif form == FormKind.MANAGER:
        if _closed(review.manager_state, f"Your review of {review.employee.name}",
                   review.manager_at, result, review):
            return result
        if (scale is not None or not answer.comment) and answer.rating is None:
            need = "rating: N and comment:" if scale else "comment:"
            return _nothing(result, "review", f"write {need} at the top of your reply")
        review.manager_rating, review.manager_comment = answer.rating, answer.comment
        review.manager_state, review.manager_at = StepState.DONE.value, now
        review.manager_message_id = inbound_id
        shown = [f"rating {rating(answer.rating)}"] if answer.rating is not None else []
        shown += ["comment"] if answer.comment else []
        result.done.append(f"Your {label} review of {review.employee.name} is recorded "
                           f"({', '.join(shown)}); {review.employee.name} is asked to "
                           "acknowledge it.")
    elif form == FormKind.ACK:
        if review.ack_state != AckState.WAITING.value:
            result.refused.append(("acknowledgement", _ack_closed(review)))
            return result
        if not answer.agree and not answer.dispute:
            return _nothing(result, "acknowledgement", "write agree, or dispute: what you "
                            "disagree with")
        review.ack_at = now
        if answer.agree:
            review.ack_state = AckState.AGREED.value
            result.done.append(f"You agreed with your {label} review. Thank you.")
        else:
            review.ack_state, review.dispute_text = AckState.DISPUTED.value, answer.dispute
            hr = hr_people(session)
            result.new_rows += _added(session, [
                form_row(review.cycle, review, "dispute", person, now, domain)
                for person in hr])
            sent = (f"was sent to HR ({len(hr)} {'person' if len(hr) == 1 else 'people'})"
                    if hr else "is listed for HR (no one is flagged HR in Drumbeat yet, so "
                    "no mail went out; tell your HR team)")
            result.done.append(f"Your dispute of your {label} review is recorded and {sent}; "
                               "it stays open until HR resolves it.")
    else:
        if review.ack_state != AckState.DISPUTED.value:
            result.refused.append(("resolved:", "this dispute is already resolved"
                                   if review.ack_state == AckState.RESOLVED.value
                                   else "this review is not disputed"))
            return result
        if not answer.resolved:
            return _nothing(result, "resolution", "write resolved: what was decided")
        review.ack_state, review.resolution_text = AckState.RESOLVED.value, answer.resolved
        review.resolved_by_id, review.resolved_at = sender.id, now
        result.done.append(f"The dispute of {review.employee.name}'s {label} review is "
                           "resolved.")
    review.updated_at = now
    session.flush()
    result.new_rows += _added(session, step_rows(
        session, review.cycle, review, cycle_dates(review.cycle), now, domain))
    return result


def _added(session: Session, rows: Sequence[OutboxRow]) -> list[AddedRow]:
    """Add rows one by one, so each id is known with its row (a few per answer)."""
    return [AddedRow(outbox_id, row) for row in rows
            for outbox_id in outbox.add_rows(session, [row])]


def _nothing(result: ReviewOutcome, what: str, form: str) -> ReviewOutcome:
    if not result.not_understood:
        result.not_understood.append((f"({what})", f"I found no {what} in your message; "
                                      f"{form}"))
    return result


def _closed(state: str, what: str, at: datetime | None, result: ReviewOutcome,
            review: Review) -> bool:
    """Refuse an answer to a step that no longer waits (answered, or missed)."""
    if state == StepState.WAITING.value:
        return False
    if state == StepState.DONE.value and at is not None:
        reason = f"{what} was recorded on {day_words(at.date())}; it stays as written. " \
                 "Ask HR if something in it is wrong."
    else:
        dates = cycle_dates(review.cycle)
        last = dates.self_due if what.startswith("Your self") else dates.manager_due
        reason = f"{what} was due by {day_words(last)} and is recorded as missed."
    result.refused.append((what.split(" ", 1)[1], reason))
    return True


def _ack_closed(review: Review) -> str:
    state = review.ack_state
    if state in (AckState.AGREED.value, AckState.DISPUTED.value, AckState.RESOLVED.value):
        return f"you answered this on {day_words(review.ack_at.date())}" if review.ack_at \
            else "already answered"
    if state == AckState.MISSED.value:
        return f"the acknowledgement was due by {day_words(cycle_dates(review.cycle).deadline)}" \
               " and is recorded as missed"
    return "there is no review to acknowledge yet"
