"""Rendering the review cycle's outbox rows when they are sent: the view of one review
email, read from its Review row and the employee's Evaluation snapshot.

A row is rendered once (its words are stored on it), so the manager's form shows the
self-review as it was when the form went out, and the reply reader later knows the
form's exact text. Each email carries one review only (``mail/write/review_mail.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.review_scale import RatingScale, parse_scale
from mail.write.compose import AttachedFile, InlineImage
from mail.write.digest import PersonFigures
from mail.write.language import DEFAULT
from mail.write.render import RenderedEmail
from mail.write.review_mail import (
    ReviewFormContext,
    ReviewMailView,
    ReviewTexts,
    render_review_mail,
)
from models.evaluations import Evaluation
from models.mailbox import OutboundMessage
from models.people import Person
from models.review_cycle import Step
from models.reviews import Review, StepState
from workers.reviews import REVIEW, cycle_dates

if TYPE_CHECKING:  # the runtime lists this module's renderers
    from workers.runtime import Runtime

_DUE_STEP = {"self": Step.SELF, "manager": Step.MANAGER, "ack": Step.ACK,
             "dispute": Step.RESOLVE}


def texts_of(review: Review, scale: RatingScale | None) -> ReviewTexts:
    """What one review says so far, as a view shows it."""
    def rating(value: int | None) -> str | None:
        if value is None:
            return None
        return scale.label(value) if scale else str(value)
    return ReviewTexts(
        wins=review.self_wins, misses=review.self_misses, next=review.self_next,
        self_rating=rating(review.self_rating),
        self_missed=review.self_state == StepState.MISSED.value,
        manager_rating=rating(review.manager_rating), manager_comment=review.manager_comment,
        dispute=review.dispute_text)


def figures_of(session: Session, review: Review) -> PersonFigures | None:
    """The employee's figures as snapshotted for the cycle's period."""
    stored = session.scalar(select(Evaluation.figures).where(
        Evaluation.person_id == review.employee_id,
        Evaluation.period_label == review.cycle.period_label))
    return PersonFigures.from_json(stored) if stored else None


def view_for_row(session: Session, row: OutboundMessage) -> ReviewMailView:
    context = ReviewFormContext.from_json(row.context)
    assert context is not None, f"outbox {row.id} names no review form"
    review = session.get(Review, context.review_id)
    assert review is not None, f"outbox {row.id} names a review that is gone"
    cycle, form = review.cycle, context.form
    scale = parse_scale(context.scale or cycle.scale)
    recipient = session.get(Person, row.recipient_id) if row.recipient_id else None
    with_figures = form in ("self", "manager")
    return ReviewMailView(
        form=form, period_label=cycle.period_label, period_start=cycle.period_start,
        period_end=cycle.period_end,
        recipient_name=recipient.name if recipient else "HR",
        employee_name=review.employee.name,
        manager_name=review.manager.name if review.manager else None,
        answer_by=cycle_dates(cycle).due(_DUE_STEP[form]),
        scale=scale.steps if scale and form in ("self", "manager") else (),
        figures=figures_of(session, review) if with_figures else None,
        texts=texts_of(review, scale), reminder=context.reminder,
        locale=recipient.language if recipient else DEFAULT)


def _rendered(session: Session, row: OutboundMessage, rt: Runtime
              ) -> tuple[RenderedEmail, tuple[InlineImage, ...]]:
    """Rendered once per row and process: words and charts from one view."""
    return rt.rendered_once(REVIEW, row.id,
                            lambda: render_review_mail(view_for_row(session, row)))


def render_review_row(session: Session, row: OutboundMessage, rt: Runtime) -> RenderedEmail:
    """A review email's words, when it is first sent."""
    return _rendered(session, row, rt)[0]


def review_parts(session: Session, row: OutboundMessage, rt: Runtime
                 ) -> tuple[tuple[InlineImage, ...], tuple[AttachedFile, ...]]:
    """A form's charts (made again on a retry, from the same stored figures)."""
    return _rendered(session, row, rt)[1], ()
