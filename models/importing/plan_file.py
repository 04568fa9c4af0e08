"""Reading a plan (initiatives → goals → projects → tasks) into flat records (pure).

Two forms, one stream of :class:`PlanRecord`, parents always before children:

* YAML, nested as people write it (``examples/northwind/plan.yaml``);
* CSV, one row per task (columns ``initiative``, ``goal``, ``project``,
  ``task``, ``owner``, ``due`` … and ``initiative_owner``, ``goal_owner``,
  ``project_owner`` the first time a parent appears), streamed row by row:
  of a 500,000-task export only one key per task is kept (to catch duplicate
  titles, about 150 bytes each), never the rows.

An item pinned with ``ref: T-12`` (CSV: ``ref``, ``project_ref`` …) is that item,
whatever its title or place; an unpinned item's identity is its path of titles
(case and spacing ignored), hashed into ``import_key``: importing the same file
again finds the same rows. The keys and columns are listed in ``plan_format``.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import yaml

from models.importing.csvfile import CsvFile, CsvRow
from models.importing.plan_format import (
    ALLOWED_KEYS,
    CHILDREN,
    FIELDS,
    PARENT_LEVELS,
    REF_PREFIX,
    VALUE_FIELDS,
    Level,
    csv_column,
    read_ref,
)
from models.importing.problems import ProblemLog
from models.importing.values import BadValue, read_figure, read_label
from models.plan import TaskStatus, parse_ref

__all__ = ["Level", "PlanRecord", "import_key", "read_plan"]


@dataclass(frozen=True)
class GoalMetric:
    """A measurable goal's metric as the plan file gives it (``metric: ARR``, ``start:
    2.1M``, ``target: 4M``, ``unit: €``, and optionally the latest ``value``): the one
    list of these fields, for the reader here and for whatever writes a plan back out.
    ``COLUMNS`` maps each to its ``goal`` column."""

    metric: str
    start: float
    target: float
    unit: str | None = None
    value: float | None = None  # None: the file does not say (a stored figure is kept)

    COLUMNS: ClassVar[dict[str, str]] = {
        "metric": "metric", "start": "metric_start", "target": "metric_target",
        "unit": "metric_unit", "value": "metric_value"}


METRIC_FIELDS = tuple(field.name for field in fields(GoalMetric))  # goals only


@dataclass
class PlanRecord:
    """One item of the cascade; None for a value the file does not give."""

    level: Level
    row: int
    key: str  # the path of titles, hashed: what import_key becomes
    parent_key: str | None  # the parent's ``handle``
    title: str
    owner_email: str
    due: date | None = None
    description: str | None = None
    weight: float | None = None
    status: TaskStatus | None = None
    progress: int | None = None
    completed_on: date | None = None
    metric: GoalMetric | None = None  # goals only
    label: str = ""  # where it is, for messages: "initiative 'X' › goal 'Y' › task 'Z'"
    ref: int | None = None  # the pinned item's id (``ref: T-12`` → 12)

    @property
    def handle(self) -> str:
        """Who this item is within the file: its ref when pinned, else its path key."""
        return f"{REF_PREFIX[self.level]}-{self.ref}" if self.ref is not None else self.key


def import_key(titles: list[str] | tuple[str, ...]) -> str:
    """A stable 32-hex-digit identity for a path of titles, ignoring case and spacing."""
    normal = "\x1f".join(" ".join(title.casefold().split()) for title in titles)
    return hashlib.blake2b(normal.encode(), digest_size=16).hexdigest()


@lru_cache(maxsize=4096)
def _parent_key(titles: tuple[str, ...]) -> str:
    """``import_key`` for parents, cached: every row of a CSV plan names its three parents."""
    return import_key(titles)


def read_plan(path: Path, log: ProblemLog) -> Iterator[PlanRecord]:
    """The records of a YAML or CSV plan; problems go to ``log`` as they are found."""
    if path.suffix.lower() == ".csv":
        yield from _read_csv_plan(path, log)
    else:
        yield from _read_yaml_plan(path, log)


# --- one item's values, shared by both forms --------------------------------------------

READERS: dict[str, Callable[[Any], Any]] = {
    field.name: field.read for field in FIELDS
    if field.name != "description" and field.name not in METRIC_FIELDS}


def _read_values(readers: dict[str, Callable[[Any], Any]], values: dict[str, Any],
                 row: int, where: str, log: ProblemLog) -> tuple[dict[str, Any], set[str]]:
    """The values ``readers`` read (empty cells left out), and the names that failed
    (each logged with its fix)."""
    checked: dict[str, Any] = {}
    failed: set[str] = set()
    for name, reader in readers.items():
        raw = values.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            checked[name] = reader(raw)
        except BadValue as exc:
            log.add(row, f"{where} {name}", exc.message, exc.hint)
            failed.add(name)
    return checked, failed


def _make_record(level: Level, row: int, path: list[str], values: dict[str, Any],
                 where: str, log: ProblemLog, parent: str | None = None) -> PlanRecord | None:
    """Check one item's values; None (with problems logged) when it cannot be imported."""
    ok = True
    title = str(values.get("title") or "").strip()
    if not title:
        log.add(row, f"{where} title", "is missing", f"Every {level} needs a title.")
        ok = False
    checked, failed = _read_values(READERS, values, row, where, log)
    ok = ok and not failed
    if "owner" not in checked and "owner" not in failed:
        log.add(row, f"{where} owner", "is missing",
                f"Every {level} needs an owner: a person's email from the people file.")
        ok = False
    ok = _settle_status(checked, row, where, log) and ok
    ref = None
    raw_ref = values.get("ref")
    if raw_ref is not None and str(raw_ref).strip():
        try:
            ref = read_ref(raw_ref, level)
        except BadValue as exc:
            log.add(row, f"{where} ref", exc.message, exc.hint)
            ok = False
    metric = _read_metric(values, row, where, log) if level == Level.GOAL else None
    if metric is False or not ok:
        return None
    description = values.get("description")
    if parent is None and path:
        parent = _parent_key(tuple(path))
    return PlanRecord(
        level=level, row=row, key=import_key([*path, title]), ref=ref,
        parent_key=parent, title=title,
        owner_email=checked["owner"], due=checked.get("due"),
        description=str(description).strip() if description else None,
        weight=checked.get("weight"), status=checked.get("status"),
        progress=checked.get("progress"), completed_on=checked.get("completed_on"),
        metric=metric or None, label=where,
    )


_METRIC_READERS: dict[str, Callable[[Any], Any]] = {
    "metric": read_label(100), "start": read_figure, "target": read_figure,
    "unit": read_label(16), "value": read_figure}


def _read_metric(values: dict[str, Any], row: int, where: str,
                 log: ProblemLog) -> GoalMetric | bool | None:
    """A goal's metric; None when it has none, False (problems logged) when it is wrong.
    A unit written with the figures (``start: €2.1M``) is the unit when ``unit`` is not
    given; the figures may not name two different units."""
    read, failed = _read_values(_METRIC_READERS, values, row, where, log)
    if failed:
        return False
    if not read:
        return None
    if "metric" not in read or not read["metric"]:
        log.add(row, f"{where} metric", "is missing",
                "A goal with start, target, unit or value needs a metric: its name, e.g. ARR.")
        return False
    missing = [name for name in ("start", "target") if name not in read]
    if missing:
        log.add(row, f"{where} {missing[0]}", "is missing",
                "A measurable goal needs a start and a target, e.g. start: 2.1M, target: 4M.")
        return False
    figures = [read[name] for name in ("start", "target", "value") if name in read]
    units = {figure.unit for figure in figures if figure.unit} | (
        {read["unit"]} if read.get("unit") else set())
    if len(units) > 1:
        log.add(row, f"{where} unit", f"the figures name {' and '.join(sorted(units))}",
                "Give one unit: unit: € and the figures without a symbol, or all in €.")
        return False
    if read["start"].value == read["target"].value:
        log.add(row, f"{where} target", "equals the start",
                "The target is where the goal ends: a figure other than the start.")
        return False
    return GoalMetric(read["metric"], read["start"].value, read["target"].value,
                      next(iter(units), None),
                      read["value"].value if "value" in read else None)


def _settle_status(checked: dict[str, Any], row: int, where: str, log: ProblemLog) -> bool:
    """Done means 100%, and 100% means done; anything else is a contradiction to fix."""
    status, progress = checked.get("status"), checked.get("progress")
    if status == TaskStatus.DONE:
        if progress is not None and progress != 100:
            log.add(row, f"{where} progress", f"is {progress} but the status is done",
                    "A done item is 100%: remove the progress or fix the status.")
            return False
        checked["progress"] = 100
    elif progress == 100 and status is None:
        checked["status"] = TaskStatus.DONE
    elif progress == 100 and status != TaskStatus.DROPPED:
        log.add(row, f"{where} status", f"is {status} but the progress is 100",
                "Mark it done, or lower the progress.")
        return False
    if checked.get("completed_on") and checked.get("status") != TaskStatus.DONE:
        log.add(row, f"{where} completed_on", "is set but the status is not done",
                "Give completed_on only for done items.")
        return False
    return True


# --- YAML ----------------------------------------------------------------------------------

class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping, for error messages.

    It leaves dates as text: PyYAML would otherwise turn ``2026-02-30`` into an
    exception with no line, and ``read_date`` explains a bad date much better.
    """


_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml_plan(path: Path, log: ProblemLog) -> Iterator[PlanRecord]:
    log.unit = "line"
    try:
        document = yaml.load(path.read_bytes(), Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        log.add(mark.line + 1 if mark else None, None, f"is not valid YAML ({problem})",
                "Check the indentation, and quote titles containing ': ' or '#'.")
        return
    items = document.get("initiatives") if isinstance(document, dict) else document
    if not isinstance(items, list) or not items:
        log.add(None, None, "has no initiatives",
                "Start the file with 'initiatives:' and a list of initiatives under it.")
        return
    yield from _walk(items, Level.INITIATIVE, [], "", log, _Seen())


class _Seen:
    """What the file already named: unpinned items by path, pinned ones by ref."""

    def __init__(self) -> None:
        self.paths: dict[str, int | None] = {}
        self.refs: dict[str, int | None] = {}

    def twice(self, record: PlanRecord, log: ProblemLog) -> bool:
        """True (and a problem logged) when the file names this item a second time."""
        if record.ref is None:
            if record.key in self.paths:
                log.add(record.row, record.label,
                        f"the same {record.level} title appears twice under one parent",
                        "Titles must be unique within their parent.")
                return True
            self.paths[record.key] = record.row
            return False
        handle = record.handle
        if handle in self.refs:
            earlier = self.refs[handle]
            log.add(record.row, f"{record.label} ref",
                    f"{handle} is already given to the {record.level} on {log.unit} {earlier}",
                    "Each reference pins one item: remove it from one of the two.")
            return True
        self.refs[handle] = record.row
        return False


def _walk(items: Any, level: Level, path: list[str], where: str, log: ProblemLog,
          seen: _Seen, parent_row: int | None = None,
          parent: str | None = None) -> Iterator[PlanRecord]:
    """Yield each item then its children; a refused item's children are still checked."""
    if not isinstance(items, list):
        log.add(parent_row, where.rstrip(" ›") or None, f"the {level}s must be a list",
                f"Write each {level} as a '- title: ...' item.")
        return
    for index, item in enumerate(items, start=1):
        label = f"{where}{level} {index}"
        if not isinstance(item, dict):
            log.add(parent_row, label, f"is not a {level}",
                    "Write it as '- title: ...' with an owner.")
            continue
        row = item.pop("__line__", None)
        title = str(item.get("title") or "").strip()
        label = f"{where}{level} {title!r}" if title else label
        _check_keys(item, level, row, label, log)
        record = _make_record(level, row, path, item, label, log, parent)
        if record is not None and seen.twice(record, log):
            continue
        if record is not None:
            yield record
        if level in CHILDREN and title:
            children_key, child_level = CHILDREN[level]
            yield from _walk(item.get(children_key) or [], child_level, [*path, title],
                             f"{label} › ", log, seen, row,
                             record.handle if record is not None else None)


def _check_keys(item: dict[str, Any], level: Level, row: int | None, label: str,
                log: ProblemLog) -> None:
    for key in item:
        if key in ALLOWED_KEYS[level]:
            continue
        close = difflib.get_close_matches(str(key), sorted(ALLOWED_KEYS[level]), n=1)
        hint = f"Did you mean {close[0]!r}?" if close else (
            "Allowed: " + ", ".join(sorted(ALLOWED_KEYS[level])) + ".")
        log.add(row, label, f"has an unknown field {key!r}", hint)


# --- CSV, one row per task ------------------------------------------------------------------

CSV_SYNONYMS = {"task_title": "task", "title": "task", "task_owner": "owner",
                "task_due": "due", "task_ref": "ref", "initiative_title": "initiative",
                "goal_title": "goal", "project_title": "project"}
CSV_REQUIRED = ("initiative", "goal", "project", "task", "owner")


def _read_csv_plan(path: Path, log: ProblemLog) -> Iterator[PlanRecord]:
    with CsvFile(path, CSV_SYNONYMS) as csv_file:
        missing = [c for c in CSV_REQUIRED if c not in csv_file.columns]
        if missing:
            log.add(1, None, f"the header lacks {', '.join(missing)}",
                    "A plan CSV needs the columns: " + ", ".join(CSV_REQUIRED) + ".")
            return
        parents: dict[str, bool] = {}  # handle -> whether the parent could be read
        seen = _Seen()
        for row in csv_file.rows():
            yield from _csv_row_records(row, parents, seen, log)


_KEYS = ("ref", *VALUE_FIELDS)
_LEVEL_COLUMNS = {level: tuple((name, csv_column(level, name)) for name in _KEYS)
                  for level in Level}
_COLUMNS_FROM = {level: tuple(column for deeper in tuple(Level)[tuple(Level).index(level):]
                              for _, column in _LEVEL_COLUMNS[deeper]) for level in Level}


@lru_cache(maxsize=4096)
def _ref_handle(text: str) -> str:
    """A parent's ref cell as the record's handle spells it (``p3`` → ``P-3``)."""
    parsed = parse_ref(text)
    return f"{parsed[0]}-{parsed[1]}" if parsed else text


def _level_cells(cells: dict[str, str], level: Level) -> dict[str, str | None]:
    return {name: cells.get(column) for name, column in _LEVEL_COLUMNS[level]}


def _blank_from(cells: dict[str, str], level: Level) -> bool:
    """True when this level and every level below it are empty: a row for its parents only
    (how an export writes a project that has no tasks yet)."""
    return not any(cells.get(column, "").strip() for column in _COLUMNS_FROM[level])


def _csv_row_records(row: CsvRow, parents: dict[str, bool], seen: _Seen,
                     log: ProblemLog) -> Iterator[PlanRecord]:
    """The parents this row introduces, then its task; a parent's problem is told once."""
    cells = row.cells
    path: list[str] = []
    parent: str | None = None
    for level in PARENT_LEVELS:
        title = cells.get(level.value, "").strip()
        if not title and path and _blank_from(cells, level):
            return
        ref_cell = cells.get(f"{level.value}_ref", "").strip()
        handle = (_ref_handle(ref_cell) if ref_cell else
                  _parent_key((*path, title)) if title else None)
        if handle is not None and handle in parents:
            if not parents[handle]:
                return
            path.append(title)
            parent = handle
            continue
        values = _level_cells(cells, level)
        label = f"{level} {title!r}" if title else level.value
        record = _make_record(level, row.number, path, values, label, log, parent)
        if handle is not None:
            parents[handle] = record is not None
        if record is None:
            return
        if record.ref is not None and seen.twice(record, log):
            return
        path.append(title)
        parent = record.handle
        yield record
    if not cells.get("task", "").strip() and _blank_from(cells, Level.TASK):
        return
    values = _level_cells(cells, Level.TASK)
    title = (values["title"] or "").strip()
    task = _make_record(Level.TASK, row.number, path, values,
                        f"task {title!r}" if title else "task", log, parent)
    if task is None:
        return
    earlier = seen.paths.get(task.key) if task.ref is None else None
    if earlier is not None:
        log.add(row.number, "task", f"the task {task.title!r} is already on row {earlier}",
                "Titles must be unique within their project.")
        return
    if seen.twice(task, log):
        return
    yield task

