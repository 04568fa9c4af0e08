"""What an agenda says about the work: every open task grouped, the last 1:1's action
items, the goals at risk.

Each is read in a fixed number of queries per agenda, however many tasks, goals or
meetings the pair has (no query per task or per goal); goal progress, the one figure
many agendas share, comes through the worker's cache (``progress_of``). The grouping
and the risk rule are pure: the risk is ``models.scoring.points_behind``, the rule the
digests use, judged on today's progress.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from mail.write.agenda import GoalAtRisk, TaskLine
from models.mailbox import InboundMessage, InboundStatus
from models.meetings import Meeting, MeetingStatus
from models.plan import Goal, Task, TaskStatus
from models.scoring import points_behind, time_elapsed

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


def pair_meetings(session: Session, manager_id: int, employee_id: int) -> PairMeetings:
    """The check-in record's meetings, the pair's last held 1:1 and its notes, in one query.

    The notes are joined to the last held meeting only: a notes message records in its
    outcome the meeting it logged and the tasks it made, and only the pair's own messages
    since that meeting's period began can be its notes.
    """
    last_held = (select(Meeting.id)
                 .where(Meeting.manager_id == manager_id, Meeting.employee_id == employee_id,
                        Meeting.status == MeetingStatus.HELD.value)
                 .order_by(Meeting.period_start.desc(), Meeting.id.desc()).limit(1)
                 .scalar_subquery())
    rows = session.execute(
        select(Meeting.id, Meeting.manager_id, Meeting.status, Meeting.held_on,
               Meeting.period_start, InboundMessage.received_at, InboundMessage.outcome)
        .outerjoin(InboundMessage, and_(
            Meeting.id == last_held,
            InboundMessage.person_id.in_((manager_id, employee_id)),
            InboundMessage.status == InboundStatus.APPLIED.value,
            InboundMessage.outcome["meeting_id"].as_integer() == Meeting.id))
        .where(Meeting.employee_id == employee_id)
        .order_by(Meeting.id, InboundMessage.id)).all()
    meetings = tuple({row.id: row for row in rows}.values())
    held = [m for m in meetings
            if m.manager_id == manager_id and m.status == MeetingStatus.HELD.value]
    if not held:
        return PairMeetings(meetings, None, ())
    last = max(held, key=lambda m: (m.period_start, m.id))
    since = datetime.combine(last.period_start, time(), UTC) - timedelta(days=1)
    outcomes = (row.outcome for row in rows if row.id == last.id and row.outcome
                and row.received_at >= since and row.outcome.get("kind") == "notes")
    return PairMeetings(meetings, last.held_on, tuple(dict.fromkeys(_task_ids(outcomes))))


def action_items(session: Session, pair: tuple[int, int], ids: Sequence[int], today: date
                 ) -> tuple[TaskLine, ...]:
    """The tasks the last 1:1's notes made, with their state now (none read when there are
    none); the pair's own only: others' are not theirs to read."""
    if not ids:
        return ()
    tasks = {t.id: t for t in session.scalars(
        select(Task).where(Task.id.in_(ids), Task.owner_id.in_(pair))
        .options(selectinload(Task.project)))}
    return tuple(task_line(tasks[i], today) for i in ids if i in tasks)


def _task_ids(outcomes: Iterable[dict[str, object]]) -> Iterable[int]:
    for outcome in outcomes:
        for ref in outcome.get("tasks_created") or ():  # type: ignore[attr-defined]
            if isinstance(ref, str) and ref.startswith("T-") and ref[2:].isdigit():
                yield int(ref[2:])


def load_goals(session: Session, employee_id: int, tasks: Sequence[Task]) -> dict[int, Goal]:
    """In one query, the goals of the tasks' projects (so ``project.goal`` needs no query of
    its own) and the live, dated goals the employee owns."""
    return {goal.id: goal for goal in session.scalars(select(Goal).where(or_(
        Goal.id.in_({t.project.goal_id for t in tasks}),
        and_(Goal.owner_id == employee_id, Goal.status.not_in(FINISHED),
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
