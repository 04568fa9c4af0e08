"""Read-side queries that turn the tables into plain data for views and digests.

Set-based: one aggregate query per level, however large the organisation,
and the roll-up arithmetic always goes through ``models.scoring``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Float, and_, bindparam, case, cast, func, or_, select
from sqlalchemy.orm import Session, joinedload

from models.meetings import Meeting, MeetingStatus
from models.people import Person, PersonAlias
from models.plan import Goal, Initiative, Project, Task, TaskStatus
from models.scoring import (
    Adherence,
    Cadence,
    Weighted,
    adherence,
    goal_progress_of,
    measured_progress,
    period_containing,
    periods_in_window,
    rollup,
)

OPEN_STATUSES = (TaskStatus.OPEN.value, TaskStatus.IN_PROGRESS.value, TaskStatus.BLOCKED.value)


@dataclass(frozen=True)
class Measure:
    """A measurable goal's metric and latest figure (``models.plan.Goal``'s metric columns)."""

    metric: str
    unit: str | None
    start: float
    target: float
    value: float | None

    @property
    def progress(self) -> float | None:
        """The measured share of the way from start to target (``models.scoring``)."""
        return measured_progress(self.start, self.target, self.value)


def measure_of(goal: Goal) -> Measure | None:
    """The goal's metric, or None when it has none (its progress is the roll-up)."""
    if goal.metric is None or goal.metric_start is None or goal.metric_target is None:
        return None
    return Measure(goal.metric, goal.metric_unit, goal.metric_start, goal.metric_target,
                   goal.metric_value)


@dataclass
class Node:
    """One item of the cascade with its rolled-up progress and task counts. A measured
    goal's ``progress`` is its measure's, and ``rolled`` keeps its projects' roll-up."""

    ref: str
    title: str
    owner: str
    due: date | None
    status: str
    progress: float | None
    weight: float
    tasks: int = 0
    done: int = 0
    overdue: int = 0
    blocked: int = 0
    children: list[Node] = field(default_factory=list)
    measure: Measure | None = None
    rolled: float | None = None  # goals: the weighted roll-up of their projects' tasks


def cascade(session: Session, today: date) -> list[Node]:
    """Initiatives → goals → projects with progress rolled up from the tasks."""
    owners = dict(session.execute(select(Person.id, Person.name)).all())
    projects = _project_nodes(session, today, owners)
    goals: dict[int, Node] = {}
    goal_parent: dict[int, int] = {}
    for goal in session.execute(select(Goal).order_by(Goal.id)).scalars():
        goals[goal.id] = _node(goal, owners)
        goal_parent[goal.id] = goal.initiative_id
    for goal_id, nodes in projects.items():
        if goal_id in goals:
            goals[goal_id].children = nodes
    initiatives: list[Node] = []
    by_initiative: dict[int, list[Node]] = {}
    for goal_id, node in goals.items():
        _roll_up_goal(node)
        by_initiative.setdefault(goal_parent[goal_id], []).append(node)
    for initiative in session.execute(select(Initiative).order_by(Initiative.id)).scalars():
        node = _node(initiative, owners)
        node.children = by_initiative.get(initiative.id, [])
        _roll_up(node)
        initiatives.append(node)
    return initiatives


def _node(item: Initiative | Goal | Project, owners: dict[int, str]) -> Node:
    return Node(item.ref, item.title, owners.get(item.owner_id, "?"), item.due, item.status,
                float(item.progress), item.weight,
                measure=measure_of(item) if isinstance(item, Goal) else None)


def _roll_up_goal(node: Node) -> None:
    """A goal's roll-up, kept in ``rolled``; its progress is the measure's when it has one."""
    _roll_up(node)
    node.rolled = node.progress
    node.progress = goal_progress_of(node.measure is not None,
                                     node.measure.progress if node.measure else None,
                                     node.rolled)


def _roll_up(node: Node) -> None:
    node.progress = rollup(
        [Weighted(c.progress, c.weight, c.status == TaskStatus.DROPPED) for c in node.children],
        node.progress)
    for name in ("tasks", "done", "overdue", "blocked"):
        setattr(node, name, sum(getattr(c, name) for c in node.children))


def _project_nodes(session: Session, today: date, owners: dict[int, str],
                   goal_ids: set[int] | None = None) -> dict[int, list[Node]]:
    """Project nodes by goal id, with task figures from one aggregate query."""
    live = Task.status != TaskStatus.DROPPED.value
    weighted = func.sum(case((live, Task.weight * Task.progress), else_=0.0))
    weights = func.sum(case((live, Task.weight), else_=0.0))
    overdue = and_(Task.due < today, Task.status.in_(OPEN_STATUSES))
    stats = (
        select(
            Task.project_id,
            cast(weighted, Float).label("weighted"),
            cast(weights, Float).label("weights"),
            func.count().filter(live).label("tasks"),
            func.count().filter(Task.status == TaskStatus.DONE.value).label("done"),
            func.count().filter(overdue).label("overdue"),
            func.count().filter(Task.status == TaskStatus.BLOCKED.value).label("blocked"),
        )
        .group_by(Task.project_id)
    )
    projects = select(Project).order_by(Project.id)
    if goal_ids is not None:
        stats = stats.join(Project, Project.id == Task.project_id).where(
            Project.goal_id.in_(goal_ids))
        projects = projects.where(Project.goal_id.in_(goal_ids))
    by_project = {row.project_id: row for row in session.execute(stats)}
    result: dict[int, list[Node]] = {}
    for project in session.execute(projects).scalars():
        node = _node(project, owners)
        row = by_project.get(project.id)
        if row is not None and row.weights:
            node.progress = rollup([Weighted(row.weighted / row.weights)])
            node.tasks, node.done, node.overdue, node.blocked = (
                row.tasks, row.done, row.overdue, row.blocked)
        result.setdefault(project.goal_id, []).append(node)
    return result


@dataclass
class CheckinRecord:
    """A manager–employee pair's check-ins over a window."""

    manager: Person
    employee: Person
    window: tuple[date, date, str]
    score: Adherence
    disputed: int = 0  # finished periods the two sides logged differently (not held)

    @property
    def tracked_since(self) -> date | None:
        """The day the record counts from (None: since before anyone was counting)."""
        return self.employee.tracking_from


def person_by_address(session: Session, address: str) -> Person | None:
    """The person with this email or alias, matched case-insensitively."""
    address = address.strip().lower()
    person = session.scalar(_PERSON_BY_EMAIL, {"address": address})
    if person is None:
        person = session.scalar(_PERSON_BY_ALIAS, {"address": address})
    return person


# Built once: every reply looks its sender up, and a statement built anew costs more
# Python than the query takes in PostgreSQL.
# The manager comes in the same query: a reply's "met: yes" needs them next.
_PERSON_BY_EMAIL = select(Person).options(joinedload(Person.manager)).where(
    Person.email == bindparam("address"))
_PERSON_BY_ALIAS = select(Person).options(joinedload(Person.manager)).join(
    PersonAlias, PersonAlias.person_id == Person.id).where(
    PersonAlias.email == bindparam("address"))


def tasks_of(session: Session, person: Person) -> list[Task]:
    """The person's tasks, open ones first by due date, then done and dropped."""
    finished = case((Task.status.in_(OPEN_STATUSES), 0), else_=1)
    return list(session.scalars(
        select(Task).where(Task.owner_id == person.id)
        .order_by(finished, Task.due.is_(None), Task.due, Task.id)))


def checkin_record(session: Session, manager: Person, employee: Person,
                   window: tuple[date, date, str], as_of: date) -> CheckinRecord:
    """The employee's check-in record over ``window`` up to ``as_of``, by their cadence.

    Every meeting the employee had counts, whoever the manager was, so a manager
    change mid-quarter keeps both parts of the record (as the digests count it);
    ``manager`` is the current one, whose active dates bound the expected periods.
    Periods that began before the pair's tracking start are not expected.
    """
    meetings = session.execute(
        select(Meeting.status, Meeting.held_on, Meeting.period_start)
        .where(Meeting.employee_id == employee.id,
               or_(Meeting.held_on.is_(None), Meeting.held_on <= window[1]))
    ).all()
    return record_of(meetings, manager, employee, window, as_of)


def record_of(meetings: Iterable[Any], manager: Person, employee: Person,
              window: tuple[date, date, str], as_of: date) -> CheckinRecord:
    """``checkin_record`` from the employee's meetings already read (rows with ``status``,
    ``held_on`` and ``period_start``; those held after the window are left out here), so a
    caller that reads them with more can score them without a statement of its own."""
    start, end, _label = window
    meetings = [m for m in meetings if m.held_on is None or m.held_on <= end]
    held = [m.held_on for m in meetings if m.status == MeetingStatus.HELD.value and m.held_on]
    excused = [m.period_start for m in meetings if m.status == MeetingStatus.EXCUSED.value]
    cadence = Cadence(employee.cadence)
    disputed = {period_containing(m.period_start, cadence) for m in meetings
                if m.status == MeetingStatus.DISPUTED.value}
    score = adherence(
        window_start=start, window_end=end, cadence=cadence,
        held_on=held, excused_periods=excused,
        employee_active=employee.active_span, manager_active=manager.active_span, as_of=as_of,
        tracking_from=employee.tracking_from)
    tracked = employee.tracking_from
    finished = {p for p in periods_in_window(start, end, cadence)
                if p.end <= as_of and (tracked is None or p.start >= tracked)}
    return CheckinRecord(manager, employee, window, score, len(disputed & finished))


def checkin_pairs(session: Session, person: Person) -> list[tuple[Person, Person, str]]:
    """The pairs a person's check-ins are kept for, as ``(manager, employee, role)``
    with ``role`` the other side's: their manager's pair first, then their reports'
    by name (``drumbeat status --person`` and the ``status`` reply both list these)."""
    pairs: list[tuple[Person, Person, str]] = []
    if person.manager is not None:
        pairs.append((person.manager, person, "manager"))
    reports = session.scalars(select(Person).where(Person.manager_id == person.id)
                              .order_by(Person.name))
    pairs.extend((person, report, "report") for report in reports)
    return pairs


@dataclass(frozen=True)
class GoalFigure:
    """A goal's progress (measured when it has a metric, else rolled up), its projects'
    task roll-up beside it, and its measure (None: not measurable)."""

    progress: float | None
    rolled: float | None
    measure: Measure | None = None


def goals_of(session: Session, person: Person, today: date) -> list[tuple[Goal, GoalFigure]]:
    """The goals a person owns or has open tasks under, with their figures."""
    under_tasks = (select(Project.goal_id).join(Task, Task.project_id == Project.id)
                   .where(Task.owner_id == person.id, Task.status.in_(OPEN_STATUSES)))
    goals = list(session.scalars(select(Goal).where(
        or_(Goal.owner_id == person.id, Goal.id.in_(under_tasks))).order_by(Goal.id)))
    figures = goal_figures(session, {goal.id for goal in goals}, today)
    return [(goal, figures[goal.id]) for goal in goals]


def goal_figures(session: Session, goal_ids: set[int], today: date) -> dict[int, GoalFigure]:
    """Some goals' figures, computed exactly as ``cascade`` does."""
    if not goal_ids:
        return {}
    owners: dict[int, str] = {}
    projects = _project_nodes(session, today, owners, goal_ids)
    result: dict[int, GoalFigure] = {}
    for goal in session.scalars(select(Goal).where(Goal.id.in_(goal_ids))):
        node = _node(goal, owners)
        node.children = projects.get(goal.id, [])
        _roll_up_goal(node)
        result[goal.id] = GoalFigure(node.progress, node.rolled, node.measure)
    return result


def goal_progress(session: Session, goal_ids: set[int], today: date) -> dict[int, float | None]:
    """Some goals' progress (measured, or rolled up), computed exactly as ``cascade`` does."""
    return {goal_id: figure.progress
            for goal_id, figure in goal_figures(session, goal_ids, today).items()}
