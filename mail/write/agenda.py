"""What a check-in agenda shows, as plain frozen dataclasses, and the reply examples.

The worker that builds an agenda fills an ``AgendaView`` from the database; the
renderer turns it into words. Nothing here knows about tables, so the agenda can
be rendered (and tested) from literals. ``AgendaContext`` is what an agenda's (or
nudge's) outbox row keeps as JSON: the pair and the period its reply speaks for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from config.amounts import amount_words
from mail.write.language import DEFAULT, translations

__all__ = ["AgendaContext", "AgendaView", "AwayNoticeView", "GoalAtRisk", "GoalLine",
           "TalkingPoint", "TaskGroup", "TaskLine", "reply_examples"]

OPEN_STATUSES = ("in_progress", "open", "blocked")  # ordered: examples must be stable
GROUP_SHOWN = 5  # a longer group shows its first few and how many more ``status`` lists


@dataclass(frozen=True)
class TaskLine:
    """One task as the agenda lists it; ``title`` is user text, always shown as text."""

    ref: str  # "T-42"
    title: str
    due: date | None
    status: str  # open, in_progress, blocked, done, dropped
    progress: int  # 0..100
    project: str  # "P-7 Mid-market pricing"
    blocked_reason: str | None = None
    stale_since: date | None = None  # last update, when three weeks or more ago


@dataclass(frozen=True)
class TaskGroup:
    """One heading's tasks; a long group shows only its first ``GROUP_SHOWN``."""

    heading: str
    tasks: tuple[TaskLine, ...]

    @property
    def shown(self) -> tuple[TaskLine, ...]:
        return self.tasks[:GROUP_SHOWN]

    @property
    def hidden(self) -> int:
        return max(0, len(self.tasks) - GROUP_SHOWN)


@dataclass(frozen=True)
class GoalLine:
    """One goal and its progress (None when nothing under it is measured): a measurable
    goal's is its measure's (``measure`` words it), with its tasks' roll-up in ``rolled``."""

    ref: str  # "G-3"
    title: str
    progress: float | None  # 0..100
    measure: str | None = None  # "ARR €3.1M of €4M (from €2.1M)", see measure_words
    rolled: float | None = None  # 0..100, the tasks' roll-up beside a measure


def measure_words(metric: str, unit: str | None, start: float, target: float,
                  value: float | None) -> str:
    """``ARR €3.1M of €4M (from €2.1M)``: a measurable goal's figure as its line shows it."""
    if value is None:
        return (f"{metric} not measured yet (from {amount_words(start, unit)} to "
                f"{amount_words(target, unit)})")
    return (f"{metric} {amount_words(value, unit)} of {amount_words(target, unit)} "
            f"(from {amount_words(start, unit)})")


@dataclass(frozen=True)
class GoalAtRisk:
    """A goal behind its time elapsed (``models.scoring.points_behind``), as it concerns
    the agenda's employee: they own it, or have ``open_tasks`` under it, or both."""

    ref: str  # "G-3"
    title: str
    behind: float  # percentage points
    open_tasks: int  # the employee's open tasks under it
    owned: bool  # the employee owns the goal


@dataclass(frozen=True)
class AgendaContext:
    """What an agenda or nudge row keeps (``OutboundMessage.context``): the pair, the
    period, whose copy it is, and the 1:1 it announces (None for a nudge). Written when
    the row is queued; read when it is rendered and when a reply to it arrives."""

    manager_id: int
    employee_id: int
    period_start: date
    period_end: date | None = None
    role: str = ""  # "employee" or "manager": whose copy
    period_key: str | None = None  # "2026-W49"
    meeting_at: datetime | None = None  # aware; agendas only

    @property
    def pair(self) -> tuple[int, int]:
        return self.manager_id, self.employee_id

    def names(self, person_id: int) -> bool:
        """Whether ``person_id`` is one of the pair."""
        return person_id in self.pair

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"manager_id": self.manager_id, "employee_id": self.employee_id}
        if self.meeting_at is not None:
            found["meeting_at"] = self.meeting_at.isoformat()
        found["period_start"] = self.period_start.isoformat()
        if self.period_end is not None:
            found["period_end"] = self.period_end.isoformat()
        if self.period_key is not None:
            found["period_key"] = self.period_key
        if self.role:
            found["role"] = self.role
        return found

    @classmethod
    def from_json(cls, context: Mapping[str, Any] | None) -> AgendaContext | None:
        """The context a row stored; None when it names no pair and period (an
        answer's, a digest's) or cannot be read."""
        context = context or {}
        if not (context.get("manager_id") and context.get("employee_id")
                and context.get("period_start")):
            return None
        end, meeting_at = context.get("period_end"), context.get("meeting_at")
        try:
            return cls(int(context["manager_id"]), int(context["employee_id"]),
                       date.fromisoformat(context["period_start"]),
                       date.fromisoformat(end) if end else None,
                       str(context.get("role") or ""), context.get("period_key"),
                       datetime.fromisoformat(meeting_at) if meeting_at else None)
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class TalkingPoint:
    """An open topic of the pair ("topic: the hiring plan"), shown on both agendas."""

    text: str  # user text, always shown as text
    raised_by_name: str  # who raised it
    raised_on: date


@dataclass(frozen=True)
class AgendaView:
    """Everything one agenda email says, for one reader (the employee or the manager)."""

    role: str  # "employee" or "manager": who reads it
    recipient_name: str
    employee_name: str
    manager_name: str
    meeting_at: datetime  # aware, in the recipient's time zone
    period_label: str  # "week 49", "weeks 49–50", "December"
    due_soon: tuple[TaskLine, ...]
    overdue: tuple[TaskLine, ...]
    blocked: tuple[TaskLine, ...]
    done_recently: tuple[TaskLine, ...]
    goals: tuple[GoalLine, ...]
    last_meeting: date | None
    quarter_label: str  # "2026-Q4"
    held: int
    expected: int
    adherence: float | None  # 0..1
    today: date  # the agenda's date, for "3 days overdue"
    in_progress_later: tuple[TaskLine, ...] = ()  # in progress, due after the next check-in
    not_started_later: tuple[TaskLine, ...] = ()  # not started, due later or undated
    action_items: tuple[TaskLine, ...] = ()  # created from the notes of the last 1:1
    action_items_on: date | None = None  # the day of that 1:1
    goals_at_risk: tuple[GoalAtRisk, ...] = ()
    # The day the pair's record counts from, when that is inside the quarter (the
    # figures above cover only that part of it); None: the whole quarter counts.
    tracked_since: date | None = None
    talking_points: tuple[TalkingPoint, ...] = ()
    locale: str = DEFAULT  # the reader's language: a shipped catalog (config.languages)

    def __post_init__(self) -> None:
        if self.role not in ("employee", "manager"):
            raise ValueError(f"role must be 'employee' or 'manager', not {self.role!r}")

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"

    @property
    def groups(self) -> tuple[TaskGroup, ...]:
        """The task groups in reading order, empty ones left out; both parts list these
        (headings in the reader's language)."""
        tr = translations(self.locale)
        groups = (TaskGroup(tr.gettext("Overdue"), self.overdue),
                  TaskGroup(tr.gettext("Due before the next check-in"), self.due_soon),
                  TaskGroup(tr.gettext("Blocked"), self.blocked),
                  TaskGroup(tr.gettext("In progress, due later"), self.in_progress_later),
                  TaskGroup(tr.gettext("Not started, due later or undated"),
                            self.not_started_later),
                  TaskGroup(tr.gettext("Done since the last check-in"), self.done_recently))
        return tuple(group for group in groups if group.tasks)

    @property
    def has_tasks(self) -> bool:
        return bool(self.groups)


def _first(tasks: list[TaskLine], used: set[str], *statuses: str) -> TaskLine | None:
    """The first unused task, preferring the given statuses in order (any open one last)."""
    for wanted in (*statuses, *OPEN_STATUSES):
        for task in tasks:
            if task.status == wanted and task.ref not in used:
                return task
    return None


def _next_percent(progress: int) -> int:
    """A plausible next progress figure, above the current one."""
    return min(90, (max(progress, 0) // 10 + 2) * 10) if progress < 90 else 100


def _friday_next_week(today: date) -> date:
    return today + timedelta(days=(4 - today.weekday()) % 7 + 7)


def reply_examples(view: AgendaView) -> list[str]:
    """Three to five reply lines in the reply grammar, using this person's own tasks.

    Examples that name real tasks get copied and edited, which is the point: a
    percentage for something in progress or late, ``done`` for something due
    soon, a new due date for something overdue. Generic ``T-12`` lines appear
    only when the agenda lists no task at all. A meeting line and an excuse
    line always close the list. The notes are in the reader's language; the keywords
    are ones the grammar reads (``done`` as ``erledigt``, ``fait``, ... where it has
    the word: the catalog's "reply command" context).
    """
    tr = translations(view.locale)
    done = tr.pgettext("reply command", "done")
    urgent = [*view.overdue, *view.due_soon]
    candidates = [*urgent, *view.blocked, *view.in_progress_later, *view.not_started_later]
    used: set[str] = set()
    lines: list[str] = []

    moving = _first(candidates, used, "in_progress")
    if moving is not None:
        used.add(moving.ref)
        lines.append(f"{moving.ref} {_next_percent(moving.progress)}% "
                     + tr.gettext("drafted the intro"))
    finishing = _first([*view.due_soon, *view.overdue], used, "in_progress", "open")
    if finishing is not None:
        used.add(finishing.ref)
        lines.append(f"{finishing.ref} {done}")
    late = _first(list(view.overdue), used)
    if late is not None:
        lines.append(f"{late.ref} due {_friday_next_week(view.today).isoformat()}")
    elif (stuck := _first(urgent, used, "open")) is not None:
        lines.append(f"{stuck.ref} blocked: " + tr.gettext("waiting on legal"))

    if not lines and view.done_recently:
        lines.append(f"{view.done_recently[0].ref} note: "
                     + tr.gettext("shared the results with the team"))
    if not lines:
        lines = ["T-12 60% " + tr.gettext("drafted the intro"),
                 "new: " + tr.gettext("Call the vendor by Friday")]
    return [*lines, "met: yes", "skip: " + tr.gettext("vacation")]


@dataclass(frozen=True)
class NudgeView:
    """A gentle reminder: a check-in period closed and no meeting was logged."""

    role: str                      # "employee" or "manager": who reads it
    recipient_name: str
    employee_name: str
    manager_name: str
    period_label: str              # "week 49"
    period_start: date
    period_end: date
    locale: str = DEFAULT  # the reader's language

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


@dataclass(frozen=True)
class AwayNoticeView:
    """The other side of a pair is told, once, that someone will be away."""

    recipient_name: str
    away_name: str  # who is away
    starts_on: date
    ends_on: date  # both days included
    excused: int  # the pair's check-ins excused by it
    locale: str = DEFAULT  # the reader's language
