"""What an agenda says about the work: every open task grouped, the last 1:1's action
items, the goals at risk.

Each is read in a fixed number of queries per batch of agendas (``read_agendas``),
however many pairs, tasks, goals or meetings it holds (no query per pair, task or
goal); goal progress, the one figure many agendas share, comes through the worker's
cache (``progress_of``). The grouping
and the risk rule are pure: the risk is ``models.scoring.points_behind``, the rule the
digests use, judged on today's progress.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from mail.write.agenda import GoalAtRisk, TaskLine
from mail.write.agenda import TalkingPoint as TalkingPointLine
from models.mailbox import InboundMessage, InboundStatus
from models.meetings import Meeting, MeetingStatus
from models.plan import Goal, Task, TaskStatus
from models.scoring import points_behind, time_elapsed
from workers.talking_points import agenda_points

STALE_AFTER = timedelta(days=21)  # "no update since …" from three weeks on
OPEN = (TaskStatus.OPEN.value, TaskStatus.IN_PROGRESS.value)
LIVE = (*OPEN, TaskStatus.BLOCKED.value)  # the tasks an agenda lists as open work
FINISHED = (TaskStatus.DONE.value, TaskStatus.DROPPED.value)
SYSTEM_KEY = "drumbeat:"  # Drumbeat's own plan items, which nobody is judged on

ProgressOf = Callable[[set[int]], dict[int, float | None]]


@dataclass(frozen=True)
class TaskGroups:
    """The employee's tasks under the agenda's headings, each in due-date order."""

    overdue: tuple[TaskLine, ...]
    due_soon: tuple[TaskLine, ...]
    blocked: tuple[TaskLine, ...]
    in_progress_later: tuple[TaskLine, ...]
    not_started_later: tuple[TaskLine, ...]
    done_recently: tuple[TaskLine, ...]


def task_line(task: Task, today: date) -> TaskLine:
    """One task as the agenda shows it; open work untouched for three weeks says since when."""
    last = max(task.updated_at or task.created_at, task.created_at).date()
    stale = last if task.status in LIVE and today - last >= STALE_AFTER else None
    return TaskLine(ref=task.ref, title=task.title, due=task.due, status=task.status,
                    progress=task.progress, project=f"{task.project.ref} {task.project.title}",
                    blocked_reason=task.blocked_reason, stale_since=stale)


def group_tasks(tasks: Sequence[Task], today: date, following: date, since: datetime
                ) -> TaskGroups:
    """Every open task in exactly one group: overdue, due before the ``following`` check-in,
    blocked, in progress and due later, not started and due later or undated; and the
    tasks done ``since`` the last check-in. ``tasks`` come in due-date order."""
    def lines(keep: Callable[[Task], bool]) -> tuple[TaskLine, ...]:
        return tuple(task_line(t, today) for t in tasks if keep(t))

    def later(t: Task) -> bool:
        return t.status in OPEN and (t.due is None or t.due >= following)

    return TaskGroups(
        overdue=lines(lambda t: t.status in OPEN and t.due is not None and t.due < today),
        due_soon=lines(lambda t: t.status in OPEN and t.due is not None
                       and today <= t.due < following),
        blocked=lines(lambda t: t.status == TaskStatus.BLOCKED.value),
        in_progress_later=lines(lambda t: later(t) and t.status == TaskStatus.IN_PROGRESS.value),
        not_started_later=lines(lambda t: later(t) and t.status == TaskStatus.OPEN.value),
        done_recently=lines(lambda t: t.status == TaskStatus.DONE.value
                            and t.completed_at is not None and t.completed_at >= since),
    )


@dataclass(frozen=True)
class PairMeetings:
    """The employee's meetings (for the check-in record: ``models.queries.record_of``), the
    day of the pair's last held 1:1 and the tasks its notes created, by id in order."""

    meetings: tuple[Any, ...]
    last_held_on: date | None
    action_item_ids: tuple[int, ...]


Pair = tuple[int, int]  # (manager, employee)


@dataclass(frozen=True)
class AgendaReads:
    """What the agendas of a batch of pairs show about the work, read for all of them
    at once (``read_agendas``); each agenda then takes its own pair's part."""

    tasks: dict[int, list[Task]]  # by employee, in due-date order
    goals: dict[int, Goal]  # of ``load_goals``
    meetings: dict[Pair, PairMeetings]
    items: dict[int, Task]  # the action items' tasks, by id
    points: dict[Pair, tuple[TalkingPointLine, ...]]

    def tasks_of(self, employee_id: int, since: datetime) -> list[Task]:
        """The employee's open tasks and those done ``since`` their last check-in."""
        return [t for t in self.tasks.get(employee_id, ()) if t.status in LIVE
                or (t.completed_at is not None and t.completed_at >= since)]

    def action_items(self, pair: Pair, today: date) -> tuple[TaskLine, ...]:
        """The tasks the pair's last 1:1's notes made, with their state now; the pair's
        own only: others' are not theirs to read."""
        ids = self.meetings[pair].action_item_ids
        return tuple(task_line(self.items[i], today) for i in ids
                     if i in self.items and self.items[i].owner_id in pair)


def read_agendas(session: Session, pairs: Collection[Pair], since: datetime) -> AgendaReads:
    """For the agendas of ``pairs`` (done tasks from ``since``, the earliest last check-in
    of them), in a fixed number of queries however many pairs: tasks with their projects,
    goals, meetings, the notes of the last held ones, their action items, talking points."""
    employees = {employee for _manager, employee in pairs}
    tasks = list(session.scalars(
        select(Task)
        .where(Task.owner_id.in_(employees),
               or_(Task.status.in_(LIVE), and_(Task.status == TaskStatus.DONE.value,
                                               Task.completed_at >= since)))
        .options(selectinload(Task.project))
        .order_by(Task.due.is_(None), Task.due, Task.id)))
    by_owner: dict[int, list[Task]] = {}
    for task in tasks:
        by_owner.setdefault(task.owner_id, []).append(task)
    meetings = pair_meetings(session, pairs)
    wanted = {i for met in meetings.values() for i in met.action_item_ids}
    items = {t.id: t for t in session.scalars(
        select(Task).where(Task.id.in_(wanted)).options(selectinload(Task.project)))
    } if wanted else {}
    return AgendaReads(tasks=by_owner, goals=load_goals(session, employees, tasks),
                       meetings=meetings, items=items, points=agenda_points(session, pairs))


def pair_meetings(session: Session, pairs: Collection[Pair]) -> dict[Pair, PairMeetings]:
    """The check-in record's meetings, each pair's last held 1:1 and its notes, in two
    queries for all the pairs.

    A notes message records in its outcome the meeting it logged and the tasks it made;
    only the pair's own messages since that meeting's period began can be its notes.
    """
    rows = session.execute(
        select(Meeting.id, Meeting.manager_id, Meeting.employee_id, Meeting.status,
               Meeting.held_on, Meeting.period_start)
        .where(Meeting.employee_id.in_({employee for _manager, employee in pairs}))
        .order_by(Meeting.id)).all()
    last: dict[Pair, Any] = {}
    for row in rows:
        pair = (row.manager_id, row.employee_id)
        if row.status == MeetingStatus.HELD.value and pair in pairs and (
                pair not in last or (row.period_start, row.id) > (last[pair].period_start,
                                                                   last[pair].id)):
            last[pair] = row
    notes = _notes_of(session, last)
    return {pair: PairMeetings(
        tuple(row for row in rows if row.employee_id == pair[1]),
        last[pair].held_on if pair in last else None,
        tuple(dict.fromkeys(_task_ids(notes.get(pair, ()))))) for pair in pairs}


def _notes_of(session: Session, last: dict[Pair, Any]) -> dict[Pair, list[dict[str, Any]]]:
    """The outcomes of the notes that logged each pair's last held meeting, in order."""
    if not last:
        return {}
    logged = InboundMessage.outcome["meeting_id"].as_integer()
    by_meeting = {row.id: pair for pair, row in last.items()}
    found: dict[Pair, list[dict[str, Any]]] = {}
    for person_id, received_at, outcome, meeting_id in session.execute(
            select(InboundMessage.person_id, InboundMessage.received_at,
                   InboundMessage.outcome, logged)
            .where(logged.in_(by_meeting), InboundMessage.status == InboundStatus.APPLIED.value,
                   InboundMessage.person_id.in_({p for pair in last for p in pair}))
            .order_by(InboundMessage.id)):
        pair = by_meeting.get(meeting_id)
        since = datetime.combine(last[pair].period_start, time(), UTC) - timedelta(days=1) \
            if pair else None
        if pair and person_id in pair and outcome and received_at >= since \
                and outcome.get("kind") == "notes":
            found.setdefault(pair, []).append(outcome)
    return found


def _task_ids(outcomes: Iterable[dict[str, object]]) -> Iterable[int]:
    for outcome in outcomes:
        for ref in outcome.get("tasks_created") or ():  # type: ignore[attr-defined]
            if isinstance(ref, str) and ref.startswith("T-") and ref[2:].isdigit():
                yield int(ref[2:])


def load_goals(session: Session, employee_ids: Collection[int], tasks: Sequence[Task]
               ) -> dict[int, Goal]:
    """In one query, the goals of the tasks' projects (so ``project.goal`` needs no query of
    its own) and the live, dated goals the employees own."""
    return {goal.id: goal for goal in session.scalars(select(Goal).where(or_(
        Goal.id.in_({t.project.goal_id for t in tasks}),
        and_(Goal.owner_id.in_(employee_ids), Goal.status.not_in(FINISHED),
             Goal.due.is_not(None)))))}


def goals_at_risk(employee_id: int, tasks: Sequence[Task], goals: dict[int, Goal], today: date,
                  fiscal_year_start_month: int, progress_of: ProgressOf
                  ) -> tuple[GoalAtRisk, ...]:
    """The goals at risk the employee owns or has open tasks under (of ``load_goals``), with
    how many of those tasks are theirs; progress from the cache."""
    open_under: Counter[int] = Counter(t.project.goal_id for t in tasks if t.status in LIVE)
    judged = {gid: g for gid, g in goals.items()
              if (gid in open_under or g.owner_id == employee_id) and g.due is not None
              and g.status not in FINISHED and not (g.import_key or "").startswith(SYSTEM_KEY)}
    progress = progress_of(set(judged))
    found = []
    for goal_id, goal in sorted(judged.items()):
        elapsed = time_elapsed(goal.due, goal.created_at.date() if goal.created_at else None,
                               today, fiscal_year_start_month)
        behind = points_behind(False, progress.get(goal_id), elapsed)
        if behind is not None:
            found.append(GoalAtRisk(goal.ref, goal.title, behind, open_under[goal_id],
                                    goal.owner_id == employee_id))
    return tuple(found)
