"""Writing a plan into the database in bulk: all of it, or (on any problem) none.

Records stream in from ``plan_file`` and are upserted in chunks with set-based
``INSERT … ON CONFLICT (import_key) DO UPDATE`` (PostgreSQL and SQLite), so a
500,000-task plan never becomes 500,000 ORM objects. Columns a record leaves
out keep their stored values on re-import; status and progress always travel
together, so the database's "done means 100%" check always holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import Table, and_, case, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.base import utcnow
from models.importing.plan_file import GoalMetric, Level, PlanRecord
from models.importing.problems import ProblemLog
from models.people import Person, PersonAlias
from models.plan import Goal, Initiative, Project, Task, TaskStatus

CHUNK_SIZE = 5000
MODELS = {Level.INITIATIVE: Initiative, Level.GOAL: Goal, Level.PROJECT: Project,
          Level.TASK: Task}
PARENT_COLUMN = {Level.GOAL: "initiative_id", Level.PROJECT: "goal_id", Level.TASK: "project_id"}
OPTIONAL = ("due", "description", "weight")
# Flags that only group rows into statements; they are never sent to the database.
EXPLICIT_COMPLETION = "_completed_on_given"
DERIVED_STATUS = "_status_from_progress"
FLAGS = (EXPLICIT_COMPLETION, DERIVED_STATUS)


@dataclass
class PlanSummary:
    """How many items of each level the import created and matched."""

    created: dict[str, int] = field(default_factory=dict)
    matched: dict[str, int] = field(default_factory=dict)
    records: int = 0


def owner_addresses(session: Session) -> dict[str, int]:
    """Every address (primary or alias) → person id."""
    rows = [*session.execute(select(PersonAlias.email, PersonAlias.person_id)),
            *session.execute(select(Person.email, Person.id))]
    return {address: person_id for address, person_id in rows}


def load_plan(session: Session, records: Iterable[PlanRecord], log: ProblemLog,
              progress: Callable[[int], None] | None = None,
              now: datetime | None = None) -> PlanSummary:
    """Upsert ``records`` in the session's transaction; raises ImportFailed on any problem.

    New items are stamped ``now``: Drumbeat's clock (the CLI passes it, so a plan
    imported on a simulated day was created that day), else the real one.

    ``log`` already holds the file's own problems and receives ours; writing
    continues after a problem only to find the rest, and the caller's
    transaction is rolled back by the raised ImportFailed.
    """
    owners = owner_addresses(session)
    before = _counts(session)
    writer = _ChunkWriter(session, now or utcnow())
    summary = PlanSummary()
    for record in records:
        summary.records += 1
        owner_id = owners.get(record.owner_email)
        if owner_id is None:
            log.add(record.row, f"{record.label} owner",
                    f"no person has the address {record.owner_email}",
                    "Import the people file first, or correct the address.")
            writer.skip(record)
            continue
        if not log:
            writer.add(record, owner_id)
        if summary.records % CHUNK_SIZE == 0:
            writer.flush()
            if progress:
                progress(summary.records)
    if not summary.records and not log:
        log.add(None, None, "the plan has no items", "Add at least one initiative.")
    log.raise_if_any()
    writer.flush()
    if progress:
        progress(summary.records)
    after = _counts(session)
    for level in Level:
        summary.created[level.value] = after[level] - before[level]
        summary.matched[level.value] = writer.written[level] - summary.created[level.value]
    return summary


def _counts(session: Session) -> dict[Level, int]:
    return {level: session.scalar(select(func.count()).select_from(model)) or 0
            for level, model in MODELS.items()}


class _ChunkWriter:
    """Buffers records and writes them level by level, parents first."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now = session, now
        self.dialect = session.get_bind().dialect.name
        self.pending: dict[Level, list[dict[str, Any]]] = defaultdict(list)
        self.ids: dict[str, int] = {}  # parent import_key → id (not tasks: they have no children)
        self.written: dict[Level, int] = defaultdict(int)
        self.skipped: set[str] = set()

    def skip(self, record: PlanRecord) -> None:
        self.skipped.add(record.key)

    def add(self, record: PlanRecord, owner_id: int) -> None:
        if record.parent_key in self.skipped:
            self.skipped.add(record.key)
            return
        self.pending[record.level].append(_row(record, owner_id, self.now))

    def flush(self) -> None:
        for level in Level:
            rows = self.pending.pop(level, [])
            if not rows:
                continue
            if level in PARENT_COLUMN:
                column = PARENT_COLUMN[level]
                for row in rows:
                    row[column] = self.ids[row.pop("parent_key")]
            else:
                for row in rows:
                    row.pop("parent_key")
            self._upsert(level, rows)
            self.written[level] += len(rows)

    def _upsert(self, level: Level, rows: list[dict[str, Any]]) -> None:
        table: Table = MODELS[level].__table__  # type: ignore[assignment]
        by_shape: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            shape = frozenset(row)
            for flag in FLAGS:
                row.pop(flag, None)
            by_shape[shape].append(row)
        for shape, shaped_rows in by_shape.items():
            statement = _upsert_statement(self.dialect, table, shape)
            if level == Level.TASK:
                self.session.execute(statement, shaped_rows)
            else:
                returning = statement.returning(table.c.import_key, table.c.id)
                result = self.session.execute(returning, shaped_rows)
                self.ids.update((key, id_) for key, id_ in result)


def _row(record: PlanRecord, owner_id: int, now: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {"import_key": record.key, "parent_key": record.parent_key,
                           "title": record.title, "owner_id": owner_id,
                           "created_at": now, "updated_at": now}
    for name in OPTIONAL:
        value = getattr(record, name)
        if value is not None:
            row[name] = value
    if record.metric is not None:  # the whole metric, but a figure not given is kept
        for name, column in GoalMetric.COLUMNS.items():
            value = getattr(record.metric, name)
            if value is not None or name != "value":
                row[column] = value
    status, progress = record.status, record.progress
    if status is not None or progress is not None:
        if status is None:
            status = TaskStatus.IN_PROGRESS if progress else TaskStatus.OPEN
            row[DERIVED_STATUS] = True
        row["status"] = status.value
        if progress is not None:
            row["progress"] = progress
        if record.level == Level.TASK:
            row["completed_at"] = _completed_at(record, status, now)
            if record.completed_on is not None:
                row[EXPLICIT_COMPLETION] = True
    return row


def _completed_at(record: PlanRecord, status: TaskStatus, now: datetime) -> datetime | None:
    """Noon UTC on the given day keeps the same calendar date from UTC-11 to UTC+11."""
    if status != TaskStatus.DONE:
        return None
    if record.completed_on is not None:
        return datetime.combine(record.completed_on, time(12), UTC)
    return now


def _upsert_statement(dialect: str, table: Table, shape: frozenset[str]) -> Any:
    """INSERT … ON CONFLICT (import_key) DO UPDATE the columns this shape gives."""
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise RuntimeError(f"importing plans needs PostgreSQL or SQLite, not {dialect}")
    statement = insert(table)
    excluded = statement.excluded
    updates: dict[str, Any] = {
        name: excluded[name] for name in shape
        if name not in ("import_key", "created_at", *FLAGS)
    }
    done = TaskStatus.DONE.value
    if "completed_at" in shape and EXPLICIT_COMPLETION not in shape:
        # Keep the first completion time when a done item is imported as done again.
        updates["completed_at"] = case(
            (excluded.status == done, func.coalesce(table.c.completed_at, excluded.completed_at)),
            else_=None,
        )
    if DERIVED_STATUS in shape:
        # A progress below 100 without a status keeps the stored status (blocked stays
        # blocked), except that a done item with less than 100% is no longer done.
        updates["status"] = case((table.c.status == done, excluded.status),
                                 else_=table.c.status)
    elif "status" in shape and "progress" not in shape:
        # A status without a progress: done is 100; reopening a done item starts at 0.
        updates["progress"] = case(
            (excluded.status == done, 100),
            (and_(table.c.status == done, excluded.status != TaskStatus.DROPPED.value), 0),
            else_=table.c.progress)
    if table.name != "task":
        # Parents are always touched: RETURNING must hand back their ids for the children.
        return statement.on_conflict_do_update(index_elements=[table.c.import_key],
                                               set_=updates)
    # A task the file does not change is not rewritten: a re-import of an unchanged
    # plan writes nothing (and leaves updated_at alone).
    changes = [table.c[name].is_distinct_from(value) for name, value in updates.items()
               if name != "updated_at"]
    return statement.on_conflict_do_update(index_elements=[table.c.import_key], set_=updates,
                                           where=or_(*changes))
