"""The plan file's format in one place: its levels, its keys (YAML) and columns (CSV).

The reader (``plan_file``) checks each value with a field's ``read``; the export
(``models.exporting``) writes each stored value with its ``write``. A new field
is one more :class:`PlanField` line, and both directions know it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from models.importing.values import (
    BadValue,
    read_date,
    read_email,
    read_progress,
    read_status,
    read_weight,
)
from models.plan import TaskStatus, parse_ref


class Level(StrEnum):
    INITIATIVE = "initiative"
    GOAL = "goal"
    PROJECT = "project"
    TASK = "task"


CHILDREN = {
    Level.INITIATIVE: ("goals", Level.GOAL),
    Level.GOAL: ("projects", Level.PROJECT),
    Level.PROJECT: ("tasks", Level.TASK),
}
REF_PREFIX = {Level.INITIATIVE: "I", Level.GOAL: "G", Level.PROJECT: "P", Level.TASK: "T"}
PARENT_LEVELS = (Level.INITIATIVE, Level.GOAL, Level.PROJECT)


def _text(value: object) -> str:
    return str(value).strip()


def _number(value: float) -> str:
    return f"{value:g}"


def _utc_day(value: datetime) -> str:
    return value.astimezone(UTC).date().isoformat()


def _figure(value: float) -> str:
    """A goal's figure as the reader takes it back: 2100000, 0.35 (never 2.1e+06)."""
    return str(int(value)) if value == int(value) else repr(value)


@dataclass(frozen=True)
class PlanField:
    """One value of an item: its key in the file, how to read it, how to write it back.

    ``stored`` names the column the export reads (``owner_email``: the owner's
    address); ``default`` is the stored value the export leaves out, since the
    importer reads a missing key as "keep what is there" and new items start so.
    """

    name: str
    read: Callable[[Any], Any]
    stored: str
    write: Callable[[Any], str] = str
    default: Any = None
    levels: tuple[Level, ...] = tuple(Level)


FIELDS = (
    PlanField("owner", read_email, "owner_email"),
    PlanField("due", read_date, "due", date.isoformat),
    PlanField("description", _text, "description", _text),
    PlanField("weight", read_weight, "weight", _number, default=1.0),
    PlanField("status", read_status, "status"),
    PlanField("progress", read_progress, "progress"),
    PlanField("completed_on", read_date, "completed_at", _utc_day, levels=(Level.TASK,)),
    # A measurable goal: plan_file reads these five together (GoalMetric), the export
    # writes each from its column.
    PlanField("metric", _text, "metric", _text, levels=(Level.GOAL,)),
    PlanField("start", _text, "metric_start", _figure, levels=(Level.GOAL,)),
    PlanField("target", _text, "metric_target", _figure, levels=(Level.GOAL,)),
    PlanField("unit", _text, "metric_unit", _text, levels=(Level.GOAL,)),
    PlanField("value", _text, "metric_value", _figure, levels=(Level.GOAL,)),
)
FIELD_NAMES = tuple(field.name for field in FIELDS)
VALUE_FIELDS = ("title", *FIELD_NAMES)
ALLOWED_KEYS = {  # completed_on is accepted (and unused) above tasks, as it always was
    level: {"ref", "title", "completed_on", *(f.name for f in FIELDS if level in f.levels)}
    | ({CHILDREN[level][0]} if level in CHILDREN else set())
    for level in Level
}


def csv_column(level: Level, name: str) -> str:
    """A CSV column: the task's own (``owner``, ``ref``), or a parent's (``goal_owner``);
    a title column is the level's name (``project``, ``task``)."""
    if name == "title":
        return level.value
    return name if level == Level.TASK else f"{level.value}_{name}"


CSV_COLUMNS = tuple(
    csv_column(level, name) for level in Level
    for name in ("ref", "title", *(f.name for f in FIELDS if level in f.levels)))


def read_ref(value: object, level: Level) -> int:
    """``T-12`` on a task → 12; a ref of another level, or no ref at all, is refused."""
    text = str(value).strip()
    parsed = parse_ref(text)
    prefix = REF_PREFIX[level]
    example = f"{prefix}-12"
    if parsed is None:
        raise BadValue(f"{text!r} is not a reference",
                       f"Write a {level}'s reference as Drumbeat shows it, e.g. {example}.")
    if parsed[0] != prefix:
        kind = next(lvl for lvl, p in REF_PREFIX.items() if p == parsed[0])
        raise BadValue(f"{parsed[0]}-{parsed[1]} is a {kind}'s reference, not a {level}'s",
                       f"A {level}'s reference starts with {prefix}-, e.g. {example}.")
    return parsed[1]


def status_and_progress(status: str, progress: int) -> tuple[str | None, str | None]:
    """What the export writes: a status unless open at 0%, a progress unless implied."""
    if status == TaskStatus.OPEN.value and progress == 0:
        return None, None
    implied = progress == 0 or (status == TaskStatus.DONE.value and progress == 100)
    return status, None if implied else str(progress)


def export_values(level: Level, stored: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, text) for each field of an item as the importer reads them back; a value at
    its default, or empty, is left out (the importer then keeps what is stored)."""
    status, progress = status_and_progress(stored["status"], stored["progress"])
    pairs = []
    for field in FIELDS:
        if level not in field.levels:
            continue
        if field.name == "status":
            text = status
        elif field.name == "progress":
            text = progress
        elif field.name == "completed_on" and stored["status"] != TaskStatus.DONE.value:
            continue  # only a done item has a completion day
        else:
            value = stored[field.stored]
            text = None if value is None or value == field.default else field.write(value)
        if text:
            pairs.append((field.name, text))
    return pairs
