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
from mail.write.language import DEFAULT, translations
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
    language = sender.language  # the answer's reader
    _ = translations(language).gettext

    def rating(value: int) -> str:
        return _("rating %(rating)s") % {"rating": scale.label(value) if scale else str(value)}

    if form == FormKind.SELF:
        if _closed(review.self_state, "Your self-review", review.self_at, result, review,
                   language):
            return result
        if not any((answer.wins, answer.misses, answer.next, answer.rating is not None)):
            return _nothing(result, "self-review", _(
                "write wins:, misses: and next: at the top of your reply, e.g. wins: shipped "
                "the billing flow"), language)
        review.self_wins, review.self_misses, review.self_next = (
            answer.wins, answer.misses, answer.next)
        review.self_rating = answer.rating
        review.self_state, review.self_at = StepState.DONE.value, now
        review.self_message_id = inbound_id
        parts = [name for name, value in (("wins", answer.wins), ("misses", answer.misses),
                                          ("next", answer.next)) if value]
        if answer.rating is not None:
            parts.append(rating(answer.rating))
        manager = review.manager.name if review.manager else _("your manager")
        result.done.append(_("Your %(period)s self-review is recorded (%(parts)s); %(manager)s "
                             "gets it with your figures.") % {
            "period": label, "parts": ", ".join(parts), "manager": manager})
    elif form == FormKind.MANAGER:
        if _closed(review.manager_state, f"Your review of {review.employee.name}",
                   review.manager_at, result, review, language):
            return result
        if (scale is not None or not answer.comment) and answer.rating is None:
            need = "rating: N and comment:" if scale else "comment:"
            return _nothing(result, "review", _("write %(form)s at the top of your reply") % {
                "form": need}, language)
        review.manager_rating, review.manager_comment = answer.rating, answer.comment
        review.manager_state, review.manager_at = StepState.DONE.value, now
        review.manager_message_id = inbound_id
        shown = [rating(answer.rating)] if answer.rating is not None else []
        shown += [_("comment")] if answer.comment else []
        result.done.append(_("Your %(period)s review of %(name)s is recorded (%(parts)s); "
                             "%(name)s is asked to acknowledge it.") % {
            "period": label, "name": review.employee.name, "parts": ", ".join(shown)})
    elif form == FormKind.ACK:
        if review.ack_state != AckState.WAITING.value:
            result.refused.append(("acknowledgement", _ack_closed(review, language)))
            return result
        if not answer.agree and not answer.dispute:
            return _nothing(result, "acknowledgement", _(
                "write agree, or dispute: what you disagree with"), language)
        review.ack_at = now
        if answer.agree:
            review.ack_state = AckState.AGREED.value
            result.done.append(_("You agreed with your %(period)s review. Thank you.") % {
                "period": label})
        else:
            review.ack_state, review.dispute_text = AckState.DISPUTED.value, answer.dispute
            hr = hr_people(session)
            result.new_rows += _added(session, [
                form_row(review.cycle, review, "dispute", person, now, domain)
                for person in hr])
            words = {"period": label, "num": len(hr)}
            result.done.append((translations(language).ngettext(
                "Your dispute of your %(period)s review is recorded and was sent to HR "
                "(%(num)d person); it stays open until HR resolves it.",
                "Your dispute of your %(period)s review is recorded and was sent to HR "
                "(%(num)d people); it stays open until HR resolves it.", len(hr)) if hr else _(
                "Your dispute of your %(period)s review is recorded and is listed for HR (no "
                "one is flagged HR in Drumbeat yet, so no mail went out; tell your HR team); "
                "it stays open until HR resolves it.")) % words)
    else:
        if review.ack_state != AckState.DISPUTED.value:
            result.refused.append(("resolved:", _("this dispute is already resolved")
                                   if review.ack_state == AckState.RESOLVED.value
                                   else _("this review is not disputed")))
            return result
        if not answer.resolved:
            return _nothing(result, "resolution", _("write resolved: what was decided"),
                            language)
        review.ack_state, review.resolution_text = AckState.RESOLVED.value, answer.resolved
        review.resolved_by_id, review.resolved_at = sender.id, now
        result.done.append(_("The dispute of %(possessive)s %(period)s review is resolved.") % {
            "possessive": f"{review.employee.name}'s", "name": review.employee.name,
            "period": label})
    review.updated_at = now
    session.flush()
    result.new_rows += _added(session, step_rows(
        session, review.cycle, review, cycle_dates(review.cycle), now, domain))
    return result


def _added(session: Session, rows: Sequence[OutboxRow]) -> list[AddedRow]:
    """Add rows one by one, so each id is known with its row (a few per answer)."""
    return [AddedRow(outbox_id, row) for row in rows
            for outbox_id in outbox.add_rows(session, [row])]


def _nothing(result: ReviewOutcome, what: str, form: str,
             language: str = DEFAULT) -> ReviewOutcome:
    if not result.not_understood:
        _ = translations(language).gettext
        found = {"self-review": _("I found no self-review in your message"),
                 "review": _("I found no review in your message"),
                 "acknowledgement": _("I found no acknowledgement in your message"),
                 "resolution": _("I found no resolution in your message")}[what]
        result.not_understood.append((f"({what})", f"{found}; {form}"))
    return result


def _closed(state: str, what: str, at: datetime | None, result: ReviewOutcome,
            review: Review, language: str = DEFAULT) -> bool:
    """Refuse an answer to a step that no longer waits (answered, or missed)."""
    if state == StepState.WAITING.value:
        return False
    _ = translations(language).gettext
    own = what.startswith("Your self")
    said = _("Your self-review") if own else _("Your review of %(name)s") % {
        "name": review.employee.name}
    if state == StepState.DONE.value and at is not None:
        reason = _("%(what)s was recorded on %(day)s; it stays as written. Ask HR if "
                   "something in it is wrong.") % {"what": said,
                                                   "day": day_words(at.date(), language)}
    else:
        dates = cycle_dates(review.cycle)
        last = dates.self_due if own else dates.manager_due
        reason = _("%(what)s was due by %(day)s and is recorded as missed.") % {
            "what": said, "day": day_words(last, language)}
    result.refused.append((what.split(" ", 1)[1], reason))
    return True


def _ack_closed(review: Review, language: str = DEFAULT) -> str:
    _ = translations(language).gettext
    state = review.ack_state
    if state in (AckState.AGREED.value, AckState.DISPUTED.value, AckState.RESOLVED.value):
        return _("you answered this on %(day)s") % {
            "day": day_words(review.ack_at.date(), language)} if review.ack_at \
            else _("already answered")
    if state == AckState.MISSED.value:
        return _("the acknowledgement was due by %(day)s and is recorded as missed") % {
            "day": day_words(cycle_dates(review.cycle).deadline, language)}
    return _("there is no review to acknowledge yet")
