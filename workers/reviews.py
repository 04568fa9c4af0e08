"""The review cycle by email: open it when a reviewed period's figures are snapshotted,
then every tick move each review along and remind whoever holds it up.

    closed period, figures snapshotted (``workers/digests.py``) → ReviewCycle with one
    Review per active employee with a manager → self-review forms → (answered or
    missed) manager forms → (answered) acknowledgement forms → agree, or a dispute
    mailed to HR at once, open until HR writes ``resolved:``

The rules (which step is due, missed, reminded) are ``models/review_cycle.py``'s; this
module reads the rows, asks, and writes what the answer says. Every email is an outbox
row of kind ``review`` keyed ``review:PERIOD:FORM:REVIEW[:remind-N][:HR]`` before
anything is queued, so a tick run twice sends nothing twice. The row's context names the
review and the form, which is how a reply to it is read (``workers/review_answers.py``).

The review sits beside the figures: a Review is found from an Evaluation by its person
and period label (``review_for``); the snapshot itself is never rewritten, so a sent
digest stays as sent while the review moves on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from config.review_scale import RatingScale, parse_scale
from mail.write.compose import make_message_id
from mail.write.review_mail import ReviewFormContext
from models.evaluations import Evaluation
from models.people import Person
from models.review_cycle import (
    CycleDates,
    DueKind,
    ReviewState,
    Step,
    advance,
    holder,
    reminder_due,
)
from models.reviews import AckState, Review, ReviewCycle, StepState
from workers import outbox
from workers.evaluations import closed_windows
from workers.outbox import OutboxRow

REVIEW = "review"
FORM_OF_STEP = {Step.SELF: "self", Step.MANAGER: "manager", Step.ACK: "ack",
                Step.RESOLVE: "dispute"}


def cycle_dates(cycle: ReviewCycle) -> CycleDates:
    """A cycle's fixed days, from its row (the step length is the deadline's third)."""
    step_days = max(1, (cycle.deadline - cycle.period_end).days // 3)
    return CycleDates(cycle.opened_at.date(), cycle.period_end, step_days)


def state_of(review: Review) -> ReviewState:
    return ReviewState(StepState(review.self_state), StepState(review.manager_state),
                       AckState(review.ack_state),
                       review.self_at.date() if review.self_at else None,
                       review.manager_at.date() if review.manager_at else None)


def review_for(session: Session, evaluation: Evaluation) -> Review | None:
    """The review beside an Evaluation snapshot: same person, same period."""
    return session.scalar(select(Review).join(ReviewCycle).where(
        Review.employee_id == evaluation.person_id,
        ReviewCycle.period_label == evaluation.period_label))


# --- the outbox rows ---------------------------------------------------------------------


def form_row(cycle: ReviewCycle, review: Review, form: str, recipient: Person, now: datetime,
             domain: str, reminder: int = 0) -> OutboxRow:
    """The outbox row of one review email (``form``: self, manager, ack or dispute)."""
    key = f"{REVIEW}:{cycle.period_label}:{form}:{review.id}"
    if reminder:
        key += f":remind-{reminder}"
    if form == "dispute":
        key += f":{recipient.id}"
    context = ReviewFormContext(review.id, cycle.id, form, cycle.period_label, reminder,
                                cycle.scale)
    return OutboxRow(dedupe_key=key, kind=REVIEW, recipient_id=recipient.id,
                     to_address=recipient.email, subject=f"{cycle.period_label} review",
                     message_id=make_message_id(domain, REVIEW), created_at=now,
                     context=context.to_json())


def recipient_of(session: Session, review: Review, step: Step) -> list[Person]:
    """Who a step's email goes to: the employee, the manager, or every HR person."""
    if step in (Step.SELF, Step.ACK):
        return [review.employee]
    if step == Step.MANAGER:
        return [review.manager] if review.manager is not None else []
    return hr_people(session)


def hr_people(session: Session) -> list[Person]:
    """HR, as the digests find it: everyone flagged ``hr``."""
    return list(session.scalars(select(Person).where(Person.is_hr.is_(True))
                                .order_by(Person.id)))


# --- opening --------------------------------------------------------------------------------


def open_cycles(session: Session, now: datetime, *, domain: str, fiscal_year_start_month: int,
                delay_days: int, kinds: Iterable[str], step_days: int,
                scale: RatingScale | None) -> list[int]:
    """Open the cycle of every reviewed period whose figures are snapshotted and which has
    none yet; one Review per employee with a manager, active at the period's end. Returns
    the outbox ids of the self-review forms."""
    wanted = set(kinds)
    created: list[int] = []
    for window in closed_windows(now.date(), fiscal_year_start_month, delay_days):
        if window.kind not in wanted or session.scalar(select(ReviewCycle.id).where(
                ReviewCycle.period_label == window.label)) is not None:
            continue
        snapshotted = list(session.scalars(select(Evaluation.person_id).where(
            Evaluation.period_label == window.label)))
        if not snapshotted:
            continue  # the digests snapshot first; the cycle opens on a later tick
        dates = CycleDates(now.date(), window.end, step_days)
        cycle = ReviewCycle(period_kind=window.kind, period_label=window.label,
                            period_start=window.start, period_end=window.end, opened_at=now,
                            deadline=dates.deadline, scale=scale.text if scale else None)
        session.add(cycle)
        session.flush()
        people = session.scalars(select(Person).where(
            Person.id.in_(snapshotted), Person.manager_id.is_not(None)).order_by(Person.id))
        reviews = [Review(cycle_id=cycle.id, employee_id=p.id, manager_id=p.manager_id,
                          self_state=StepState.WAITING.value,
                          manager_state=StepState.PENDING.value,
                          ack_state=AckState.PENDING.value, updated_at=now)
                   for p in people if p.is_active_on(window.end)]
        session.add_all(reviews)
        session.flush()
        created += outbox.add_rows(session, [
            form_row(cycle, review, "self", review.employee, now, domain)
            for review in reviews])
    return created


# --- every tick -----------------------------------------------------------------------------


def move_along(session: Session, now: datetime, *, domain: str, remind_days: int
               ) -> list[int]:
    """Every open cycle's reviews on ``now``'s day: steps past their day missed, forms
    whose turn came, reminders owed. A cycle with nothing left waiting is closed. The
    scheduler asks every tick; each cycle is looked at once a day (``checked_on``)."""
    created: list[int] = []
    today = now.date()
    for cycle in session.scalars(select(ReviewCycle).where(
            ReviewCycle.closed_at.is_(None),
            or_(ReviewCycle.checked_on.is_(None), ReviewCycle.checked_on < today))):
        cycle.checked_on = today
        dates = cycle_dates(cycle)
        rows: list[OutboxRow] = []
        still_open = False
        for review in session.scalars(
                select(Review).where(Review.cycle_id == cycle.id).order_by(Review.id)
                .options(selectinload(Review.employee), selectinload(Review.manager))):
            rows += step_rows(session, cycle, review, dates, now, domain)
            reminded = review.last_reminded_at.date() if review.last_reminded_at else None
            owed = reminder_due(state_of(review), dates, today, remind_days, reminded)
            if owed is not None:
                step, number = owed
                rows += [form_row(cycle, review, FORM_OF_STEP[step], person, now, domain,
                                  reminder=number)
                         for person in recipient_of(session, review, step)
                         if person.is_active_on(today)]
                review.last_reminded_at = now
            still_open = still_open or _waiting(review)
        created += outbox.add_rows(session, rows)
        if not still_open:
            cycle.closed_at = now
    return created


def step_rows(session: Session, cycle: ReviewCycle, review: Review, dates: CycleDates,
              now: datetime, domain: str) -> list[OutboxRow]:
    """Bring one review up to ``now``'s day (missed steps, next forms); the rows of the
    forms that are now due. Called by the tick and right after an answer is stored."""
    before = state_of(review)
    after, due = advance(before, dates, now.date())
    if after == before:
        return []
    review.self_state, review.manager_state = after.self_state.value, after.manager_state.value
    review.ack_state, review.updated_at = after.ack_state.value, now
    return [form_row(cycle, review, FORM_OF_STEP[d.step], person, now, domain)
            for d in due if d.kind == DueKind.FORM
            for person in recipient_of(session, review, d.step)]


def _waiting(review: Review) -> bool:
    return holder(state_of(review)) is not None


def dispatch_due(session: Session, now: datetime, *, domain: str, fiscal_year_start_month: int,
                 delay_days: int, kinds: Iterable[str], step_days: int, remind_days: int,
                 scale_text: str) -> list[int]:
    """The scheduler's entry point: open new cycles, then move every open one along."""
    kinds = frozenset(kinds)
    ids: list[int] = []
    if kinds:
        ids += open_cycles(session, now, domain=domain,
                           fiscal_year_start_month=fiscal_year_start_month,
                           delay_days=delay_days, kinds=kinds, step_days=step_days,
                           scale=parse_scale(scale_text))
    ids += move_along(session, now, domain=domain, remind_days=remind_days)
    return ids
