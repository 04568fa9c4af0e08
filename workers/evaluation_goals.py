"""The goals' side of a period's figures: each goal at the window's two edges, its line in
the digests, and the initiatives rolled up (``workers.evaluations`` reads the rows).

A goal's progress at an edge is its projects' tasks rolled up, or, for a measurable goal,
its measure's share of the way from the figure it had then (``measured_values``); the
roll-up is kept beside the measure (``GoalEdge.rolled``), so a digest shows both, as
agendas and ``status`` do. Drumbeat's own "Outside the plan" items (``drumbeat:`` import
keys) are no goal anyone is judged on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from mail.write.digest import GoalLine, InitiativeRollup, PersonFigures
from models.plan import PlanChange, PlanLevel, TaskStatus
from models.scoring import (
    Weighted,
    goal_progress_of,
    measured_progress,
    points_behind,
    rollup,
    time_elapsed,
)

if TYPE_CHECKING:
    from workers.evaluations import Window

__all__ = ["SYSTEM_KEY", "GoalEdge", "GoalLines", "MeasuredAt", "goal_edge", "goal_line",
           "initiatives_of", "is_system", "measured_values"]

SYSTEM_KEY = "drumbeat:"
DROPPED = TaskStatus.DROPPED.value
DONE = TaskStatus.DONE.value


class GoalLines:
    """Each goal's line, made once (owned and contributed variants)."""

    def __init__(self, goals: dict[int, Row[Any]], start: GoalEdge, end: GoalEdge, window: Window,
                 names: dict[int, str]) -> None:
        self.goals, self.start, self.end, self.window, self.names = (goals, start, end,
                                                                     window, names)
        self._lines: dict[tuple[int, bool], GoalLine] = {}
        self._visible = {g.id for g in goals.values()
                         if not is_system(g) and g.status != DROPPED}
        self.initiatives_of = {g.id: str(g.initiative_title) for g in goals.values()}

    def visible(self, goal_id: int) -> bool:
        return goal_id in self._visible

    def line(self, goal_id: int, owned: bool) -> GoalLine:
        key = (goal_id, owned)
        if key not in self._lines:
            self._lines[key] = goal_line(self.goals[goal_id], owned, self.start, self.end,
                                          self.window, self.names)
        return self._lines[key]

    def initiative(self, goal_id: int) -> str:
        return self.initiatives_of[goal_id]


def is_system(goal: Row[Any]) -> bool:
    """One of Drumbeat's own "Outside the plan" goals (or under its initiative)."""
    return bool((goal.import_key or "").startswith(SYSTEM_KEY) or
                (goal.i_key or "").startswith(SYSTEM_KEY))


@dataclass(frozen=True)
class MeasuredAt:
    """Measurable goals' figures at a moment, and the reads it took (0 or 1)."""

    values: dict[int, float | None]
    queries: int


def measured_values(session: Session, goals: dict[int, Row[Any]], moment: datetime,
                     now: datetime) -> MeasuredAt:
    """Each measurable goal's figure at ``moment``: the current one unless a figure sent
    later replaced it, then the ``old_value`` of the first such change (the history is
    append-only, so this is exact). No read when no goal is measurable."""
    measured = [goal.id for goal in goals.values() if goal.metric is not None]
    values: dict[int, float | None] = {goal_id: goals[goal_id].metric_value
                                       for goal_id in measured}
    if not measured or moment >= now:
        return MeasuredAt(values, 0)
    ranked = select(
        PlanChange.item_id, PlanChange.old_value,
        func.row_number().over(partition_by=PlanChange.item_id,
                               order_by=(PlanChange.created_at, PlanChange.id)).label("rank"),
    ).where(PlanChange.level == PlanLevel.GOAL.value, PlanChange.field == "value",
            PlanChange.created_at >= moment, PlanChange.item_id.in_(measured)).subquery()
    for row in session.execute(select(ranked).where(ranked.c.rank == 1)):
        values[row.item_id] = None if row.old_value is None else float(row.old_value)
    return MeasuredAt(values, 1)


@dataclass(frozen=True)
class GoalEdge:
    """Every goal's figures at one edge of the window: its progress, its projects' tasks
    rolled up (the same figure unless it has a metric) and its measure's figure then."""

    progress: dict[int, float | None]
    rolled: dict[int, float | None]
    measured: dict[int, float | None]


def goal_edge(edge: str, projects: dict[int, Row[Any]], goals: dict[int, Row[Any]],
                   measured: dict[int, float | None]) -> GoalEdge:
    """Every goal's progress at a window's edge ("start" or "end"), as
    ``models.queries.cascade`` works it out: a project is the weighted mean of its live
    tasks (else its own figure), a goal the weighted mean of its projects, or its
    measure's share when it has a metric (the roll-up then kept beside it)."""
    by_goal: dict[int, list[Weighted]] = defaultdict(list)
    weighted_at, weights_at = f"{edge}_weighted", f"{edge}_weights"
    for project in projects.values():
        weights = getattr(project, weights_at)
        progress = (rollup([Weighted(getattr(project, weighted_at) / weights)]) if weights
                    else float(project.progress))
        by_goal[project.goal_id].append(Weighted(progress, project.weight,
                                                 project.status == DROPPED))
    rolled = {goal.id: rollup(by_goal.get(goal.id, []), float(goal.progress))
              for goal in goals.values()}
    return GoalEdge({goal.id: goal_progress_of(
        goal.metric is not None,
        measured_progress(goal.metric_start, goal.metric_target, measured.get(goal.id)),
        rolled[goal.id]) for goal in goals.values()}, rolled, measured)


def goal_line(goal: Row[Any], owned: bool, start: GoalEdge, end: GoalEdge, window: Window,
               names: dict[int, str]) -> GoalLine:
    created = goal.created_at.date() if goal.created_at is not None else None
    expected = time_elapsed(goal.due, created, window.judged_until,
                            window.fiscal_year_start_month)
    progress = start.progress.get(goal.id), end.progress.get(goal.id)
    at_risk = points_behind(goal.status in (DONE, DROPPED), progress[1], expected) is not None
    line = GoalLine(f"G-{goal.id}", goal.title, names.get(goal.owner_id, "?"), owned,
                    progress[0], progress[1], expected, at_risk)
    if goal.metric is None:
        return line
    return replace(line, metric=goal.metric, unit=goal.metric_unit,
                   metric_start=goal.metric_start, metric_target=goal.metric_target,
                   value_end=end.measured.get(goal.id), rolled_start=start.rolled.get(goal.id),
                   rolled_end=end.rolled.get(goal.id))


def initiatives_of(goals: dict[int, Row[Any]], start: dict[int, float | None],
                 end: dict[int, float | None], people: Iterable[PersonFigures]
                 ) -> list[InitiativeRollup]:
    """Each initiative rolled up from its goals' progress at both edges, with the people
    working under it and its owned goals at risk."""
    grouped: dict[int, list[Row[Any]]] = defaultdict(list)
    for goal in goals.values():
        if not is_system(goal):
            grouped[goal.initiative_id].append(goal)
    working: dict[str, set[int]] = defaultdict(set)
    at_risk: dict[str, int] = defaultdict(int)
    for person in people:
        for title in person.initiatives:
            working[title].add(person.person_id)
        for line in person.goals:
            if line.owned and line.at_risk:
                goal = goals.get(int(line.ref[2:]))
                if goal is not None:
                    at_risk[goal.initiative_title] += 1
    result = []
    for initiative_id, members in sorted(grouped.items()):
        first = members[0]

        def rolled(values: dict[int, float | None], items: list[Row[Any]] = members,
                   own: float = float(first.i_progress)) -> float | None:
            return rollup([Weighted(values.get(g.id), g.weight, g.status == DROPPED)
                           for g in items], own)

        result.append(InitiativeRollup(
            f"I-{initiative_id}", first.initiative_title, rolled(start), rolled(end),
            len(working.get(first.initiative_title, ())),
            at_risk.get(first.initiative_title, 0)))
    return result
