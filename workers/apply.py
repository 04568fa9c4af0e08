"""Applying parsed reply commands to the database, with the sender's permissions.

One function per command kind, all inside the caller's transaction, each
returning what it did (a line for the answer) or why not. Permissions follow
DESIGN.md: people change their own tasks, managers their reports' tasks down
the reporting line, only managers drop tasks, HR reads. A task the sender may
not touch gets the same answer as a task that does not exist, so a reply never
reveals what someone else is working on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mail.grammar import Command, MeetingReport, NewTask, TaskUpdate
from models.meetings import Meeting, MeetingStatus
from models.people import Person, PersonAlias
from models.plan import Project, Task, TaskStatus, parse_ref
from models.plan import TaskUpdate as TaskHistory
from models.scoring import Cadence, period_containing

MAX_CHAIN = 64


@dataclass(frozen=True)
class Pair:
    """The 1:1 a reply is about (from its agenda's token)."""

    manager_id: int
    employee_id: int
    period_start: date | None = None


@dataclass
class Outcome:
    """What one message did: the answer lists these three, like Mailman's command runner."""

    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)   # (line, reason)
    not_understood: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return bool(self.done)


def manages(session: Session, manager_id: int, person_id: int) -> bool:
    """True when ``manager_id`` is above ``person_id`` in the reporting line."""
    current: int | None = person_id
    for _ in range(MAX_CHAIN):
        current = session.scalar(select(Person.manager_id).where(Person.id == current))
        if current is None:
            return False
        if current == manager_id:
            return True
    return False


def _may_change(session: Session, sender: Person, owner_id: int) -> bool:
    return sender.id == owner_id or manages(session, sender.id, owner_id)


def local_today(sender: Person, now: datetime) -> date:
    """The sender's calendar day at ``now``, in their time zone."""
    return now.astimezone(ZoneInfo(sender.timezone)).date()


class Applier:
    """Applies one message's commands for one sender; collects the Outcome."""

    def __init__(self, session: Session, sender: Person, *, inbound_id: int | None,
                 now: datetime, pair: Pair | None = None) -> None:
        self.session = session
        self.sender = sender
        self.inbound_id = inbound_id
        self.now = now
        self.pair = pair
        self.outcome = Outcome()
        self._tasks: dict[int, Task] = {}
        self._meetings: dict[tuple[int, int, date], Meeting] = {}  # touched by this message
        self.meeting: Meeting | None = None  # the meeting a met:/skip: line logged

    def apply(self, commands: tuple[Command, ...] | list[Command]) -> Outcome:
        self._load_tasks(commands)
        for command in commands:
            if isinstance(command, TaskUpdate):
                self._task_update(command)
            elif isinstance(command, NewTask):
                self._new_task(command)
            elif isinstance(command, MeetingReport):
                self._meeting(command)
        return self.outcome

    # --- task updates --------------------------------------------------------------

    def _load_tasks(self, commands: tuple[Command, ...] | list[Command]) -> None:
        """Every task the message names, in one locked SELECT (in id order, so two
        messages about the same tasks wait for each other instead of deadlocking);
        the lookups below then find them in the session without a query each."""
        ids = sorted({parsed[1] for command in commands if isinstance(command, TaskUpdate)
                      if (parsed := parse_ref(command.task)) and parsed[0] == "T"})
        if ids:  # held here: the session's identity map keeps only weak references
            self._tasks = {task.id: task for task in self.session.scalars(
                _TASKS_FOR_UPDATE, {"ids": ids})}

    def _task(self, ref: str, line: str) -> Task | None:
        parsed = parse_ref(ref)
        task_id = parsed[1] if parsed and parsed[0] == "T" else None
        task = self._tasks.get(task_id) if task_id is not None else None
        if task is None or not _may_change(self.session, self.sender, task.owner_id):
            self.outcome.refused.append((line, f"{ref} is not one of your tasks or your "
                                         "reports' tasks; check the reference in your agenda"))
            return None
        return task

    def _task_update(self, command: TaskUpdate) -> None:
        task = self._task(command.task, command.line)
        if task is None:
            return
        if command.status == TaskStatus.DROPPED.value and not manages(
                self.session, self.sender.id, task.owner_id):
            self.outcome.refused.append((command.line, f"only {task.owner.name}'s manager can "
                                         f"drop {task.ref}; write '{task.ref} blocked: why' "
                                         "or ask your manager"))
            return
        if self._superseded(task, command):
            return
        old = (task.status, task.progress, task.due)
        status, progress = self._new_status_and_progress(task, command)
        task.status, task.progress = status, progress
        if command.due is not None:
            task.due = command.due
        if status == TaskStatus.DONE.value and old[0] != status:
            task.completed_at = self.now
        elif status != TaskStatus.DONE.value:
            task.completed_at = None
        if status == TaskStatus.BLOCKED.value:
            task.blocked_reason = command.note or task.blocked_reason
        elif old[0] == TaskStatus.BLOCKED.value:
            task.blocked_reason = None
        if _changes_state(command) and self.inbound_id is not None:
            task.set_by_message_id = self.inbound_id
        self.session.add(TaskHistory(
            task_id=task.id, author_id=self.sender.id, inbound_message_id=self.inbound_id,
            source="email", created_at=self.now, old_status=old[0], new_status=status,
            old_progress=old[1], new_progress=progress, old_due=old[2], new_due=task.due,
            note=command.note))
        self.outcome.done.append(_describe(task, old))

    def _superseded(self, task: Task, command: TaskUpdate) -> bool:
        """True (and answered) when a message that arrived after this one already set
        the task: two replies applied by two workers, or one retried late, end with the
        later one's word, whatever order they were applied in."""
        later = task.set_by_message_id
        if self.inbound_id is None or later is None or later <= self.inbound_id \
                or not _changes_state(command):
            return False
        self.outcome.refused.append((command.line, f"{task.ref} was not changed: a message "
                                     f"that arrived after this one already set it "
                                     f"({_state(task)}); send the line again if it still "
                                     "holds"))
        return True

    @staticmethod
    def _new_status_and_progress(task: Task, command: TaskUpdate) -> tuple[str, int]:
        status, progress = task.status, task.progress
        if command.percent is not None:
            progress = command.percent
            if progress == 100:
                status = TaskStatus.DONE.value
            elif status in (TaskStatus.OPEN.value, TaskStatus.DONE.value):
                status = TaskStatus.IN_PROGRESS.value if progress else TaskStatus.OPEN.value
        if command.status is not None:
            status = command.status
        if status == TaskStatus.DONE.value:
            progress = 100
        elif progress == 100:
            progress = 99 if command.percent is None else progress
        return status, progress

    # --- new tasks -----------------------------------------------------------------

    def _new_task(self, command: NewTask) -> None:
        owner = self._owner(command)
        if owner is None:
            return
        project = self._project(command, owner)
        if project is None:
            return
        task = Task(title=command.title, owner_id=owner.id, project_id=project.id,
                    due=command.due, status=TaskStatus.OPEN.value, progress=0, weight=1.0,
                    created_at=self.now, updated_at=self.now)
        self.session.add(task)
        self.session.flush()
        self.session.add(TaskHistory(task_id=task.id, author_id=self.sender.id,
                                     inbound_message_id=self.inbound_id, source="email",
                                     created_at=self.now, new_status=task.status,
                                     new_progress=0, new_due=task.due, note="created by email"))
        due = f", due {task.due:%a %d %b %Y}" if task.due else ""
        self.outcome.done.append(f"{task.ref} created: {task.title} ({owner.name}{due}, "
                                 f"{project.ref} {project.title})")

    def _owner(self, command: NewTask) -> Person | None:
        if command.owner is None:
            return self.sender
        found = _person_named(self.session, command.owner)
        if found is None or not _may_change(self.session, self.sender, found.id):
            self.outcome.refused.append((command.line, f"I can't give a task to "
                                         f"'{command.owner}': name yourself or one of your "
                                         "reports, by email or @name"))
            return None
        return found

    def _project(self, command: NewTask, owner: Person) -> Project | None:
        if command.project is not None:
            parsed = parse_ref(command.project)
            project = self.session.get(Project, parsed[1]) if parsed and parsed[0] == "P" \
                else None
            if project is None:
                self.outcome.refused.append((command.line, f"there is no project "
                                             f"{command.project}; see the P- references in "
                                             "your agenda"))
            return project
        projects = set(self.session.scalars(select(Task.project_id).where(
            Task.owner_id == owner.id, Task.status.in_(
                (TaskStatus.OPEN.value, TaskStatus.IN_PROGRESS.value,
                 TaskStatus.BLOCKED.value)))).all())
        if len(projects) == 1:
            return self.session.get(Project, projects.pop())
        self.outcome.refused.append((command.line, "which project? Add its reference, e.g. "
                                     f"'new: {command.title} P-3'"))
        return None

    # --- meetings ------------------------------------------------------------------

    def _meeting(self, command: MeetingReport) -> None:
        pair = self._pair_for_meeting(command.line)
        if pair is None:
            return
        manager = self.session.get(Person, pair.manager_id)
        employee = self.session.get(Person, pair.employee_id)
        assert manager is not None and employee is not None
        day = command.on or local_today(self.sender, self.now)
        period = period_containing(pair.period_start or day, Cadence(employee.cadence))
        key = (manager.id, employee.id, period.start)
        meeting = self._meetings.get(key)
        if meeting is None:  # no flush first: the task updates go with the meeting's
            with self.session.no_autoflush:
                meeting = self.session.scalar(_MEETING_OF_PERIOD, {
                    "manager_id": manager.id, "employee_id": employee.id,
                    "start": period.start})
        if meeting is None:
            meeting = Meeting(manager_id=manager.id, employee_id=employee.id,
                              period_start=period.start, period_end=period.end,
                              created_at=self.now, updated_at=self.now,
                              confirmed_by_manager=False, confirmed_by_employee=False)
            self.session.add(meeting)
        self._meetings[key] = meeting
        if command.excused:
            meeting.status, meeting.reason = MeetingStatus.EXCUSED.value, command.reason
            words = f"skipped ({command.reason})" if command.reason else "skipped"
        elif command.held is False:
            meeting.status, meeting.reason = MeetingStatus.NOT_HELD.value, command.reason
            words = "not held" + (f" ({command.reason})" if command.reason else "")
        else:
            meeting.status, meeting.held_on = MeetingStatus.HELD.value, day
            meeting.duration_minutes = command.minutes or meeting.duration_minutes
            words = f"held on {day:%a %d %b %Y}"
        if self.sender.id == manager.id:
            meeting.confirmed_by_manager = True
        if self.sender.id == employee.id:
            meeting.confirmed_by_employee = True
        meeting.source_message_id = meeting.source_message_id or self.inbound_id
        self.meeting = meeting
        other = employee if self.sender.id == manager.id else manager
        self.outcome.done.append(f"1:1 with {other.name}, {period.key}: {words}")

    def _pair_for_meeting(self, line: str) -> Pair | None:
        if self.pair is not None and self.sender.id in (self.pair.manager_id,
                                                         self.pair.employee_id):
            return self.pair
        if self.sender.manager_id is not None and self.pair is None:
            with self.session.no_autoflush:  # who reports to whom is not what changes here
                reports = self.session.scalar(_ANY_REPORT, {"manager_id": self.sender.id})
            if reports is None:  # only a manager of their own: unambiguous
                return Pair(self.sender.manager_id, self.sender.id)
        self.outcome.refused.append((line, "which 1:1? Reply to that check-in's agenda email "
                                     "so I know who met"))
        return None


# Built once (the reply path runs them for every message).
_TASKS_FOR_UPDATE = select(Task).where(Task.id.in_(bindparam("ids", expanding=True))) \
    .order_by(Task.id).with_for_update()
_MEETING_OF_PERIOD = select(Meeting).where(
    Meeting.manager_id == bindparam("manager_id"),
    Meeting.employee_id == bindparam("employee_id"),
    Meeting.period_start == bindparam("start"))
_ANY_REPORT = select(Person.id).where(Person.manager_id == bindparam("manager_id")).limit(1)


def _person_named(session: Session, name: str) -> Person | None:
    """An owner written as an email, or as @name matching one person's email or name."""
    name = name.strip().lstrip("@").lower()
    if "@" in name:
        person = session.scalar(select(Person).where(Person.email == name))
        return person or session.scalar(
            select(Person).join(PersonAlias).where(PersonAlias.email == name))
    matches = [p for p in session.scalars(select(Person)) if
               p.email.split("@")[0] == name or p.email.split("@")[0].split(".")[0] == name
               or p.name.lower() == name or p.name.lower().split()[0] == name]
    return matches[0] if len(matches) == 1 else None


def _changes_state(command: TaskUpdate) -> bool:
    """A line that sets status, progress or due date (not a note alone)."""
    return command.status is not None or command.percent is not None or command.due is not None


def _state(task: Task) -> str:
    words = [task.status.replace("_", " ")]
    if task.status != TaskStatus.DONE.value:
        words.append(f"{task.progress}%")
    if task.due is not None:
        words.append(f"due {task.due:%a %d %b %Y}")
    return ", ".join(words)


def _describe(task: Task, old: tuple[str, int, date | None]) -> str:
    changes = []
    if task.status != old[0]:
        changes.append(task.status.replace("_", " "))
    if task.progress != old[1] and task.status != TaskStatus.DONE.value:
        changes.append(f"{old[1]}% → {task.progress}%")
    if task.due != old[2] and task.due is not None:
        changes.append(f"due {task.due:%a %d %b %Y}")
    what = ", ".join(changes) or "note added"
    return f"{task.ref} {task.title}: {what}"


