"""What an evaluation digest shows, as plain data: the contract between the figures
(``workers/evaluations.py`` computes them from the database) and the renderers
(``mail/write/digest_render.py``: text, HTML, charts, CSV).

Every number a digest prints is a field here, so the email, the CSV, the
Evaluation snapshot and ``drumbeat status`` can be checked against each other.
Percentages are 0..100 with one decimal (``models.scoring._percent``); None
means "nothing to judge" (no goals, no tasks due, no check-in expected) and is
printed as a dash, never as 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Literal

from config.review_scale import RatingScale
from config.review_scale import parse_scale as parse_rating_scale

CheckinState = Literal["held", "confirmed", "excused", "disputed", "missed", "upcoming",
                       "inactive", "untracked"]
DigestKind = Literal["hr", "manager", "employee"]
# The values of models.reviews.StepState and AckState (mail/ does not import models/).
StepWord = Literal["pending", "waiting", "done", "missed"]
AckWord = Literal["pending", "waiting", "agreed", "disputed", "resolved", "missed"]


@dataclass(frozen=True)
class GoalLine:
    """One goal a person owns or contributes to (owns a task under it)."""

    ref: str  # "G-3"
    title: str
    owner_name: str
    owned: bool  # False: contributed to
    progress_start: float | None
    progress_end: float | None
    expected: float | None  # % of the goal's time elapsed at the period's end (None: no due)
    at_risk: bool  # behind the time elapsed
    # A measurable goal (``metric`` set): ``progress_*`` are its measure's share of the way
    # from ``metric_start`` to ``metric_target``; its figure at the period's end and its
    # tasks' roll-up at both edges are shown beside them. None for any other goal.
    metric: str | None = None  # "ARR"
    unit: str | None = None  # "€"
    metric_start: float | None = None
    metric_target: float | None = None
    value_end: float | None = None  # the figure at the period's end (None: not measured yet)
    rolled_start: float | None = None  # its projects' tasks rolled up, 0..100
    rolled_end: float | None = None

    @property
    def tasks_end(self) -> float | None:
        """The goal's tasks rolled up at the period's end: beside a measure, its
        ``rolled_end``; without one that is its progress."""
        return self.rolled_end if self.metric is not None else self.progress_end


_PLAIN_GOAL = 8  # a goal line's fields before the measure's: all a goal without one stores


@dataclass(frozen=True)
class CheckinMark:
    """One cadence period of a pair, for the timeline chart."""

    period_start: date
    state: CheckinState


@dataclass(frozen=True)
class PersonFigures:
    """One person's figures for one period: what an Evaluation row stores."""

    person_id: int
    name: str
    email: str
    manager_name: str | None
    active_from: date | None
    active_to: date | None
    initiatives: tuple[str, ...]  # titles of the initiatives of their goals
    goals_owned: int
    goals_contributed: int
    goal_progress_start: float | None  # mean over the goals listed in ``goals``
    goal_progress_end: float | None
    goals: tuple[GoalLine, ...]
    tasks_due: int
    tasks_done: int
    tasks_done_on_time: int
    tasks_overdue: int
    tasks_blocked: int
    on_time_rate: float | None
    checkins_expected: int
    checkins_held: int
    checkins_confirmed: int  # held and confirmed by both
    checkins_excused: int
    adherence: float | None
    longest_gap_days: int | None
    last_checkin: date | None
    days_since_checkin: int | None  # at the period's end (or since joining when never)
    timeline: tuple[CheckinMark, ...]  # with their manager
    reports: int = 0  # direct reports
    team_adherence: float | None = None  # held / expected over all their direct reports
    # Expected periods whose 1:1 the two sides logged differently (held / not held):
    # counted as expected and not held until they agree.
    checkins_disputed: int = 0
    # Of checkins_excused, who gave the excuse (older records may say neither).
    checkins_excused_by_manager: int = 0
    checkins_excused_by_employee: int = 0
    # The day the check-in record counts from (the pair's tracking start); None: no limit.
    tracked_since: date | None = None

    @property
    def goals_at_risk(self) -> tuple[GoalLine, ...]:
        return tuple(goal for goal in self.goals if goal.at_risk)

    @property
    def goal_tasks_end(self) -> float | None:
        """``goal_progress_end`` with each measurable goal's tasks rolled up in place of its
        measure (the same mean when none of the goals has a metric)."""
        known = [tasks for tasks in (goal.tasks_end for goal in self.goals) if tasks is not None]
        return round(sum(known) / len(known), 1) if known else None

    def to_json(self) -> dict[str, Any]:
        """JSON-safe (ISO dates), for ``Evaluation.figures`` (by hand: ``asdict`` deep-copies
        and is the slowest part of snapshotting 10,000 people). A goal line is a list of
        its fields in order, not an object: a person has up to dozens, and their keys
        were half the snapshot's bytes (``from_json`` reads both forms); a goal without a
        metric stores only its first eight, as before measurable goals."""
        data = {name: getattr(self, name) for name in _PERSON_FIELDS}
        for name in ("active_from", "active_to", "last_checkin", "tracked_since"):
            data[name] = _jsonable(data[name])
        data["initiatives"] = list(self.initiatives)
        data["goals"] = [line if line[_PLAIN_GOAL] is not None else line[:_PLAIN_GOAL]
                         for line in (tuple(goal.__dict__.values()) for goal in self.goals)]
        data["timeline"] = [{"period_start": mark.period_start.isoformat(),
                             "state": mark.state} for mark in self.timeline]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PersonFigures:
        values = dict(data)
        for name in ("active_from", "active_to", "last_checkin", "tracked_since"):
            values[name] = _day(values.get(name))
        values["goals"] = tuple(GoalLine(*goal) if isinstance(goal, list) else GoalLine(**goal)
                                for goal in values.get("goals", ()))
        values["timeline"] = tuple(
            CheckinMark(date.fromisoformat(mark["period_start"]), mark["state"])
            for mark in values.get("timeline", ()))
        values["initiatives"] = tuple(values.get("initiatives", ()))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


_PERSON_FIELDS = tuple(f.name for f in fields(PersonFigures))


@dataclass(frozen=True)
class TeamRollup:
    """A manager's direct reports taken together."""

    manager_name: str
    manager_email: str
    people: int
    adherence: float | None  # held / expected over the team's pairs
    on_time_rate: float | None  # done on time / due over the team
    goal_progress_end: float | None  # mean of the members' goal_progress_end
    goals_at_risk: int
    without_checkin_4_weeks: int


@dataclass(frozen=True)
class InitiativeRollup:
    """One initiative: its rolled-up progress and the people working on it."""

    ref: str
    title: str
    progress_start: float | None
    progress_end: float | None
    people: int
    goals_at_risk: int


@dataclass(frozen=True)
class DigestView:
    """Everything one digest email shows."""

    kind: DigestKind
    period_label: str  # "2026-Q4" or "FY2026"
    period_start: date
    period_end: date
    as_of: date
    recipient_name: str
    people: tuple[PersonFigures, ...]  # the rows: everyone (HR), the team (manager), one (employee)
    teams: tuple[TeamRollup, ...] = ()  # HR: by manager
    initiatives: tuple[InitiativeRollup, ...] = ()  # HR: by initiative
    manager_self: PersonFigures | None = None  # manager digest: their own figures
    lowest_adherence: tuple[TeamRollup, ...] = ()  # HR: the managers to talk to first
    changes: tuple[str, ...] = field(default=())  # since the snapshot that was sent
    organisation: str = ""  # shown in the HR digest's subject and intro ("Acme")
    cycle: CycleSummary | None = None  # the period's review cycle; None: no cycle
    locale: str = "en"  # the reader's language (an employee's own summary is written in it)

    @property
    def without_checkin_4_weeks(self) -> tuple[PersonFigures, ...]:
        """People whose last check-in is 28 days or more before the period's end."""
        return tuple(p for p in self.people if p.checkins_expected and (
            p.days_since_checkin is None or p.days_since_checkin >= 28))

    @property
    def goals_at_risk(self) -> tuple[tuple[PersonFigures, GoalLine], ...]:
        """Owned goals behind the time elapsed (each goal once, under its owner)."""
        return tuple((p, g) for p in self.people for g in p.goals if g.owned and g.at_risk)

    @property
    def measured_goals(self) -> tuple[tuple[PersonFigures, GoalLine], ...]:
        """Owned goals with a metric (each goal once, under its owner)."""
        return tuple((p, g) for p in self.people for g in p.goals
                     if g.owned and g.metric is not None)


# --- the review cycle ----------------------------------------------------------------


@dataclass(frozen=True)
class RatingLevel:
    """One rating of a cycle's scale: its number and, when configured, its label."""

    value: int
    label: str = ""


def rating_levels(scale: RatingScale | None) -> tuple[RatingLevel, ...]:
    """The levels of a cycle's scale, lowest first; ``()`` when ratings are off."""
    if scale is None:
        return ()
    return tuple(RatingLevel(value, scale.labels[value - scale.low] if scale.labels else "")
                 for value in range(scale.low, scale.high + 1))


def parse_scale(text: str | None) -> tuple[RatingLevel, ...]:
    """``"1-5"`` or ``"1-5:Unsatisfactory,Below,Meets,Exceeds,Outstanding"`` → the levels;
    ``None`` or ``""`` → ``()``. Read by ``config.review_scale`` (one reader for the
    setting, the forms and the digests); raises its ValueError with the right form."""
    return rating_levels(parse_rating_scale(text))


@dataclass(frozen=True)
class ReviewFigures:
    """One person's review in the cycle, as far as this digest's reader may see it.

    ``manager_rating`` and ``manager_comment`` reach an employee's own copy only once
    the manager step is done; the comment is in no other copy, and no copy holds the
    self-review's texts."""

    person_id: int
    name: str
    manager_name: str | None  # the manager when the cycle opened
    self_state: StepWord
    manager_state: StepWord
    ack_state: AckWord
    self_rating: int | None = None
    manager_rating: int | None = None
    manager_comment: str | None = None


@dataclass(frozen=True)
class CycleCompletion:
    """One manager's reports in the cycle: how far each step got."""

    manager_name: str
    reviews: int
    self_done: int
    self_missed: int
    manager_done: int
    manager_missed: int
    acknowledged: int  # agreed, or disputed and resolved
    disputed: int  # open disputes
    ack_missed: int

    @property
    def missed(self) -> int:
        return self.self_missed + self.manager_missed + self.ack_missed


@dataclass(frozen=True)
class OpenDispute:
    """An acknowledgement answered ``dispute:`` that HR has not resolved yet."""

    employee_name: str
    manager_name: str | None
    first_line: str  # the dispute's first line
    since: date | None


@dataclass(frozen=True)
class CalibrationRow:
    """One manager's ratings beside their team's record: do the ratings follow it?

    ``distribution`` counts the manager ratings per level of the cycle's scale, in
    its order; the team figures are the mean and median of the rated and unrated
    reports' own figures (``PersonFigures.goal_progress_end`` and ``adherence``)."""

    manager_name: str
    reviews: int
    rated: int
    distribution: tuple[int, ...]
    mean_rating: float | None
    goal_progress_mean: float | None
    goal_progress_median: float | None
    adherence_mean: float | None
    adherence_median: float | None


@dataclass(frozen=True)
class CycleSummary:
    """The period's review cycle as one digest shows it: HR's copy has everyone's
    reviews and the three tables; a manager's only their reports'; an employee's
    only their own."""

    period_label: str
    opened: date
    deadline: date
    closed: bool
    scale: tuple[RatingLevel, ...]  # () when ratings are off
    reviews: tuple[ReviewFigures, ...]
    completion: tuple[CycleCompletion, ...] = ()  # HR: by manager
    disputes: tuple[OpenDispute, ...] = ()  # HR: open disputes, oldest first
    calibration: tuple[CalibrationRow, ...] = ()  # HR: by manager

    def review_of(self, person_id: int) -> ReviewFigures | None:
        return next((r for r in self.reviews if r.person_id == person_id), None)

    def label(self, rating: int | None) -> str:
        """``4 Exceeds``, ``4`` without labels, ``–`` for none."""
        if rating is None:
            return "–"
        level = next((lv for lv in self.scale if lv.value == rating), None)
        return f"{rating} {level.label}" if level and level.label else str(rating)


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
