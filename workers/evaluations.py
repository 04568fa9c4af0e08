"""Evaluation figures for everyone, for one quarter or year, in a fixed number of queries.

Seven bulk reads (people, tasks, task history at the window's two edges,
projects, goals with their initiatives, meetings), however large the company;
then every figure goes through ``models.scoring``, the same functions
``drumbeat status`` uses, so the digest, its CSV, the Evaluation rows and the
status view agree. Progress at a moment is the task's current progress unless
its history changed it later: then it is the ``old_progress`` of the first
change after that moment (history is append-only, so this is exact). The one
exception is a corrected fact: a task that is done, with a completion day before
the moment (``T-12 done on 2026-12-03``), was done then, whatever its history of
that time says; so a correction that moves a completion into a closed period
changes that period's figures, and the next digest lists it as changed since.

Rules the scoring module leaves to us, documented here:

* a person's goals are the goals they own plus the goals of the projects their
  tasks are in ("contributed"); their goal progress is the mean of those goals;
  Drumbeat's own "Outside the plan" items (``drumbeat:`` import keys) are not
  goals anyone is judged on;
* a measurable goal's progress at a moment is its measure's, from the figure it had
  then (``_measured_values``); other goals roll up their projects' tasks;
* a goal is *at risk* by ``models.scoring.points_behind`` (more than 10 points
  behind the share of its time elapsed), judged with its progress at the
  window's end;
* progress at the window's start counts the tasks that existed then: a plan
  imported mid-quarter starts from its projects' and goals' own figures;
* check-ins count every meeting the person had as the employee, whoever the
  manager was (a manager change mid-quarter keeps both parts of the record, unless
  a people import made it: that forms a new pair, tracked from that day); a
  manager's team adherence is held / expected over their current reports;
* check-ins are judged from the pair's tracking start (``Person.tracking_from``:
  the import or manager change that formed it, its first agenda, moved back by
  back-filled meetings); periods before it are "untracked" in the timeline and
  the longest gap is measured from it, so no pair is judged on the weeks before
  Drumbeat was counting;
* a *disputed* period (one side logged the 1:1 as held, the other as not held or
  excused) is expected and not held until the two agree, and is counted as
  ``checkins_disputed``; excused periods are also counted by who gave the excuse
  (the manager of that meeting, or the employee).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from mail.write.digest import CheckinMark, GoalLine, InitiativeRollup, PersonFigures
from models.meetings import Meeting, MeetingStatus
from models.people import Person, active_span
from models.plan import (
    Goal,
    Initiative,
    PlanChange,
    PlanLevel,
    Project,
    Task,
    TaskHistory,
    TaskStatus,
)
from models.scoring import (
    Cadence,
    TaskDue,
    Weighted,
    adherence,
    goal_progress_of,
    measured_progress,
    on_time,
    period_containing,
    periods_in_window,
    points_behind,
    quarter_window,
    rollup,
    time_elapsed,
    year_window,
)

SYSTEM_KEY = "drumbeat:"
DROPPED = TaskStatus.DROPPED.value
DONE = TaskStatus.DONE.value


@dataclass(frozen=True)
class Window:
    """A reporting period: a fiscal quarter or year, judged as of a day."""

    kind: str  # "quarter" or "year"
    label: str
    start: date
    end: date
    as_of: date
    fiscal_year_start_month: int = 1

    @property
    def judged_until(self) -> date:
        return min(self.end, self.as_of)


def window_named(label: str, fiscal_year_start_month: int, today: date) -> Window:
    """``2026-Q4``, ``FY2027-Q1``, ``2026`` or ``FY2027`` → its Window, judged as of
    ``today`` (or its end, when it is over). Raises ValueError for other labels."""
    text = label.strip().upper()
    year_part, _, quarter = text.partition("-Q")
    fiscal = year_part.startswith("FY")
    try:
        number = int(year_part[2:] if fiscal else year_part)
        index = int(quarter) if quarter else None
    except ValueError:
        raise ValueError(f"not a period: {label!r}; write 2026-Q4, 2026, FY2027-Q1 or "
                         "FY2027") from None
    if (fiscal != (fiscal_year_start_month != 1)) or (index is not None and not 1 <= index <= 4):
        raise ValueError(f"not a period of this fiscal calendar: {label!r} (the fiscal year "
                         f"starts in month {fiscal_year_start_month})")
    first_year = number - 1 if fiscal else number
    start, end, name = year_window(date(first_year, fiscal_year_start_month, 1),
                                   fiscal_year_start_month)
    kind = "year"
    if index is not None:
        month = (fiscal_year_start_month - 1 + 3 * (index - 1)) % 12 + 1
        year = first_year + (fiscal_year_start_month - 1 + 3 * (index - 1)) // 12
        start, end, name = quarter_window(date(year, month, 1), fiscal_year_start_month)
        kind = "quarter"
    return Window(kind, name, start, end, min(end, today), fiscal_year_start_month)


def closed_windows(today: date, fiscal_year_start_month: int, delay_days: int,
                   within_days: int = 30) -> list[Window]:
    """The quarters and years whose digests are due: closed ``delay_days`` or more
    ago, but not more than ``within_days`` later (a new install sends no old ones)."""
    found: list[Window] = []
    last_quarter_day = quarter_window(today, fiscal_year_start_month)[0] - timedelta(days=1)
    for finder, kind in ((quarter_window, "quarter"), (year_window, "year")):
        start, end, label = finder(last_quarter_day, fiscal_year_start_month)
        if end < today and end + timedelta(days=delay_days) <= today <= end + timedelta(
                days=delay_days + within_days):
            found.append(Window(kind, label, start, end, end, fiscal_year_start_month))
    return found


@dataclass(frozen=True)
class Figures:
    """Everyone's figures for one window, and the initiatives rolled up."""

    window: Window
    people: list[PersonFigures]
    initiatives: list[InitiativeRollup]
    queries: int


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


class _Progress:
    """Task progress and status at a moment, from one read of the first later change."""

    def __init__(self, session: Session, moment: datetime, now: datetime) -> None:
        self.moment = moment
        self.changes: dict[int, tuple[int | None, str | None]] = {}
        if moment < now:
            ranked = select(
                TaskHistory.task_id, TaskHistory.old_progress, TaskHistory.old_status,
                func.row_number().over(partition_by=TaskHistory.task_id,
                                       order_by=(TaskHistory.created_at, TaskHistory.id))
                .label("rank"),
            ).where(TaskHistory.created_at >= moment).subquery()
            self.changes = {row.task_id: (row.old_progress, row.old_status) for row in
                            session.execute(select(ranked).where(ranked.c.rank == 1))}

    def of(self, task: Row[Any]) -> tuple[float, str] | None:
        """(progress, status) at the moment; None for a task made later."""
        if task.created_at is not None and task.created_at > self.moment:
            return None
        if task.status == DONE and task.completed_at is not None \
                and task.completed_at < self.moment:
            return 100.0, DONE  # done then, as corrected (module docstring)
        old = self.changes.get(task.id)
        if old is None:
            return float(task.progress), task.status
        progress = task.progress if old[0] is None else old[0]
        return float(progress), old[1] or task.status


def compute_figures(session: Session, window: Window, now: datetime | None = None) -> Figures:
    """Every active person's figures for ``window``; a constant number of queries."""
    now = now or datetime.now(UTC)
    queries = 0

    def read(statement: Any) -> list[Row[Any]]:
        nonlocal queries
        queries += 1
        return list(session.execute(statement))

    people = read(select(Person.id, Person.name, Person.email, Person.manager_id,
                         Person.cadence, Person.active_from, Person.active_until,
                         Person.tracking_from)
                  .order_by(Person.id))
    at_start = _Progress(session, _moment(window.start), now)
    at_end = _Progress(session, _moment(window.judged_until + timedelta(days=1)), now)
    queries += (1 if at_start.moment < now else 0) + (1 if at_end.moment < now else 0)
    queries += 1
    tally = _TaskTally(session.execute(  # streamed: half a million rows need not sit in memory
        select(Task.id, Task.owner_id, Task.project_id, Task.status, Task.progress,
               Task.weight, Task.due, Task.completed_at, Task.created_at)
        .execution_options(yield_per=20_000)), at_start, at_end, window)
    projects = {row.id: row for row in read(select(
        Project.id, Project.goal_id, Project.status, Project.progress, Project.weight))}
    goals = {row.id: row for row in read(select(
        Goal.id, Goal.title, Goal.owner_id, Goal.initiative_id, Goal.status, Goal.progress,
        Goal.weight, Goal.due, Goal.created_at, Goal.import_key, Goal.metric,
        Goal.metric_start, Goal.metric_target, Goal.metric_value,
        Initiative.title.label("initiative_title"), Initiative.progress.label("i_progress"),
        Initiative.import_key.label("i_key"))
        .join(Initiative, Initiative.id == Goal.initiative_id))}
    # The window's meetings (and a month before: a period may start earlier), and per
    # employee only the last meeting held before that: all the record needs.
    since = window.start - timedelta(days=31)
    meetings = read(select(Meeting.employee_id, Meeting.manager_id, Meeting.status,
                           Meeting.held_on, Meeting.period_start, Meeting.confirmed_by_manager,
                           Meeting.confirmed_by_employee, Meeting.excused_by_id)
                    .where(Meeting.period_start <= window.end, Meeting.period_start >= since))
    earlier: dict[int, date] = {row[0]: row[1] for row in read(
        select(Meeting.employee_id, func.max(Meeting.held_on))
        .where(Meeting.period_start < since, Meeting.status == MeetingStatus.HELD.value)
        .group_by(Meeting.employee_id))}

    names = {person.id: person.name for person in people}
    measured_start = _measured_values(session, goals, at_start.moment, now)
    measured_end = _measured_values(session, goals, at_end.moment, now)
    queries += measured_start.queries + measured_end.queries
    goal_start = _goal_progress(tally.start_sums, projects, goals, measured_start.values)
    goal_end = _goal_progress(tally.end_sums, projects, goals, measured_end.values)
    by_employee: dict[int, list[Row[Any]]] = defaultdict(list)
    for meeting in meetings:
        by_employee[meeting.employee_id].append(meeting)
    lines = _GoalLines(goals, goal_start, goal_end, window, names)
    owned: dict[int, list[int]] = defaultdict(list)
    for goal in goals.values():
        if lines.visible(goal.id):
            owned[goal.owner_id].append(goal.id)
    people_by_id = {person.id: person for person in people}
    figures: dict[int, PersonFigures] = {}
    for person in people:
        if not _overlaps(person, window):  # not with the company during the window
            continue
        manager = people_by_id.get(person.manager_id) if person.manager_id else None
        own = owned.get(person.id, [])
        contributed = sorted({projects[p].goal_id for p in tally.projects.get(person.id, ())
                              if p in projects} - set(own))
        figures[person.id] = _person(
            person, manager, window, tally, lines,
            [lines.line(g, True) for g in own],
            [lines.line(g, False) for g in contributed if lines.visible(g)],
            by_employee.get(person.id, []), earlier.get(person.id))
    _add_team_adherence(figures, people)
    initiatives = _initiatives(goals, goal_start, goal_end, figures.values())
    return Figures(window, list(figures.values()), initiatives, queries)


class _TaskTally:
    """One pass over every task: per project the weighted sums at both edges, per owner
    the punctuality inputs, the blocked count and the projects they work in."""

    def __init__(self, tasks: Iterable[Row[Any]], at_start: _Progress, at_end: _Progress,
                 window: Window) -> None:
        self.start_sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.end_sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.due: dict[int, list[TaskDue]] = defaultdict(list)
        self.blocked: dict[int, int] = defaultdict(int)
        self.projects: dict[int, set[int]] = defaultdict(set)
        blocked = TaskStatus.BLOCKED.value
        for task in tasks:
            end_state = at_end.of(task)
            for state, sums in ((at_start.of(task), self.start_sums),
                                (end_state, self.end_sums)):
                if state is not None and state[1] != DROPPED:
                    total = sums[task.project_id]
                    total[0] += task.weight * state[0]
                    total[1] += task.weight
            if end_state is not None and end_state[1] == blocked:
                self.blocked[task.owner_id] += 1
            if task.due is not None and window.start <= task.due <= window.end:
                completed = task.completed_at.date() if task.completed_at else None
                self.due[task.owner_id].append(TaskDue(task.due, completed,
                                                       task.status == DROPPED))
            self.projects[task.owner_id].add(task.project_id)


class _GoalLines:
    """Each goal's line, made once (owned and contributed variants)."""

    def __init__(self, goals: dict[int, Row[Any]], start: dict[int, float | None],
                 end: dict[int, float | None], window: Window, names: dict[int, str]) -> None:
        self.goals, self.start, self.end, self.window, self.names = (goals, start, end,
                                                                     window, names)
        self._lines: dict[tuple[int, bool], GoalLine] = {}
        self._visible = {g.id for g in goals.values()
                         if not _system(g) and g.status != DROPPED}

    def visible(self, goal_id: int) -> bool:
        return goal_id in self._visible

    def line(self, goal_id: int, owned: bool) -> GoalLine:
        key = (goal_id, owned)
        if key not in self._lines:
            self._lines[key] = _goal_line(self.goals[goal_id], owned, (
                self.start.get(goal_id), self.end.get(goal_id)), self.window, self.names)
        return self._lines[key]

    def initiative(self, goal_id: int) -> str:
        return str(self.goals[goal_id].initiative_title)


def _overlaps(person: Row[Any], window: Window) -> bool:
    start, end = person.active_from, person.active_until
    return (start is None or start <= window.judged_until) and (end is None or end >= window.start)


def _system(goal: Row[Any]) -> bool:
    return bool((goal.import_key or "").startswith(SYSTEM_KEY) or
                (goal.i_key or "").startswith(SYSTEM_KEY))


@dataclass(frozen=True)
class _Measured:
    """Measurable goals' figures at a moment, and the reads it took (0 or 1)."""

    values: dict[int, float | None]
    queries: int


def _measured_values(session: Session, goals: dict[int, Row[Any]], moment: datetime,
                     now: datetime) -> _Measured:
    """Each measurable goal's figure at ``moment``: the current one unless a figure sent
    later replaced it, then the ``old_value`` of the first such change (the history is
    append-only, so this is exact). No read when no goal is measurable."""
    measured = [goal.id for goal in goals.values() if goal.metric is not None]
    values: dict[int, float | None] = {goal_id: goals[goal_id].metric_value
                                       for goal_id in measured}
    if not measured or moment >= now:
        return _Measured(values, 0)
    ranked = select(
        PlanChange.item_id, PlanChange.old_value,
        func.row_number().over(partition_by=PlanChange.item_id,
                               order_by=(PlanChange.created_at, PlanChange.id)).label("rank"),
    ).where(PlanChange.level == PlanLevel.GOAL.value, PlanChange.field == "value",
            PlanChange.created_at >= moment, PlanChange.item_id.in_(measured)).subquery()
    for row in session.execute(select(ranked).where(ranked.c.rank == 1)):
        values[row.item_id] = None if row.old_value is None else float(row.old_value)
    return _Measured(values, 1)


def _goal_progress(sums: dict[int, list[float]], projects: dict[int, Row[Any]],
                   goals: dict[int, Row[Any]], measured: dict[int, float | None]
                   ) -> dict[int, float | None]:
    """Every goal's progress at a moment, as ``models.queries.cascade`` works it out: a
    project is the weighted mean of its live tasks (else its own figure), a goal the
    weighted mean of its projects, or its measure's share when it has a metric."""
    by_goal: dict[int, list[Weighted]] = defaultdict(list)
    for project in projects.values():
        total = sums.get(project.id)
        progress = (rollup([Weighted(total[0] / total[1])]) if total and total[1]
                    else float(project.progress))
        by_goal[project.goal_id].append(Weighted(progress, project.weight,
                                                 project.status == DROPPED))
    return {goal.id: goal_progress_of(
        goal.metric is not None,
        measured_progress(goal.metric_start, goal.metric_target, measured.get(goal.id)),
        rollup(by_goal.get(goal.id, []), float(goal.progress)))
        for goal in goals.values()}


def _goal_line(goal: Row[Any], owned: bool, progress: tuple[float | None, float | None],
               window: Window, names: dict[int, str]) -> GoalLine:
    created = goal.created_at.date() if goal.created_at is not None else None
    expected = time_elapsed(goal.due, created, window.judged_until,
                            window.fiscal_year_start_month)
    at_risk = points_behind(goal.status in (DONE, DROPPED), progress[1], expected) is not None
    return GoalLine(f"G-{goal.id}", goal.title, names.get(goal.owner_id, "?"), owned,
                    progress[0], progress[1], expected, at_risk)


def _mean(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(sum(known) / len(known), 1) if known else None


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def _person(person: Row[Any], manager: Row[Any] | None, window: Window, tally: _TaskTally,
            lines: _GoalLines, owned: list[GoalLine], contributed: list[GoalLine],
            meetings: Sequence[Row[Any]], held_before: date | None) -> PersonFigures:
    goals = [*owned, *contributed]
    punctual = on_time(tally.due.get(person.id, ()), window.start, window.end, window.as_of)
    checkins = _checkins(person, manager, window, meetings, held_before)
    initiatives = tuple(dict.fromkeys(lines.initiative(int(g.ref[2:])) for g in goals))
    return PersonFigures(
        person_id=person.id, name=person.name, email=person.email,
        manager_name=manager.name if manager else None, active_from=person.active_from,
        active_to=person.active_until, initiatives=initiatives,
        goals_owned=len(owned), goals_contributed=len(contributed),
        goal_progress_start=_mean(line.progress_start for line in goals),
        goal_progress_end=_mean(line.progress_end for line in goals), goals=tuple(goals),
        tasks_due=punctual.due, tasks_done=punctual.done,
        tasks_done_on_time=punctual.done_on_time, tasks_overdue=punctual.overdue,
        tasks_blocked=tally.blocked.get(person.id, 0), on_time_rate=_percent(punctual.rate),
        **checkins)


def _checkins(person: Row[Any], manager: Row[Any] | None, window: Window,
              meetings: Sequence[Row[Any]], held_before: date | None) -> dict[str, Any]:
    """The employee side of the record, with whoever their manager was."""
    if manager is None:
        return {"checkins_expected": 0, "checkins_held": 0, "checkins_confirmed": 0,
                "checkins_excused": 0, "adherence": None, "longest_gap_days": None,
                "last_checkin": None, "days_since_checkin": None, "timeline": (),
                "tracked_since": None}
    held = [m for m in meetings if m.status == MeetingStatus.HELD.value and m.held_on
            and m.held_on <= window.end]
    excused = [m.period_start for m in meetings if m.status == MeetingStatus.EXCUSED.value]
    disputed = [m.period_start for m in meetings if m.status == MeetingStatus.DISPUTED.value]
    spans = (active_span(person), active_span(manager))
    cadence = Cadence(person.cadence)
    held_on = [m.held_on for m in held] + ([held_before] if held_before else [])
    score = adherence(window_start=window.start, window_end=window.end, cadence=cadence,
                      held_on=held_on, excused_periods=excused,
                      employee_active=spans[0], manager_active=spans[1], as_of=window.as_of,
                      tracking_from=person.tracking_from)
    until = window.judged_until
    tracked = person.tracking_from
    in_window = [m for m in held if window.start <= m.held_on <= until]
    confirmed = {m.held_on for m in in_window if m.confirmed_by_manager and
                 m.confirmed_by_employee}
    timeline = []
    for period in periods_in_window(window.start, window.end, cadence):
        if not all(span.covers(period.anchor) for span in spans):
            state = "inactive"
        elif tracked is not None and period.start < tracked:
            state = "untracked"
        elif any(day in period for day in excused):
            state = "excused"
        elif any(m.held_on in period for m in in_window):
            state = "confirmed" if any(day in period for day in confirmed) else "held"
        elif any(day in period for day in disputed):
            state = "disputed"
        elif period.end > until:
            state = "upcoming"
        else:
            state = "missed"
        timeline.append(CheckinMark(period.start, state))  # type: ignore[arg-type]
    joined = max(window.start, person.active_from or window.start, tracked or window.start)
    since = score.last_held or joined
    counted = {mark.period_start for mark in timeline if mark.state in ("excused", "disputed")
               and _judged(mark.period_start, cadence, window, in_window)}
    excusers = [m.manager_id if m.excused_by_id == m.manager_id else person.id
                for m in meetings if m.status == MeetingStatus.EXCUSED.value
                and m.period_start in counted and m.excused_by_id is not None]
    return {"checkins_disputed": sum(1 for mark in timeline if mark.state == "disputed"
                                     and mark.period_start in counted),
            "checkins_excused_by_manager": sum(1 for who in excusers if who != person.id),
            "checkins_excused_by_employee": excusers.count(person.id),
            "checkins_expected": score.expected, "checkins_held": score.held,
            "checkins_confirmed": sum(1 for mark in timeline if mark.state == "confirmed"),
            "checkins_excused": score.excused, "adherence": _percent(score.rate),
            "longest_gap_days": score.longest_gap_days, "last_checkin": score.last_held,
            "days_since_checkin": max(0, (until - since).days), "timeline": tuple(timeline),
            "tracked_since": tracked}


def _judged(period_start: date, cadence: Cadence, window: Window,
            held: Sequence[Row[Any]]) -> bool:
    """Whether ``adherence`` judges the period (its rule 1): over by ``as_of``, or
    already with a meeting held in it."""
    period = period_containing(period_start, cadence)
    return period.end <= window.as_of or any(m.held_on in period for m in held)


def _add_team_adherence(figures: dict[int, PersonFigures], people: Sequence[Row[Any]]) -> None:
    """A manager's adherence with their whole team: held / expected over their reports."""
    teams: dict[int, list[PersonFigures]] = defaultdict(list)
    for person in people:
        if person.manager_id in figures and person.id in figures:
            teams[person.manager_id].append(figures[person.id])
    for manager_id, team in teams.items():
        expected = sum(member.checkins_expected for member in team)
        held = sum(member.checkins_held for member in team)
        figures[manager_id] = replace(
            figures[manager_id], reports=len(team),
            team_adherence=round(held / expected * 100, 1) if expected else None)


def _initiatives(goals: dict[int, Row[Any]], start: dict[int, float | None],
                 end: dict[int, float | None], people: Iterable[PersonFigures]
                 ) -> list[InitiativeRollup]:
    grouped: dict[int, list[Row[Any]]] = defaultdict(list)
    for goal in goals.values():
        if not _system(goal):
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
