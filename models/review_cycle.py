"""The review cycle's rules, pure: who holds a review up, and what is due on a day.

A review moves through three steps (``models/reviews.py``): the employee's
self-review, the manager's review, the employee's acknowledgement. Each step has
an answer window of ``DRUMBEAT_REVIEW_STEP_DAYS`` days counted from the period's
end, so the dates are known when the cycle opens and never move:

    self-review due      period end + 1 × step days
    manager review due   period end + 2 × step days
    acknowledgement due  period end + 3 × step days   (the cycle's deadline)

A step is answerable on its due day and missed the day after. A missed
self-review does not block the cycle: the manager reviews without it. A missed
manager review ends the review (there is nothing to acknowledge). A dispute has no
deadline: it is HR's until HR writes ``resolved:``.

Reminders go every ``DRUMBEAT_REVIEW_REMIND_DAYS`` to whoever holds the review up,
counted from the day their step began, up to the step's due day; each is numbered,
so the outbox's dedupe key sends each once however often the scheduler asks.

Everything here is a function of plain values: the worker reads the rows, asks,
and writes what the answer says.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from models.reviews import AckState, StepState

__all__ = ["CycleDates", "Due", "DueKind", "ReviewState", "Step", "advance", "holder",
           "reminder_due", "standing"]


class Step(StrEnum):
    """A step of a review, named as in outbox kinds and dedupe keys."""

    SELF = "self"
    MANAGER = "manager"
    ACK = "ack"
    RESOLVE = "resolve"  # HR, after a dispute


ANSWERED_BY = {Step.SELF: "employee", Step.MANAGER: "manager", Step.ACK: "employee",
               Step.RESOLVE: "hr"}


@dataclass(frozen=True)
class CycleDates:
    """A cycle's fixed days: when it opened and each step's last day."""

    opened: date
    period_end: date
    step_days: int

    @property
    def self_due(self) -> date:
        return self.period_end + timedelta(days=self.step_days)

    @property
    def manager_due(self) -> date:
        return self.period_end + timedelta(days=2 * self.step_days)

    @property
    def deadline(self) -> date:
        """The acknowledgement's last day, and so the cycle's (``ReviewCycle.deadline``)."""
        return self.period_end + timedelta(days=3 * self.step_days)

    def due(self, step: Step) -> date | None:
        """The last day a step may be answered (None: a dispute waits for HR)."""
        return {Step.SELF: self.self_due, Step.MANAGER: self.manager_due,
                Step.ACK: self.deadline}.get(step)


@dataclass(frozen=True)
class ReviewState:
    """One review's states and the days its answers came (None: not answered)."""

    self_state: StepState = StepState.WAITING
    manager_state: StepState = StepState.PENDING
    ack_state: AckState = AckState.PENDING
    self_on: date | None = None
    manager_on: date | None = None


class DueKind(StrEnum):
    FORM = "form"  # send this step's form
    MISSED = "missed"  # record the step as missed


@dataclass(frozen=True)
class Due:
    """Something the worker must do for one review."""

    kind: DueKind
    step: Step


def holder(state: ReviewState) -> Step | None:
    """The step the review waits on (and so who holds it up), or None when it is over."""
    if state.self_state == StepState.WAITING:
        return Step.SELF
    if state.manager_state == StepState.WAITING:
        return Step.MANAGER
    if state.ack_state == AckState.WAITING:
        return Step.ACK
    if state.ack_state == AckState.DISPUTED:
        return Step.RESOLVE
    return None


def advance(state: ReviewState, dates: CycleDates, today: date
            ) -> tuple[ReviewState, tuple[Due, ...]]:
    """The state on ``today`` and what that takes: steps past their last day become
    missed, and a step whose turn has come gets its form. Idempotent: advancing the
    result again on the same day changes nothing and asks for nothing."""
    done: list[Due] = []
    if state.self_state == StepState.WAITING and today > dates.self_due:
        state = replace(state, self_state=StepState.MISSED)
        done.append(Due(DueKind.MISSED, Step.SELF))
    if state.manager_state == StepState.PENDING and state.self_state in (
            StepState.DONE, StepState.MISSED):
        state = replace(state, manager_state=StepState.WAITING)
        done.append(Due(DueKind.FORM, Step.MANAGER))
    if state.manager_state == StepState.WAITING and today > dates.manager_due:
        state = replace(state, manager_state=StepState.MISSED)
        done.append(Due(DueKind.MISSED, Step.MANAGER))
    if state.ack_state == AckState.PENDING and state.manager_state == StepState.DONE:
        state = replace(state, ack_state=AckState.WAITING)
        done.append(Due(DueKind.FORM, Step.ACK))
    if state.ack_state == AckState.WAITING and today > dates.deadline:
        state = replace(state, ack_state=AckState.MISSED)
        done.append(Due(DueKind.MISSED, Step.ACK))
    return state, tuple(done)


def began(state: ReviewState, dates: CycleDates, step: Step) -> date:
    """The day a step's form went out: reminders count from it."""
    if step == Step.SELF:
        return dates.opened
    if step == Step.MANAGER:
        return state.self_on or dates.self_due + timedelta(days=1)
    return state.manager_on or dates.manager_due


def reminder_due(state: ReviewState, dates: CycleDates, today: date, remind_days: int,
                 last_reminded: date | None = None) -> tuple[Step, int] | None:
    """The reminder owed on ``today``: the waiting step and the reminder's number (1, 2,
    …), every ``remind_days`` from the day the step began, up to its last day. None
    when nothing is owed: none is due yet, this one went out already (``last_reminded``
    is on or after its day), or the review waits on a dispute, which is mailed to HR at
    once and not reminded."""
    step = holder(state)
    due = dates.due(step) if step is not None else None
    if step is None or due is None or today > due:
        return None
    start = began(state, dates, step)
    number = (today - start).days // remind_days
    if number < 1:
        return None
    if last_reminded is not None and last_reminded >= start + timedelta(
            days=number * remind_days):
        return None
    return step, number


def standing(state: ReviewState, has_self_review: bool = True) -> str:
    """One review in a few words, for ``drumbeat review status``."""
    step = holder(state)
    if step is not None:
        return {Step.SELF: "waiting on the employee (self-review)",
                Step.MANAGER: "waiting on the manager" + (
                    "" if has_self_review and state.self_state == StepState.DONE
                    else " (no self-review)"),
                Step.ACK: "waiting on the employee (acknowledgement)",
                Step.RESOLVE: "disputed: waiting on HR"}[step]
    if state.manager_state == StepState.MISSED:
        return "manager review missed"
    return {AckState.AGREED: "agreed", AckState.RESOLVED: "dispute resolved",
            AckState.MISSED: "acknowledgement missed"}.get(state.ack_state, "open")
