"""What a reply says, as typed commands: the results of the reply grammar (``mail.read.grammar``).

``parse_commands`` reads a reply's lines into these; ``workers.apply`` applies them and
``drumbeat inspect`` prints them in the documented JSON shape (``Parsed.to_json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "HANDED_BACK",
    "Away",
    "Command",
    "GoalValue",
    "ItemDue",
    "ItemOwner",
    "ItemTitle",
    "LineError",
    "MeetingReport",
    "NewProject",
    "NewTask",
    "Parsed",
    "PlanCommand",
    "TaskDoneOn",
    "TaskUpdate",
    "Topic",
    "TopicDone",
]

HANDED_BACK = "handed_back"  # not a task status: the task goes back to who created it


@dataclass(frozen=True)
class TaskUpdate:
    """A change to one task; None means "not changed by this line"."""

    task: str  # canonical "T-12"
    percent: int | None = None
    status: str | None = None  # "done", "blocked", "in_progress", "dropped", HANDED_BACK
    due: date | None = None
    note: str | None = None  # free text after the command, or the blocked/dropped reason
    line: str = ""  # the source line, stripped


@dataclass(frozen=True)
class TaskDoneOn:
    """When a task was completed ("T-12 done on 3 Dec"): a correction of the record,
    which also marks the task done if it is not; never a date after the message."""

    task: str  # canonical "T-12"
    on: date
    note: str | None = None
    line: str = ""


@dataclass(frozen=True)
class NewTask:
    """A task to create; the owner defaults to the sender, decided when applying."""

    title: str
    due: date | None = None
    project: str | None = None  # "P-3"
    owner: str | None = None  # "bob" or "ann@example.com", lower-cased
    line: str = ""


@dataclass(frozen=True)
class MeetingReport:
    """The check-in: held (True), not held (False), or skipped with an excuse (None)."""

    held: bool | None
    excused: bool = False
    on: date | None = None
    minutes: int | None = None
    reason: str | None = None
    line: str = ""


@dataclass(frozen=True)
class Topic:
    """A talking point for the pair's next 1:1 ("topic: the hiring plan"). ``report``
    is the employee a manager names ("topic @ana: …", lower-cased as written); which
    pair it lands on is the applier's rule (``workers.talking_points``)."""

    text: str
    report: str | None = None
    line: str = ""


@dataclass(frozen=True)
class TopicDone:
    """An open talking point closed ("topic done: the hiring plan"): ``text`` matches
    the point's words case-insensitively, in full or as a unique prefix."""

    text: str
    report: str | None = None
    line: str = ""


@dataclass(frozen=True)
class Away:
    """Time away, both days included ("away: 21 Dec - 4 Jan"): the sender's check-ins
    in it are excused and the other side of each pair is told."""

    start: date
    end: date
    line: str = ""


@dataclass(frozen=True)
class ItemOwner:
    """A hand-over ("T-12 owner @bob", "P-3 owner @ana", "G-2 owner ana@example.com");
    the new owner as written, lower-cased, found and checked when applying."""

    item: str  # canonical "T-12", "P-3" or "G-2"
    owner: str
    line: str = ""


@dataclass(frozen=True)
class ItemTitle:
    """A new title ("T-12 title: Draft the pricing memo")."""

    item: str
    title: str
    line: str = ""


@dataclass(frozen=True)
class ItemDue:
    """A project's or goal's new due date ("P-3 due 2027-02-01", "G-2 due end of Q2");
    a task's is a ``TaskUpdate``."""

    item: str  # "P-3" or "G-2"
    due: date
    line: str = ""


@dataclass(frozen=True)
class NewProject:
    """A project to create under a goal ("new project: Pricing page under G-2 @ana by
    2027-03-31"); the owner defaults to the sender, decided when applying."""

    title: str
    goal: str  # "G-2"
    owner: str | None = None
    due: date | None = None
    line: str = ""


@dataclass(frozen=True)
class GoalValue:
    """A measurable goal's latest figure ("G-2 = 3.1M", "G-2 3.1M", "G-2 45%"): ``unit``
    is the symbol written with it, if any, checked against the goal's when applying."""

    goal: str  # "G-2"
    value: float
    unit: str | None = None
    line: str = ""


PlanCommand = ItemOwner | ItemTitle | ItemDue | NewProject | GoalValue


@dataclass(frozen=True)
class LineError:
    """A line that looked like a command but could not be read; the reply quotes both."""

    line: str
    reason: str  # what is wrong and the right form, e.g. "… Write a percentage, e.g. T-9 60%"

    def __str__(self) -> str:
        return f"{self.line}: {self.reason}"


Command = (TaskUpdate | TaskDoneOn | NewTask | MeetingReport | Topic | TopicDone | Away
           | ItemOwner | ItemTitle | ItemDue | NewProject | GoalValue)

_JSON_TYPES: dict[type, str] = {
    TaskUpdate: "task_update",
    TaskDoneOn: "task_done_on",
    NewTask: "new_task",
    MeetingReport: "meeting",
    Topic: "topic",
    TopicDone: "topic_done",
    Away: "away",
    ItemOwner: "item_owner",
    ItemTitle: "item_title",
    ItemDue: "item_due",
    NewProject: "new_project",
    GoalValue: "goal_value",
}
_JSON_FIELDS: dict[type, tuple[str, ...]] = {
    TaskUpdate: ("task", "percent", "status", "due", "note"),
    TaskDoneOn: ("task", "on", "note"),
    NewTask: ("title", "due", "project", "owner"),
    MeetingReport: ("held", "excused", "on", "minutes", "reason"),
    Topic: ("text", "report"),
    TopicDone: ("text", "report"),
    Away: ("start", "end"),
    ItemOwner: ("item", "owner"),
    ItemTitle: ("item", "title"),
    ItemDue: ("item", "due"),
    NewProject: ("title", "goal", "owner", "due"),
    GoalValue: ("goal", "value", "unit"),
}


def _json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def _command_json(command: Command) -> dict[str, object]:
    """One command in the ``drumbeat inspect`` shape: "type" first, every field, dates ISO."""
    fields = _JSON_FIELDS[type(command)]
    return {
        "type": _JSON_TYPES[type(command)],
        **{name: _json_value(getattr(command, name)) for name in fields},
    }


@dataclass(frozen=True)
class Parsed:
    """What a reply says: the commands in the order written, and the lines not understood."""

    commands: tuple[Command, ...]
    errors: tuple[LineError, ...]

    def to_json(self) -> dict[str, list[dict[str, object]]]:
        """The ``commands`` and ``errors`` members of the ``drumbeat inspect`` JSON.

        Commands have exactly the documented shape (no ``line``: the contract has
        none, and errors already carry theirs).
        """
        return {
            "commands": [_command_json(command) for command in self.commands],
            "errors": [{"line": e.line, "reason": e.reason} for e in self.errors],
        }
