"""Writing the plan and the people back out, as files the importer reads.

The plan comes out nested (YAML) or one row per task (CSV), every item pinned
by its ref, so importing the export changes nothing and importing an edited
export changes exactly the edits. Which keys and columns exist, and how each
stored value is written, comes from ``importing.plan_format`` and
``importing.people_file``: the importer's own description of its files.

Memory stays flat: initiatives, goals and projects (a few percent of a plan)
are held as plain rows, tasks stream from the database in nesting order
(``yield_per``) and are written as they arrive.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TextIO

import yaml
from sqlalchemy import Row, select
from sqlalchemy.orm import Session, aliased

from models.importing.people_file import PEOPLE_FORMAT
from models.importing.plan_format import (
    CHILDREN,
    CSV_COLUMNS,
    FIELDS,
    PARENT_LEVELS,
    REF_PREFIX,
    Level,
    csv_column,
    export_values,
)
from models.people import Person, PersonAlias
from models.plan import Goal, Initiative, Project, Task

STREAM_ROWS = 5000
MODELS = {Level.INITIATIVE: Initiative, Level.GOAL: Goal, Level.PROJECT: Project,
          Level.TASK: Task}
PARENT_OF = {Level.GOAL: "initiative_id", Level.PROJECT: "goal_id", Level.TASK: "project_id"}
DEPTH = {level: depth for depth, level in enumerate(Level)}
Progress = Callable[[int], None]


@dataclass(frozen=True)
class PlanItem:
    """One item as the file shows it: where it sits, its ref, title and other values."""

    level: Level
    ref: str
    title: str
    values: tuple[tuple[str, str], ...]


@dataclass
class ExportSummary:
    """How many items of each level (or people) were written."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# --- reading the plan in nesting order ------------------------------------------------------

def _columns(level: Level) -> list[Any]:
    model = MODELS[level]
    names = {"owner_id" if f.stored == "owner_email" else f.stored
             for f in FIELDS if level in f.levels} | {"status", "progress"}
    parent = [getattr(model, PARENT_OF[level])] if level in PARENT_OF else []
    return [model.id, model.title, *parent, *(getattr(model, name) for name in sorted(names))]


def _item(level: Level, row: Row[Any], owners: Mapping[int, str]) -> PlanItem:
    stored = row._mapping
    values = export_values(level, _StoredValues(stored, owners))
    return PlanItem(level, f"{REF_PREFIX[level]}-{row.id}", row.title, tuple(values))


class _StoredValues(Mapping[str, Any]):
    """A selected row's values by their ``PlanField.stored`` name (owner → address)."""

    def __init__(self, row: Mapping[str, Any], owners: Mapping[int, str]) -> None:
        self.row, self.owners = row, owners

    def __getitem__(self, name: str) -> Any:
        if name == "owner_email":
            return self.owners[self.row["owner_id"]]
        return self.row[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.row)

    def __len__(self) -> int:
        return len(self.row)


def plan_items(session: Session) -> Iterator[PlanItem]:
    """Every item, each parent followed by its children, siblings in ref order."""
    owners: dict[int, str] = dict(session.execute(select(Person.id, Person.email)).all())
    children: dict[Level, dict[int, list[Row[Any]]]] = {}
    for level in (Level.GOAL, Level.PROJECT):
        grouped: dict[int, list[Row[Any]]] = defaultdict(list)
        for row in session.execute(select(*_columns(level)).order_by(MODELS[level].id)):
            grouped[getattr(row, PARENT_OF[level])].append(row)
        children[level] = grouped
    tasks = session.execute(
        select(*_columns(Level.TASK)).join(Project, Project.id == Task.project_id)
        .join(Goal, Goal.id == Project.goal_id)
        .order_by(Goal.initiative_id, Project.goal_id, Task.project_id, Task.id)
        .execution_options(yield_per=STREAM_ROWS))
    stream = _Lookahead(iter(tasks))
    for initiative in session.execute(select(*_columns(Level.INITIATIVE))
                                      .order_by(Initiative.id)):
        yield _item(Level.INITIATIVE, initiative, owners)
        for goal in children[Level.GOAL].get(initiative.id, []):
            yield _item(Level.GOAL, goal, owners)
            for project in children[Level.PROJECT].get(goal.id, []):
                yield _item(Level.PROJECT, project, owners)
                while stream.head is not None and stream.head.project_id == project.id:
                    yield _item(Level.TASK, stream.take(), owners)


class _Lookahead:
    """An iterator whose next element can be looked at before it is taken."""

    def __init__(self, rows: Iterator[Row[Any]]) -> None:
        self.rows = rows
        self.head: Row[Any] | None = next(rows, None)

    def take(self) -> Row[Any]:
        row, self.head = self.head, next(self.rows, None)
        assert row is not None
        return row


# --- YAML ------------------------------------------------------------------------------------

YAML_HEADER = """\
# The plan as Drumbeat holds it, exported by `drumbeat export plan`.
# Every item is pinned by its ref (I-, G-, P-, T-): edit titles, owners, dates,
# status or progress, move items, add items without a ref, and import it again
# with `drumbeat import plan`; an item keeps its ref and history.
initiatives:
"""
# Characters YAML may not hold raw in a double-quoted scalar (or would fold as a line break).
_NOT_RAW = re.compile("[^\x09\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PLAIN = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`][^\n\r\t]*")


TEXT_KEYS = frozenset({"title", "description", "owner", "metric", "unit"})  # text, never numbers


@lru_cache(maxsize=65536)
def yaml_scalar(text: str, key: str = "title") -> str:
    """``text`` as YAML reads it back, plain when that is unambiguous, else double-quoted
    (a title such as ``010`` or ``yes`` would otherwise come back as a number or a bool)."""
    if (_PLAIN.fullmatch(text) and not text.endswith((" ", ":")) and ": " not in text
            and " #" not in text and not _NOT_RAW.search(text)
            and (key not in TEXT_KEYS or _reads_as_text(text))):
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return _NOT_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) < 0x10000
                        else f"\\U{ord(m.group()):08x}", quoted)


_RESOLVER = yaml.resolver.Resolver()


def _reads_as_text(text: str) -> bool:
    """Not a number, a boolean or null to YAML (the importer reads dates as text)."""
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
    return tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp")


def write_plan_yaml(items: Iterator[PlanItem], out: TextIO,
                    progress: Progress | None = None) -> ExportSummary:
    """Nested as people write it (see examples/northwind/plan.yaml), one line per value."""
    summary = ExportSummary()
    out.write(YAML_HEADER)
    previous = -1
    for item in items:
        depth = DEPTH[item.level]
        if depth > previous and depth > 0:
            parent = tuple(Level)[depth - 1]
            out.write(f"{'    ' * depth}{CHILDREN[parent][0]}:\n")
        previous = depth
        indent = "  " + "    " * depth
        lines = [f"{indent}- ref: {item.ref}\n", f"{indent}  title: {yaml_scalar(item.title)}\n"]
        lines += [f"{indent}  {key}: {yaml_scalar(text, key)}\n" for key, text in item.values]
        out.write("".join(lines))
        _count(summary, item, progress)
    return summary


def _count(summary: ExportSummary, item: PlanItem, progress: Progress | None) -> None:
    summary.counts[item.level.value] += 1
    if progress is not None and summary.total % STREAM_ROWS == 0:
        progress(summary.total)


# --- CSV, one row per task ---------------------------------------------------------------------

class _CsvRows:
    """Turns the item stream into rows: parents' refs and titles on every row, their other
    values on the first row they appear in; a parent with no tasks gets a row of its own."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        position = {name: i for i, name in enumerate(CSV_COLUMNS)}
        self.index = {(level, key): position[csv_column(level, key)] for level in Level
                      for key in ("ref", "title", *(f.name for f in FIELDS if level in f.levels))}
        self.chain: list[tuple[PlanItem, bool]] = []  # the current parents, written yet?

    def add(self, item: PlanItem) -> None:
        depth = DEPTH[item.level]
        if item.level in PARENT_LEVELS:
            self.close(depth)
            self.chain.append((item, False))
        else:
            self.close(len(self.chain))
            self._write(item)

    def close(self, depth: int) -> None:
        """Before moving up to ``depth``: a deepest parent never written gets its own row."""
        if len(self.chain) > depth and not self.chain[-1][1]:
            self._write(None)
        del self.chain[depth:]

    def _write(self, task: PlanItem | None) -> None:
        cells = [""] * len(CSV_COLUMNS)
        for position, (parent, written) in enumerate(self.chain):
            self._fill(cells, parent, with_values=not written)
            self.chain[position] = (parent, True)
        if task is not None:
            self._fill(cells, task, with_values=True)
        self.writer.writerow(cells)

    def _fill(self, cells: list[str], item: PlanItem, with_values: bool) -> None:
        index, level = self.index, item.level
        cells[index[level, "ref"]] = item.ref
        cells[index[level, "title"]] = item.title
        if with_values:
            for key, text in item.values:
                cells[index[level, key]] = text


def write_plan_csv(items: Iterator[PlanItem], out: TextIO,
                   progress: Progress | None = None) -> ExportSummary:
    """The flat form the importer reads, one row per task (see README, "Importing the plan")."""
    summary = ExportSummary()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = _CsvRows(writer)
    for item in items:
        rows.add(item)
        _count(summary, item, progress)
    rows.close(0)
    return summary


PLAN_WRITERS = {"yaml": write_plan_yaml, "csv": write_plan_csv}


def export_plan(session: Session, out: TextIO, form: str = "yaml",
                progress: Progress | None = None) -> ExportSummary:
    """Write the whole plan to ``out`` as ``form`` (yaml or csv)."""
    return PLAN_WRITERS[form](plan_items(session), out, progress)


# --- people -----------------------------------------------------------------------------------

def export_people(session: Session, out: TextIO,
                  progress: Progress | None = None) -> ExportSummary:
    """The people file (the columns ``drumbeat import people`` reads), in id order."""
    summary = ExportSummary()
    aliases: dict[int, list[str]] = defaultdict(list)
    for person_id, email in session.execute(
            select(PersonAlias.person_id, PersonAlias.email).order_by(PersonAlias.id)):
        aliases[person_id].append(email)
    manager = aliased(Person)
    stored = {column.stored for column in PEOPLE_FORMAT} - {"manager_email", "aliases"}
    rows = session.execute(
        select(Person.id, manager.email.label("manager_email"),
               *(getattr(Person, name) for name in sorted(stored)))
        .outerjoin(manager, manager.id == Person.manager_id).order_by(Person.id)
        .execution_options(yield_per=STREAM_ROWS))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([column.name for column in PEOPLE_FORMAT])
    for row in rows:
        values = {**row._mapping, "aliases": aliases.get(row.id, [])}
        writer.writerow([column.write(values[column.stored]) for column in PEOPLE_FORMAT])
        summary.counts["person"] += 1
        if progress is not None and summary.total % STREAM_ROWS == 0:
            progress(summary.total)
    return summary
