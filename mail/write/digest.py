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

CheckinState = Literal["held", "confirmed", "excused", "disputed", "missed", "upcoming",
                       "inactive", "untracked"]
DigestKind = Literal["hr", "manager", "employee"]


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

    def to_json(self) -> dict[str, Any]:
        """JSON-safe (ISO dates), for ``Evaluation.figures`` (by hand: ``asdict`` deep-copies
        and is the slowest part of snapshotting 10,000 people)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("active_from", "active_to", "last_checkin", "tracked_since"):
            data[name] = _jsonable(data[name])
        data["initiatives"] = list(self.initiatives)
        data["goals"] = [goal.__dict__.copy() for goal in self.goals]
        data["timeline"] = [{"period_start": mark.period_start.isoformat(),
                             "state": mark.state} for mark in self.timeline]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PersonFigures:
        values = dict(data)
        for name in ("active_from", "active_to", "last_checkin", "tracked_since"):
            values[name] = _day(values.get(name))
        values["goals"] = tuple(GoalLine(**goal) for goal in values.get("goals", ()))
        values["timeline"] = tuple(
            CheckinMark(date.fromisoformat(mark["period_start"]), mark["state"])
            for mark in values.get("timeline", ()))
        values["initiatives"] = tuple(values.get("initiatives", ()))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


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

    @property
    def without_checkin_4_weeks(self) -> tuple[PersonFigures, ...]:
        """People whose last check-in is 28 days or more before the period's end."""
        return tuple(p for p in self.people if p.checkins_expected and (
            p.days_since_checkin is None or p.days_since_checkin >= 28))

    @property
    def goals_at_risk(self) -> tuple[tuple[PersonFigures, GoalLine], ...]:
        """Owned goals behind the time elapsed (each goal once, under its owner)."""
        return tuple((p, g) for p in self.people for g in p.goals if g.owned and g.at_risk)


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
