"""Writing a plan into the database in bulk: all of it, or (on any problem) none.

Records stream in from ``plan_file`` and are upserted in chunks with set-based
``INSERT … ON CONFLICT (import_key) DO UPDATE`` (PostgreSQL and SQLite), so a
500,000-task plan never becomes 500,000 ORM objects; a pinned record
(``ref: T-12``) is upserted on its id instead, once the id is known to exist.
Only items whose values differ are rewritten (stamped with the import's time,
which is how the summary counts them); tasks go through psycopg's pipelined
``executemany``, parents with ``RETURNING`` for their children's ids.
Columns a record leaves out keep their stored values on re-import; status and
progress always travel together, so the database's "done means 100%" check
always holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import Table, and_, bindparam, case, func, or_, select, update
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
SYSTEM_KEY_PREFIX = "drumbeat:"  # keys Drumbeat gives its own items (the 1:1 action items)
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
    changed: dict[str, int] = field(default_factory=dict)  # matched items the file changed
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
    writer = _ChunkWriter(session, now or utcnow(), log)
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
    log.raise_if_any()
    writer.finish()
    log.raise_if_any()
    if progress:
        progress(summary.records)
    after = _counts(session)
    now_ = writer.now
    for level, model in MODELS.items():
        created = after[level] - before[level]
        # Only a row the import inserted or changed carries its timestamp.
        stamped = session.scalar(select(func.count()).select_from(model)
                                 .where(model.updated_at == now_)) or 0
        summary.created[level.value] = created
        summary.matched[level.value] = writer.written[level] - created
        summary.changed[level.value] = stamped - created
    return summary


def _counts(session: Session) -> dict[Level, int]:
    return {level: session.scalar(select(func.count()).select_from(model)) or 0
            for level, model in MODELS.items()}


@dataclass(slots=True)
class _Pending:
    """A record waiting in the buffer: who it is, and where to point a problem."""

    handle: str
    ref: int | None
    key: str
    parent: str | None
    row: int
    label: str


class _ChunkWriter:
    """Buffers records and writes them level by level, parents first.

    Unpinned records are upserted on ``import_key``, pinned ones on their id
    (after checking that the id exists); a pinned item that moved or was renamed
    takes its new path key at the end, once every item has let go of its old one.
    """

    def __init__(self, session: Session, now: datetime, log: ProblemLog) -> None:
        self.session, self.now, self.log = session, now, log
        self.dialect = session.get_bind().dialect.name
        self.pending: dict[Level, list[tuple[_Pending, dict[str, Any]]]] = defaultdict(list)
        self.ids: dict[str, int] = {}  # parent handle → id (not tasks: they have no children)
        self.written: dict[Level, int] = defaultdict(int)
        self.skipped: set[str] = set()
        self.moves = KeyMoves(session)

    def skip(self, record: PlanRecord) -> None:
        self.skipped.add(record.handle)

    def add(self, record: PlanRecord, owner_id: int) -> None:
        if record.parent_key in self.skipped:
            self.skipped.add(record.handle)
            return
        pending = _Pending(record.handle, record.ref, record.key, record.parent_key,
                           record.row, record.label)
        self.pending[record.level].append((pending, _row(record, owner_id, self.now)))

    def flush(self) -> None:
        for level in Level:
            entries = self.pending.pop(level, [])
            if not entries:
                continue
            entries = self._with_parents(level, entries)
            pinned = self._existing_pins(level, [e for e in entries if e[0].ref is not None])
            loose = [row for item, row in entries if item.ref is None]
            for item, row in pinned:
                row["id"] = item.ref
                del row["import_key"]
                if level != Level.TASK:
                    self.ids[item.handle] = item.ref  # type: ignore[assignment]
            self._upsert(level, loose, on="import_key")
            self._upsert(level, [row for _, row in pinned], on="id")
            self.written[level] += len(loose) + len(pinned)

    def finish(self) -> None:
        """Give moved pinned items their new path keys (problems go to the log)."""
        self.moves.apply(self.log)

    def _with_parents(self, level: Level, entries: list[tuple[_Pending, dict[str, Any]]]
                      ) -> list[tuple[_Pending, dict[str, Any]]]:
        """Each row's parent id; a row whose parent was refused is dropped (told already)."""
        kept = []
        column = PARENT_COLUMN.get(level)
        for item, row in entries:
            if column is not None:
                parent_id = self.ids.get(item.parent)  # type: ignore[arg-type]
                if parent_id is None:
                    if not self.log:
                        raise RuntimeError(f"{item.label}: its parent was never written")
                    self.skipped.add(item.handle)
                    continue
                row[column] = parent_id
            kept.append((item, row))
        return kept

    def _existing_pins(self, level: Level, entries: list[tuple[_Pending, dict[str, Any]]]
                       ) -> list[tuple[_Pending, dict[str, Any]]]:
        """The pinned rows whose item exists; a ref to nothing is a problem."""
        if not entries:
            return []
        table: Table = MODELS[level].__table__  # type: ignore[assignment]
        wanted = [item.ref for item, _ in entries]
        stored = dict(self.session.execute(
            select(table.c.id, table.c.import_key).where(table.c.id.in_(wanted))).all())
        kept = []
        for item, row in entries:
            if item.ref not in stored:
                self.log.add(item.row, f"{item.label} ref", f"there is no {item.handle}",
                             f"Use the reference of an existing {level} (drumbeat export "
                             "plan shows them all), or remove the ref to create a new one.")
                self.skipped.add(item.handle)
                continue
            self.moves.note(level, item, stored[item.ref])
            kept.append((item, row))
        self.moves.release(level)
        return kept

    def _upsert(self, level: Level, rows: list[dict[str, Any]], on: str) -> None:
        if not rows:
            return
        table: Table = MODELS[level].__table__  # type: ignore[assignment]
        by_shape: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            shape = frozenset(row)
            for flag in FLAGS:
                row.pop(flag, None)
            by_shape[shape].append(row)
        for shape, shaped_rows in by_shape.items():
            statement = _upsert_statement(self.dialect, table, shape, on)
            if level == Level.TASK or on == "id":
                self.session.execute(statement, shaped_rows)
                continue
            returning = statement.returning(table.c.import_key, table.c.id)
            returned = dict(self.session.execute(returning, shaped_rows).all())
            unchanged = [row["import_key"] for row in shaped_rows
                         if row["import_key"] not in returned]
            if unchanged:
                returned.update(self.session.execute(
                    select(table.c.import_key, table.c.id)
                    .where(table.c.import_key.in_(unchanged))).all())
            self.ids.update(returned)


class KeyMoves:
    """Pinned items that now sit at another path of titles, and so take its key.

    A key is released (set to NULL) as soon as its pinned item is met, so that
    two items may swap titles; the new keys are written at the end, refused if
    another item holds one. Items that never had a path key (made by email or
    from 1:1 notes) are left without one: only their ref finds them. A key is
    bookkeeping, so moving it leaves ``updated_at`` alone: the summary counts the items
    the import changed by that stamp.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.pending: dict[Level, list[tuple[_Pending, int]]] = defaultdict(list)
        self.moved: dict[Level, list[tuple[_Pending, int]]] = defaultdict(list)

    def note(self, level: Level, item: _Pending, stored_key: str | None) -> None:
        if stored_key is None or stored_key.startswith(SYSTEM_KEY_PREFIX):
            return
        if stored_key != item.key:
            self.pending[level].append((item, item.ref))  # type: ignore[arg-type]

    def release(self, level: Level) -> None:
        items = self.pending.pop(level, [])
        if not items:
            return
        table: Table = MODELS[level].__table__  # type: ignore[assignment]
        self.session.execute(update(table).where(table.c.id.in_([id_ for _, id_ in items]))
                             .values(import_key=None, updated_at=table.c.updated_at))
        self.moved[level].extend(items)

    def apply(self, log: ProblemLog) -> None:
        for level, items in self.moved.items():
            table: Table = MODELS[level].__table__  # type: ignore[assignment]
            first: dict[str, _Pending] = {}
            for item, _ in items:
                other = first.setdefault(item.key, item)
                if other is not item:
                    log.add(item.row, item.label, f"{item.handle} would have the same title "
                            f"as {other.handle} under one parent",
                            "Titles must be unique within their parent.")
            for start in range(0, len(items), CHUNK_SIZE):
                keys = [item.key for item, _ in items[start:start + CHUNK_SIZE]]
                for key, id_ in self.session.execute(
                        select(table.c.import_key, table.c.id)
                        .where(table.c.import_key.in_(keys))):
                    item = first[key]
                    log.add(item.row, item.label, f"{item.handle} would have the same title "
                            f"as {MODELS[level].REF_PREFIX}-{id_} under one parent",
                            "Titles must be unique within their parent: rename one of them.")
            if log:
                return
            self.session.execute(
                update(table).where(table.c.id == bindparam("moved_id"))
                .values(import_key=bindparam("new_key"), updated_at=table.c.updated_at),
                [{"moved_id": id_, "new_key": item.key} for item, id_ in items])


def _row(record: PlanRecord, owner_id: int, now: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {"import_key": record.key, "title": record.title, "owner_id": owner_id,
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


def _upsert_statement(dialect: str, table: Table, shape: frozenset[str], on: str) -> Any:
    """INSERT … ON CONFLICT (``on``: import_key, or id for pinned items) DO UPDATE the
    columns this shape gives, where one of them differs: an unchanged item is not
    rewritten (and keeps its updated_at), and RETURNING counts the items changed."""
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise RuntimeError(f"importing plans needs PostgreSQL or SQLite, not {dialect}")
    statement = insert(table)
    excluded = statement.excluded
    updates: dict[str, Any] = {
        name: excluded[name] for name in shape
        if name not in ("id", "import_key", "created_at", *FLAGS)
    }
    done = TaskStatus.DONE.value
    if EXPLICIT_COMPLETION in shape:
        # completed_on names a day: a completion stored at any time of that day stays.
        updates["completed_at"] = case(
            (_same_utc_day(dialect, table.c.completed_at, excluded.completed_at),
             table.c.completed_at), else_=excluded.completed_at)
    elif "completed_at" in shape:
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
    changes = [table.c[name].is_distinct_from(value) for name, value in updates.items()
               if name != "updated_at"]
    return statement.on_conflict_do_update(index_elements=[table.c[on]], set_=updates,
                                           where=or_(*changes))


def _same_utc_day(dialect: str, stored: Any, given: Any) -> Any:
    if dialect == "postgresql":
        return func.date(func.timezone("UTC", stored)) == func.date(func.timezone("UTC", given))
    return func.date(stored) == func.date(given)
