"""Applying parsed reply commands to the database, with the sender's permissions.

One function per command kind, all inside the caller's transaction, each returning what
it did (a line for the answer) or why not. Permissions follow the README ("Who may
change what") and docs/design.md ("The trust model"): people change their own tasks,
managers their reports' tasks down the reporting line, only managers drop tasks (except
that a task someone else created for you from 1:1 notes you may drop or hand back), HR
reads. A task the sender may not touch gets the same answer as a task that does not
exist, so a reply never reveals what someone else is working on; the same holds for
projects (``P-n``): a sender may add tasks only to projects of their reporting line
(``reporting_line``), and any other project is answered as unknown.

The meeting record keeps who said what: each side's last word (held / not
held), who excused a period, and ``disputed`` when the two disagree
(``models.meetings.meeting_status``). A ``met:`` date lies in the current or
previous cadence period and never in the future; older dates only from the
manager. An agenda's meeting lines stop applying ``meeting_lines_days`` after
its period closes (``pair_from_agenda``); its task lines keep working.

``T-12 done on DATE`` corrects when a task was completed: never in the future,
and a day before the current fiscal quarter (or a change to a completion day in
one) only from someone above the owner, since it changes a closed period's
figures (``_done_on_refusal``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mail.read.commands import (
    HANDED_BACK,
    Away,
    Command,
    GoalValue,
    ItemDue,
    ItemOwner,
    ItemTitle,
    MeetingReport,
    NewProject,
    NewTask,
    PlanCommand,
    TaskDoneOn,
    TaskUpdate,
    Topic,
    TopicDone,
)
from mail.write.agenda import AgendaContext
from mail.write.answer import day_words, duration_words, first_words
from models.meetings import Meeting, MeetingStatus, Says, meeting_status
from models.people import Person
from models.plan import Project, Task, TaskHistory, TaskStatus, parse_ref
from models.scoring import Cadence, Period, period_containing, quarter_window
from models.talking_points import TalkingPoint
from workers import away, plan_changes, talking_points
from workers.outbox import OutboxRow
from workers.permissions import (
    manages,
    may_change,
    no_such_project,
    no_such_task,
    person_named,
    project_open_to,
    reporting_line,
)

DEFAULT_DOMAIN = "drumbeat.localhost"  # config.settings' default for DRUMBEAT_MAIL_DOMAIN


@dataclass(frozen=True)
class Pair:
    """The 1:1 a reply is about (from its agenda's token)."""

    manager_id: int
    employee_id: int
    period_start: date | None = None
    period_end: date | None = None
    # The agenda's met:/skip: lines apply until this day (UTC); None: no limit.
    meeting_lines_until: date | None = None
    meeting_lines_closed: bool = False


DEFAULT_MEETING_LINES_DAYS = 14


def pair_from_agenda(context: AgendaContext, now: datetime, *,
                     meeting_lines_days: int = DEFAULT_MEETING_LINES_DAYS) -> Pair:
    """The 1:1 an agenda (or nudge) names. Its meeting lines close ``meeting_lines_days``
    after its period ends, so an old token cannot rewrite a record digests were built
    from; the days are counted in UTC, where ``now`` is."""
    end = context.period_end
    until = end + timedelta(days=meeting_lines_days) if end is not None else None
    closed = until is not None and now.astimezone(UTC).date() > until
    return Pair(context.manager_id, context.employee_id, context.period_start, end, until,
                closed)


@dataclass
class Outcome:
    """What one message did: the answer lists these three, like Mailman's command runner."""

    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)   # (line, reason)
    not_understood: list[tuple[str, str]] = field(default_factory=list)


def local_today(sender: Person, now: datetime) -> date:
    """The sender's calendar day at ``now``, in their time zone."""
    return now.astimezone(ZoneInfo(sender.timezone)).date()


class Applier:
    """Applies one message's commands for one sender; collects the Outcome."""

    def __init__(self, session: Session, sender: Person, *, inbound_id: int | None,
                 now: datetime, pair: Pair | None = None,
                 fiscal_year_start_month: int = 1, mail_domain: str = DEFAULT_DOMAIN) -> None:
        self.session = session
        self.mail_domain = mail_domain  # for the away notices' Message-IDs and threads
        self.fiscal_year_start_month = fiscal_year_start_month  # "the current period"
        self.sender = sender
        self.inbound_id = inbound_id
        self.now = now
        self.pair = pair
        self.outcome = Outcome()
        self._tasks: dict[int, Task] = {}
        self._meetings: dict[tuple[int, int, date], Meeting] = {}  # touched by this message
        self.meeting: Meeting | None = None  # the meeting a met:/skip: line logged
        self._line: frozenset[int] | None = None  # reporting_line(sender), once needed
        self._raised: list[TalkingPoint] = []  # topics this message raised
        self.notices: list[OutboxRow] = []  # away notices, for the caller to add

    def apply(self, commands: tuple[Command, ...] | list[Command]) -> Outcome:
        self._load_tasks(commands)
        for command in commands:
            if isinstance(command, TaskUpdate):
                self._task_update(command)
            elif isinstance(command, TaskDoneOn):
                self._task_done_on(command)
            elif isinstance(command, NewTask):
                self._new_task(command)
            elif isinstance(command, MeetingReport):
                self._meeting(command)
            elif isinstance(command, ItemOwner | ItemTitle | ItemDue | NewProject | GoalValue):
                self._plan_change(command)
            else:
                self._about_the_one_on_one(command)
        talking_points.close_after_meeting(self.session, self._meetings.values(), self.now,
                                           keep=self._raised)
        return self.outcome

    # --- the plan by email (workers/plan_changes.py) -------------------------------------

    def _plan_change(self, command: PlanCommand) -> None:
        result = plan_changes.apply_plan_command(
            self.session, self.sender, command, inbound_id=self.inbound_id, now=self.now,
            today=local_today(self.sender, self.now), domain=self.mail_domain)
        self.notices += result.notices
        if result.ok:
            self.outcome.done.append(result.words)
        else:
            self.outcome.refused.append((command.line, result.words))

    # --- talking points and time away (workers/talking_points.py, workers/away.py) ----

    def _about_the_one_on_one(self, command: Topic | TopicDone | Away) -> None:
        agenda_pair = (self.pair.manager_id, self.pair.employee_id) if self.pair else None
        today = local_today(self.sender, self.now)
        if isinstance(command, Topic):
            (ok, words), point = talking_points.raise_topic(
                self.session, self.sender, command, agenda_pair, inbound_id=self.inbound_id,
                now=self.now, today=today)
            if point is not None:
                self._raised.append(point)
        elif isinstance(command, TopicDone):
            ok, words = talking_points.close_topic(self.session, self.sender, command,
                                                   agenda_pair, now=self.now)
        else:
            ok, (words, notices) = True, away.take_time_away(
                self.session, self.sender, command, today=today, inbound_id=self.inbound_id,
                now=self.now, domain=self.mail_domain, meeting_row=self._meeting_row)
            self.notices += notices
        if ok:
            self.outcome.done.append(words)
        else:
            self.outcome.refused.append((command.line, words))

    # --- task updates --------------------------------------------------------------

    def _load_tasks(self, commands: tuple[Command, ...] | list[Command]) -> None:
        """Every task the message names, in one locked SELECT (in id order, so two
        messages about the same tasks wait for each other instead of deadlocking);
        the lookups below then find them in the session without a query each."""
        ids = sorted({parsed[1] for command in commands
                      if isinstance(command, TaskUpdate | TaskDoneOn)
                      if (parsed := parse_ref(command.task)) and parsed[0] == "T"})
        if ids:  # held here: the session's identity map keeps only weak references
            self._tasks = {task.id: task for task in self.session.scalars(
                _TASKS_FOR_UPDATE, {"ids": ids})}

    def _task(self, ref: str, line: str) -> Task | None:
        parsed = parse_ref(ref)
        task_id = parsed[1] if parsed and parsed[0] == "T" else None
        task = self._tasks.get(task_id) if task_id is not None else None
        if task is None or not may_change(self.session, self.sender, task.owner_id):
            self.outcome.refused.append((line, no_such_task(ref)))
            return None
        return task

    def _task_update(self, command: TaskUpdate) -> None:
        task = self._task(command.task, command.line)
        if task is None:
            return
        if command.status == HANDED_BACK:
            self._hand_back(task, command)
            return
        if command.status == TaskStatus.DROPPED.value and not (
                manages(self.session, self.sender.id, task.owner_id)
                or self._given_from_notes(task)):
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
        self.outcome.done.append(_describe(task, old, command.note))

    def _task_done_on(self, command: TaskDoneOn) -> None:
        """``T-12 done on 3 Dec``: when the task was completed (marking it done if it is
        not). Never in the future; a day before the current quarter (the sender's today,
        the fiscal calendar), or a change to one, alters a closed period's figures, so it
        needs someone above the owner; an owner without a manager corrects their own."""
        task = self._task(command.task, command.line)
        if task is None:
            return
        today = local_today(self.sender, self.now)
        was = task.completed_at.astimezone(UTC).date() if (
            task.status == TaskStatus.DONE.value and task.completed_at) else None
        refusal = _done_on_refusal(command.on, was, today, self.fiscal_year_start_month,
                                   task, manages(self.session, self.sender.id, task.owner_id))
        if refusal is not None:
            self.outcome.refused.append((command.line, refusal))
            return
        if self._superseded(task, command):
            return
        old = (task.status, task.progress, task.completed_at)
        task.status, task.progress, task.blocked_reason = TaskStatus.DONE.value, 100, None
        # Noon UTC: the figures read a completion's day in UTC, so they count the day written.
        task.completed_at = min(datetime.combine(command.on, time(12), UTC), self.now)
        task.updated_at = self.now
        if self.inbound_id is not None:
            task.set_by_message_id = self.inbound_id
        note = f"completed on {command.on.isoformat()}" + (
            f" (was {was.isoformat()})" if was else "") + (
            f": {command.note}" if command.note else "")
        self.session.add(TaskHistory(
            task_id=task.id, author_id=self.sender.id, inbound_message_id=self.inbound_id,
            source="email", created_at=self.now, old_status=old[0], new_status=task.status,
            old_progress=old[1], new_progress=task.progress, old_due=task.due,
            new_due=task.due, note=note))
        words = f"marked done on {day_words(command.on)}" + (
            f" (was {day_words(was)})" if was and was != command.on else "") + (
            f", note “{first_words(command.note)}”" if command.note else "")
        self.outcome.done.append(f"{task.ref} {task.title}: {words}")

    def _given_from_notes(self, task: Task) -> bool:
        """The sender owns a task someone else created for them from 1:1 notes: theirs to
        drop or hand back, since they never wrote it themself."""
        return (task.owner_id == self.sender.id and task.from_notes_by_id is not None
                and task.from_notes_by_id != task.owner_id)

    def _hand_back(self, task: Task, command: TaskUpdate) -> None:
        """The task goes back to whoever created it from notes; nothing else changes."""
        if not self._given_from_notes(task):
            self.outcome.refused.append((command.line, f"{task.ref} cannot be handed back: "
                                         "only a task someone else created for you from 1:1 "
                                         f"notes can; write '{task.ref} blocked: why' or ask "
                                         "your manager"))
            return
        creator = self.session.get(Person, task.from_notes_by_id)
        assert creator is not None
        task.owner_id, task.from_notes_by_id = creator.id, None
        task.updated_at = self.now
        note = f"handed back to {creator.name}" + (f": {command.note}" if command.note else "")
        self.session.add(TaskHistory(
            task_id=task.id, author_id=self.sender.id, inbound_message_id=self.inbound_id,
            source="email", created_at=self.now, old_status=task.status,
            new_status=task.status, old_progress=task.progress, new_progress=task.progress,
            old_due=task.due, new_due=task.due, note=note))
        self.outcome.done.append(f"{task.ref} {task.title}: {note}")

    def _superseded(self, task: Task, command: TaskUpdate | TaskDoneOn) -> bool:
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
        due = f", due {day_words(task.due)}" if task.due else ""
        self.outcome.done.append(f"{task.ref} created: {task.title} ({owner.name}{due}, "
                                 f"{project.ref} {project.title})")

    def _owner(self, command: NewTask) -> Person | None:
        if command.owner is None:
            return self.sender
        found = person_named(self.session, command.owner)
        if found is None or not may_change(self.session, self.sender, found.id):
            self.outcome.refused.append((command.line, f"I can't give a task to "
                                         f"'{command.owner}': name yourself or one of your "
                                         "reports, by email or @name"))
            return None
        return found

    def _project(self, command: NewTask, owner: Person) -> Project | None:
        if command.project is not None:
            if self._line is None:
                self._line = reporting_line(self.session, self.sender)
            project = project_open_to(self.session, command.project, self._line)
            if project is None:
                self.outcome.refused.append((command.line, no_such_project(command.project)))
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
        if pair.meeting_lines_closed:
            assert pair.period_end is not None and pair.meeting_lines_until is not None
            self.outcome.refused.append((command.line, (
                f"this agenda's 1:1 period ended on {pair.period_end:%a %d %b %Y} and its "
                f"meeting lines could be sent until {pair.meeting_lines_until:%a %d %b %Y}, "
                "so the meeting record was not changed; its task lines still count. Log a "
                "later 1:1 by replying to a newer agenda")))
            return
        cadence = Cadence(employee.cadence)
        today = local_today(self.sender, self.now)
        day = command.on or today
        refusal = _meeting_day_refusal(day, today, cadence, self.sender.id == manager.id,
                                       manager.name)
        if refusal is not None:
            self.outcome.refused.append((command.line, refusal))
            return
        period = period_containing(
            day if command.on is not None else pair.period_start or day, cadence)
        meeting = self._meeting_row(manager.id, employee.id, period)
        side = "manager" if self.sender.id == manager.id else "employee"
        other = employee if side == "manager" else manager
        if command.excused:
            setattr(meeting, f"{side}_says", None)
            meeting.excused_by_id, meeting.reason = self.sender.id, command.reason
            words = f"skipped ({command.reason})" if command.reason else "skipped"
        elif command.held is False:
            setattr(meeting, f"{side}_says", Says.NOT_HELD.value)
            meeting.reason = command.reason
            words = "not held" + (f" ({command.reason})" if command.reason else "")
        else:
            setattr(meeting, f"{side}_says", Says.HELD.value)
            meeting.held_on = day
            meeting.duration_minutes = command.minutes or meeting.duration_minutes
            words = f"held on {day_words(day)}" + (
                f", {duration_words(meeting.duration_minutes)}"
                if meeting.duration_minutes else "")
        if not command.excused and meeting.excused_by_id == self.sender.id:
            meeting.excused_by_id = None  # they take their own excuse back
        meeting.status = meeting_status(meeting.manager_says, meeting.employee_says,
                                        excused=meeting.excused_by_id is not None).value
        setattr(meeting, f"confirmed_by_{side}", True)
        meeting.source_message_id = meeting.source_message_id or self.inbound_id
        self.meeting = meeting
        if meeting.status == MeetingStatus.DISPUTED.value:
            words += (f"; {other.name} logged it otherwise, so the record shows this 1:1 as "
                      "disputed until you agree")
        self.outcome.done.append(f"1:1 with {other.name}, {period.key}: {words}")

    def _meeting_row(self, manager_id: int, employee_id: int, period: Period) -> Meeting:
        """The pair's meeting of ``period``: touched earlier by this message, stored, or new."""
        key = (manager_id, employee_id, period.start)
        meeting = self._meetings.get(key)
        if meeting is None:  # no flush first: the task updates go with the meeting's
            with self.session.no_autoflush:
                meeting = self.session.scalar(_MEETING_OF_PERIOD, {
                    "manager_id": manager_id, "employee_id": employee_id,
                    "start": period.start})
        if meeting is None:
            meeting = Meeting(manager_id=manager_id, employee_id=employee_id,
                              period_start=period.start, period_end=period.end,
                              created_at=self.now, updated_at=self.now,
                              confirmed_by_manager=False, confirmed_by_employee=False)
            self.session.add(meeting)
        self._meetings[key] = meeting
        return meeting

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


def _meeting_day_refusal(day: date, today: date, cadence: Cadence, from_manager: bool,
                         manager_name: str) -> str | None:
    """Why a meeting date may not be logged (None: it may): never in the future, and
    before the previous cadence period only by the manager."""
    if day > today:
        return f"{day:%a %d %b %Y} is in the future; log a 1:1 once it has taken place"
    previous = period_containing(period_containing(today, cadence).start - timedelta(days=1),
                                 cadence)
    if day < previous.start and not from_manager:
        return (f"{day:%a %d %b %Y} is before the previous 1:1 period ({previous.key}); "
                f"only {manager_name} can log a meeting that long ago")
    return None


def _done_on_refusal(day: date, was: date | None, today: date, fiscal_year_start_month: int,
                     task: Task, above_owner: bool) -> str | None:
    """Why a completion day may not be set (None: it may): never in the future; and a
    closed period's record (a new day, or the day it holds now, before the current
    quarter) only by someone above the owner (or an owner with no manager)."""
    if day > today:
        return f"{day_words(day)} is in the future; mark a task done once it is finished"
    if above_owner or task.owner.manager_id is None:
        return None
    start, _end, label = quarter_window(today, fiscal_year_start_month)
    if day < start:
        return (f"{day_words(day)} is before the current period ({label}); only "
                f"{task.owner.name}'s manager can set a completion date in an earlier period")
    if was is not None and was < start:
        return (f"{task.ref} was done on {day_words(was)}, before the current period "
                f"({label}); only {task.owner.name}'s manager can change that record")
    return None


def _changes_state(command: TaskUpdate | TaskDoneOn) -> bool:
    """A line that sets status, progress or due date (not a note alone)."""
    if isinstance(command, TaskDoneOn):
        return True
    return command.status is not None or command.percent is not None or command.due is not None


def _state(task: Task) -> str:
    words = [task.status.replace("_", " ")]
    if task.status != TaskStatus.DONE.value:
        words.append(f"{task.progress}%")
    if task.due is not None:
        words.append(f"due {task.due:%a %d %b %Y}")
    return ", ".join(words)


def _describe(task: Task, old: tuple[str, int, date | None], note: str | None = None) -> str:
    """The answer's line for a task: what changed, the due date as read (weekday and
    date) and the note's first words, so the sender sees at a glance what was stored."""
    changes = []
    if task.status != old[0]:
        changes.append(task.status.replace("_", " "))
    if task.progress != old[1] and task.status != TaskStatus.DONE.value:
        changes.append(f"{old[1]}% → {task.progress}%")
    if task.due != old[2] and task.due is not None:
        changes.append(f"due {day_words(task.due)}")
    if note:
        changes.append(f"note “{first_words(note)}”")
    what = ", ".join(changes) or f"no change ({_state(task)})"
    return f"{task.ref} {task.title}: {what}"


