"""Evaluation figures for everyone, for one quarter or year, in a fixed number of queries.

Seven bulk reads, however large the company: people; projects with their tasks'
weighted progress at the window's two edges summed by the database; per task
owner the goals they work under and their tasks blocked at the end (one row a
person); the tasks due in the window; goals with their initiatives; meetings,
and each employee's last earlier one. No task row comes to Python except those
due in the window; every figure then goes through ``models.scoring``, the same
functions ``drumbeat status`` uses, so the digest, its CSV, the Evaluation rows
and the status view agree. Progress at a moment is the task's current progress unless
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
  then (``workers.evaluation_goals``), with its tasks' roll-up kept beside it; other goals roll
  up their projects' tasks;
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

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    Subquery,
    and_,
    case,
    cast,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from mail.write.digest import CheckinMark, InitiativeRollup, PersonFigures
from models.meetings import Meeting, MeetingStatus
from models.people import Person, active_span
from models.plan import (
    Goal,
    Initiative,
    Project,
    Task,
    TaskHistory,
    TaskStatus,
)
from models.scoring import (
    Cadence,
    TaskDue,
    adherence,
    on_time,
    period_containing,
    periods_in_window,
    quarter_window,
    year_window,
)
from workers.evaluation_goals import (
    GoalLines,
    goal_edge,
    initiatives_of,
    measured_values,
)

DROPPED = TaskStatus.DROPPED.value
DONE = TaskStatus.DONE.value
HELD, EXCUSED, DISPUTED = (MeetingStatus.HELD.value, MeetingStatus.EXCUSED.value,
                           MeetingStatus.DISPUTED.value)


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


@dataclass(frozen=True)
class _StateAt:
    """A task's progress and status at a moment, as SQL over ``Task`` and the first history
    change at or after the moment (``change``, outer-joined; None when the moment is not
    in the past: nothing changed since). The rule is the module docstring's."""

    moment: datetime
    change: Subquery | None
    exists: ColumnElement[bool]  # False for a task made later
    progress: ColumnElement[Any]
    status: ColumnElement[Any]

    def joined(self, statement: Select[Any]) -> Select[Any]:
        if self.change is None:
            return statement
        return statement.outerjoin(self.change, self.change.c.task_id == Task.id)


def _state_at(moment: datetime, now: datetime) -> _StateAt:
    exists = or_(Task.created_at.is_(None), Task.created_at <= moment)
    done_before = and_(Task.status == DONE, Task.completed_at.is_not(None),
                       Task.completed_at < moment)  # done then, as corrected
    if moment >= now:
        return _StateAt(moment, None, exists,
                        case((done_before, 100), else_=Task.progress),
                        case((done_before, DONE), else_=Task.status))
    ranked = select(
        TaskHistory.task_id, TaskHistory.old_progress, TaskHistory.old_status,
        func.row_number().over(partition_by=TaskHistory.task_id,
                               order_by=(TaskHistory.created_at, TaskHistory.id))
        .label("rank"),
    ).where(TaskHistory.created_at >= moment).subquery()
    change = select(ranked.c.task_id, ranked.c.old_progress, ranked.c.old_status).where(
        ranked.c.rank == 1).subquery()
    changed = change.c.task_id.is_not(None)
    return _StateAt(
        moment, change, exists,
        case((done_before, 100), (changed, func.coalesce(change.c.old_progress, Task.progress)),
             else_=Task.progress),
        case((done_before, DONE),
             (changed, func.coalesce(func.nullif(change.c.old_status, ""), Task.status)),
             else_=Task.status))


def _projects(start: _StateAt, end: _StateAt) -> Select[Any]:
    """Every project with its live tasks' weighted progress summed at both edges (NULL
    where it had no live task then: the project's own figure counts)."""
    sums: list[Any] = []
    for state, edge in ((start, "start"), (end, "end")):
        live = and_(state.exists, state.status != DROPPED)
        sums += [func.sum(case((live, Task.weight * state.progress))).label(f"{edge}_weighted"),
                 func.sum(case((live, Task.weight))).label(f"{edge}_weights")]
    per_project = end.joined(start.joined(select(Task.project_id, *sums).select_from(Task))
                             ).group_by(Task.project_id).subquery()
    return select(Project.id, Project.goal_id, Project.status, Project.progress, Project.weight,
                  *(per_project.c[f"{edge}_{what}"] for edge in ("start", "end")
                    for what in ("weighted", "weights"))
                  ).outerjoin(per_project, per_project.c.project_id == Project.id)


def _owners(end: _StateAt) -> Select[Any]:
    """Per task owner: the projects of their tasks (ids joined by commas: one row a person
    however many tasks; a join to the goals here takes the database three times as long)
    and how many of their tasks were blocked at the end."""
    blocked = and_(end.exists, end.status == TaskStatus.BLOCKED.value)
    return end.joined(
        select(Task.owner_id, func.sum(case((blocked, 1), else_=0)).label("blocked"),
               func.aggregate_strings(cast(Task.project_id, String), ",").label("projects"))
        .select_from(Task)).group_by(Task.owner_id)


@dataclass(frozen=True)
class _TaskFigures:
    """What the figures need of the tasks, summed by the database: per owner the goals
    they work under, their tasks blocked at the end and their tasks due in the window."""

    goals: dict[int, set[int]]
    blocked: dict[int, int]
    due: dict[int, list[TaskDue]]


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while tens of thousands of rows and figures
    are built: they hold no cycles, and its passes over them took a third of the CPU of
    10,000 people's figures. It runs again (and collects) when the block ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def compute_figures(session: Session, window: Window, now: datetime | None = None) -> Figures:
    """Every active person's figures for ``window``; a constant number of queries."""
    with gc_paused():
        return _compute_figures(session, window, now)


def _compute_figures(session: Session, window: Window, now: datetime | None) -> Figures:
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
    at_start = _state_at(_moment(window.start), now)
    at_end = _state_at(_moment(window.judged_until + timedelta(days=1)), now)
    projects = {row.id: row for row in read(_projects(at_start, at_end))}
    tasks = _TaskFigures({}, {}, defaultdict(list))
    goal_of = {project.id: project.goal_id for project in projects.values()}
    for row in read(_owners(at_end)):
        tasks.goals[row.owner_id] = {goal_of[int(p)] for p in row.projects.split(",")}
        tasks.blocked[row.owner_id] = int(row.blocked)
    for row in read(select(Task.owner_id, Task.due, Task.completed_at).where(
            Task.due >= window.start, Task.due <= window.judged_until,
            Task.status != DROPPED)):  # judged by ``on_time``, which would skip the rest
        completed = row.completed_at.date() if row.completed_at else None
        tasks.due[row.owner_id].append(TaskDue(row.due, completed))
    goals = {row.id: row for row in read(select(
        Goal.id, Goal.title, Goal.owner_id, Goal.initiative_id, Goal.status, Goal.progress,
        Goal.weight, Goal.due, Goal.created_at, Goal.import_key, Goal.metric,
        Goal.metric_unit, Goal.metric_start, Goal.metric_target, Goal.metric_value,
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
    measured_start = measured_values(session, goals, at_start.moment, now)
    measured_end = measured_values(session, goals, at_end.moment, now)
    queries += measured_start.queries + measured_end.queries
    goal_start = goal_edge("start", projects, goals, measured_start.values)
    goal_end = goal_edge("end", projects, goals, measured_end.values)
    by_employee: dict[int, list[Row[Any]]] = defaultdict(list)
    for meeting in meetings:
        by_employee[meeting.employee_id].append(meeting)
    lines = GoalLines(goals, goal_start, goal_end, window, names)
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
        contributed = sorted(tasks.goals.get(person.id, set()) - set(own))
        figures[person.id] = _person(
            person, manager, window, tasks, lines, own,
            [g for g in contributed if lines.visible(g)],
            by_employee.get(person.id, []), earlier.get(person.id))
    _add_team_adherence(figures, people)
    initiatives = initiatives_of(goals, goal_start.progress, goal_end.progress, figures.values())
    return Figures(window, list(figures.values()), initiatives, queries)


def _overlaps(person: Row[Any], window: Window) -> bool:
    start, end = person.active_from, person.active_until
    return (start is None or start <= window.judged_until) and (end is None or end >= window.start)


def _mean(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(sum(known) / len(known), 1) if known else None


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def _person(person: Row[Any], manager: Row[Any] | None, window: Window, tasks: _TaskFigures,
            lines: GoalLines, owned_ids: list[int], contributed_ids: list[int],
            meetings: Sequence[Row[Any]], held_before: date | None) -> PersonFigures:
    owned = [lines.line(g, True) for g in owned_ids]
    contributed = [lines.line(g, False) for g in contributed_ids]
    goals = [*owned, *contributed]
    punctual = on_time(tasks.due.get(person.id, ()), window.start, window.end, window.as_of)
    checkins = _checkins(person, manager, window, meetings, held_before)
    initiatives = tuple(dict.fromkeys(lines.initiative(g) for g in [*owned_ids,
                                                                    *contributed_ids]))
    return PersonFigures(
        person_id=person.id, name=person.name, email=person.email,
        manager_name=manager.name if manager else None, active_from=person.active_from,
        active_to=person.active_until, initiatives=initiatives,
        goals_owned=len(owned), goals_contributed=len(contributed),
        goal_progress_start=_mean(line.progress_start for line in goals),
        goal_progress_end=_mean(line.progress_end for line in goals), goals=tuple(goals),
        tasks_due=punctual.due, tasks_done=punctual.done,
        tasks_done_on_time=punctual.done_on_time, tasks_overdue=punctual.overdue,
        tasks_blocked=tasks.blocked.get(person.id, 0), on_time_rate=_percent(punctual.rate),
        **checkins)


def _checkins(person: Row[Any], manager: Row[Any] | None, window: Window,
              meetings: Sequence[Row[Any]], held_before: date | None) -> dict[str, Any]:
    """The employee side of the record, with whoever their manager was."""
    if manager is None:
        return {"checkins_expected": 0, "checkins_held": 0, "checkins_confirmed": 0,
                "checkins_excused": 0, "adherence": None, "longest_gap_days": None,
                "last_checkin": None, "days_since_checkin": None, "timeline": (),
                "tracked_since": None}
    held = [m for m in meetings if m.status == HELD and m.held_on and m.held_on <= window.end]
    excused = [m.period_start for m in meetings if m.status == EXCUSED]
    disputed = [m.period_start for m in meetings if m.status == DISPUTED]
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

    def periods_of(days: Iterable[date]) -> set[date]:  # the starts of the periods they fall in
        return {period_containing(day, cadence).start for day in days}

    excused_in, disputed_in, confirmed_in = (periods_of(excused), periods_of(disputed),
                                             periods_of(confirmed))
    held_in = periods_of(m.held_on for m in in_window)
    timeline = []
    for period in periods_in_window(window.start, window.end, cadence):
        if not (spans[0].covers(period.anchor) and spans[1].covers(period.anchor)):
            state = "inactive"
        elif tracked is not None and period.start < tracked:
            state = "untracked"
        elif period.start in excused_in:
            state = "excused"
        elif period.start in held_in:
            state = "confirmed" if period.start in confirmed_in else "held"
        elif period.start in disputed_in:
            state = "disputed"
        elif period.end > until:
            state = "upcoming"
        else:
            state = "missed"
        timeline.append(CheckinMark(period.start, state))  # type: ignore[arg-type]
    joined = max(window.start, person.active_from or window.start, tracked or window.start)
    since = score.last_held or joined
    # judged by ``adherence`` (its rule 1): over by ``as_of``, or already with a meeting
    counted = {mark.period_start for mark in timeline if mark.state in ("excused", "disputed")
               and (period_containing(mark.period_start, cadence).end <= window.as_of
                    or mark.period_start in held_in)}
    excusers = [m.manager_id if m.excused_by_id == m.manager_id else person.id
                for m in meetings if m.status == EXCUSED
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
