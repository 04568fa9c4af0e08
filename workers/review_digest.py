"""The period's review cycle in the digests: one query, then pure builders per copy.

``load_cycle`` reads the cycle and its reviews (with the employee's and the
manager's names) in one statement, however many people: all of them for HR,
a manager's reports (``Review.manager_id``: the manager when the cycle opened)
for their digest, one person's for theirs. The builders then decide what each
copy may show, so privacy holds by construction:

* HR: every review's states and ratings, completion and calibration by
  manager, and the open disputes' first lines; no comment or self-review text;
* a manager: their reports' states and ratings, nobody else's;
* an employee: their own review; the manager's rating and comment only once
  the manager step is done.

Calibration puts each manager's ratings (counted per level of the cycle's scale,
``mail.write.digest.parse_scale``) beside the mean and median of their reviewed
reports' own goal progress at the period's end and check-in adherence, the
figures the digest already shows per person. A scale that no longer parses
falls back to the ratings given; a cycle without a scale has no calibration.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from statistics import median

from sqlalchemy import case, null, select
from sqlalchemy.orm import Session, aliased

from mail.write.digest import (
    CalibrationRow,
    CycleCompletion,
    CycleSummary,
    OpenDispute,
    PersonFigures,
    RatingLevel,
    ReviewFigures,
    parse_scale,
)
from models.people import Person
from models.reviews import AckState, Review, ReviewCycle, StepState

__all__ = ["CycleRows", "ReviewRow", "cycle_for", "employee_cycle", "hr_cycle", "load_cycle",
           "manager_cycle"]

DISPUTE_CHARS = 200  # of a dispute's first line, in HR's table
DONE = StepState.DONE.value
MISSED = StepState.MISSED.value


@dataclass(frozen=True)
class ReviewRow:
    """One review as read: what any copy might need of it."""

    employee_id: int
    employee_name: str
    manager_id: int | None
    manager_name: str | None
    self_state: str
    manager_state: str
    ack_state: str
    self_rating: int | None
    manager_rating: int | None
    manager_comment: str | None
    dispute_text: str | None
    ack_at: datetime | None


@dataclass(frozen=True)
class CycleRows:
    """A period's cycle and the reviews one digest may draw on."""

    period_label: str
    opened: date
    deadline: date
    closed: bool
    scale: tuple[RatingLevel, ...]
    reviews: tuple[ReviewRow, ...]


def load_cycle(session: Session, period_label: str, *, manager_id: int | None = None,
               employee_id: int | None = None) -> CycleRows | None:
    """The cycle of ``period_label`` with its reviews (all, a manager's reports' or one
    employee's), in one query; None when the period has no cycle."""
    employee, manager = aliased(Person), aliased(Person)
    joined = (Review.cycle_id == ReviewCycle.id)
    if manager_id is not None:
        joined &= Review.manager_id == manager_id
    if employee_id is not None:
        joined &= Review.employee_id == employee_id
    # Texts only where a copy shows them: the comment in the employee's own, an open
    # dispute's (first line) in HR's; 10,000 comments need not cross the wire for HR.
    comment = (Review.manager_comment if employee_id is not None
               else null().label("manager_comment"))
    dispute = case((Review.ack_state == AckState.DISPUTED.value, Review.dispute_text),
                   else_=null()).label("dispute_text")
    rows = session.execute(
        select(ReviewCycle.opened_at, ReviewCycle.deadline, ReviewCycle.closed_at,
               ReviewCycle.scale, Review.employee_id, employee.name.label("employee_name"),
               Review.manager_id, manager.name.label("manager_name"), Review.self_state,
               Review.manager_state, Review.ack_state, Review.self_rating,
               Review.manager_rating, comment, dispute, Review.ack_at)
        .select_from(ReviewCycle)
        .outerjoin(Review, joined)
        .outerjoin(employee, employee.id == Review.employee_id)
        .outerjoin(manager, manager.id == Review.manager_id)
        .where(ReviewCycle.period_label == period_label)
        .order_by(Review.id)).all()
    if not rows:
        return None
    first = rows[0]
    reviews = tuple(ReviewRow(
        r.employee_id, r.employee_name, r.manager_id, r.manager_name, r.self_state,
        r.manager_state, r.ack_state, r.self_rating, r.manager_rating, r.manager_comment,
        r.dispute_text, r.ack_at) for r in rows if r.employee_id is not None)
    return CycleRows(period_label, first.opened_at.date(), first.deadline,
                     first.closed_at is not None, _scale(first.scale, reviews), reviews)


def _scale(text: str | None, reviews: Iterable[ReviewRow]) -> tuple[RatingLevel, ...]:
    try:
        return parse_scale(text)
    except ValueError:  # the cycle keeps its scale's text; show the ratings given
        given = {r for review in reviews for r in (review.self_rating, review.manager_rating)
                 if r is not None}
        return tuple(RatingLevel(value) for value in sorted(given))


# --- the copies (pure) ------------------------------------------------------------------


def _figures(row: ReviewRow, *, own: bool = False) -> ReviewFigures:
    shown = own and row.manager_state == DONE
    return ReviewFigures(
        row.employee_id, row.employee_name, row.manager_name, row.self_state,  # type: ignore[arg-type]
        row.manager_state, row.ack_state, row.self_rating,  # type: ignore[arg-type]
        row.manager_rating if (not own or shown) else None,
        row.manager_comment if shown else None)


def _summary(rows: CycleRows, reviews: Iterable[ReviewFigures], **tables: object
             ) -> CycleSummary:
    return CycleSummary(rows.period_label, rows.opened, rows.deadline, rows.closed, rows.scale,
                        tuple(reviews), **tables)  # type: ignore[arg-type]


def hr_cycle(rows: CycleRows, people: Mapping[int, PersonFigures]) -> CycleSummary:
    """HR's copy: every review, completion and calibration by manager, open disputes."""
    teams: dict[int, list[ReviewRow]] = defaultdict(list)
    for row in rows.reviews:
        if row.manager_id is not None:
            teams[row.manager_id].append(row)
    completion = [_completion(team) for team in teams.values()]
    calibration = [_calibration(team, rows.scale, people) for team in teams.values()]
    disputes = [_dispute(row) for row in rows.reviews if row.ack_state == AckState.DISPUTED]
    return _summary(rows, (_figures(row) for row in rows.reviews),
                    completion=tuple(completion), disputes=tuple(disputes),
                    calibration=tuple(calibration))


def manager_cycle(rows: CycleRows, manager_id: int) -> CycleSummary:
    """A manager's copy: their reports' reviews only (states and ratings)."""
    return _summary(rows, (_figures(row) for row in rows.reviews
                           if row.manager_id == manager_id))


def employee_cycle(rows: CycleRows, person_id: int) -> CycleSummary:
    """An employee's copy: their own review only."""
    return _summary(rows, (_figures(row, own=True) for row in rows.reviews
                           if row.employee_id == person_id))


def _completion(team: Sequence[ReviewRow]) -> CycleCompletion:
    def count(attribute: str, *states: str) -> int:
        return sum(1 for row in team if getattr(row, attribute) in states)

    return CycleCompletion(
        team[0].manager_name or "?", len(team), count("self_state", DONE),
        count("self_state", MISSED), count("manager_state", DONE),
        count("manager_state", MISSED),
        count("ack_state", AckState.AGREED.value, AckState.RESOLVED.value),
        count("ack_state", AckState.DISPUTED.value), count("ack_state", AckState.MISSED.value))


def _calibration(team: Sequence[ReviewRow], scale: Sequence[RatingLevel],
                 people: Mapping[int, PersonFigures]) -> CalibrationRow:
    levels = [level.value for level in scale]
    ratings = [row.manager_rating for row in team if row.manager_rating in levels]
    figures = [people[row.employee_id] for row in team if row.employee_id in people]
    goals = [p.goal_progress_end for p in figures if p.goal_progress_end is not None]
    adherence = [p.adherence for p in figures if p.adherence is not None]
    return CalibrationRow(
        team[0].manager_name or "?", len(team), len(ratings),
        tuple(ratings.count(value) for value in levels),
        _round(sum(ratings) / len(ratings)) if ratings else None,  # type: ignore[arg-type]
        _round(sum(goals) / len(goals)) if goals else None,
        _round(median(goals)) if goals else None,
        _round(sum(adherence) / len(adherence)) if adherence else None,
        _round(median(adherence)) if adherence else None)


def _round(value: float) -> float:
    return round(float(value), 1)


def _dispute(row: ReviewRow) -> OpenDispute:
    lines = [" ".join(line.split()) for line in (row.dispute_text or "").splitlines()]
    first = next((line for line in lines if line), "(no reason given)")
    if len(first) > DISPUTE_CHARS:
        first = first[:DISPUTE_CHARS - 1].rstrip() + "…"
    return OpenDispute(row.employee_name, row.manager_name, first,
                       row.ack_at.date() if row.ack_at else None)


# --- for a digest ------------------------------------------------------------------------


def cycle_for(session: Session, kind: str, period_label: str,
              people: Mapping[int, PersonFigures], recipient_id: int | None
              ) -> CycleSummary | None:
    """The cycle one digest shows (``kind``: hr, manager or employee), in one query;
    None when the period has no cycle."""
    if kind == "hr":
        rows = load_cycle(session, period_label)
        return None if rows is None else hr_cycle(rows, people)
    assert recipient_id is not None
    if kind == "manager":
        rows = load_cycle(session, period_label, manager_id=recipient_id)
        return None if rows is None else manager_cycle(rows, recipient_id)
    rows = load_cycle(session, period_label, employee_id=recipient_id)
    return None if rows is None else employee_cycle(rows, recipient_id)
