"""Constraints live in the database: each one refuses bad data on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from models import (
    Goal,
    InboundMessage,
    Initiative,
    Meeting,
    OutboundMessage,
    Person,
    PersonAlias,
    Project,
    Task,
)
from models.plan import parse_ref
from tests.conftest import Database


def _company(session: Session) -> dict[str, object]:
    ann = Person(email="Ann@Example.com", name="Ann")
    ben = Person(email="ben@example.com", name="Ben", manager=ann)
    initiative = Initiative(title="Grow", owner=ann)
    goal = Goal(title="Revenue", owner=ann, initiative=initiative)
    project = Project(title="Pricing", owner=ben, goal=goal)
    task = Task(title="Memo", owner=ben, project=project, due=date(2026, 12, 4))
    session.add_all([ann, ben, initiative, goal, project, task])
    session.flush()
    return {"ann": ann, "ben": ben, "project": project, "task": task}


def test_a_company_round_trips_with_short_references(db: Database) -> None:
    with db.session() as session, session.begin():
        things = _company(session)
        task = things["task"]
        assert isinstance(task, Task)
        ref = task.ref
    with db.session() as session:
        kind, number = parse_ref(ref) or ("", 0)
        loaded = session.get(Task, number)
        assert kind == "T" and loaded is not None
        assert loaded.title == "Memo"
        assert loaded.owner.manager is not None and loaded.owner.manager.email == "ann@example.com"
        assert loaded.project.goal.initiative.title == "Grow"
        assert (loaded.status, loaded.progress, loaded.weight) == ("open", 0, 1.0)


@pytest.mark.parametrize("text_ref, expected", [
    ("T-42", ("T", 42)), ("t42", ("T", 42)), ("#T-42", ("T", 42)), ("[T-42]", ("T", 42)),
    ("P-7", ("P", 7)), ("g-3", ("G", 3)), ("T-", None), ("X-4", None), ("T-4a", None),
])
def test_references_are_read_in_every_written_form(text_ref: str, expected: object) -> None:
    assert parse_ref(text_ref) == expected


def _refused(db: Database, change: Callable[[Session, dict[str, object]], None]) -> None:
    """``change`` must be refused by the database itself, and leave nothing behind."""
    with db.session() as session, session.begin():
        _company(session)
    session = db.session()
    try:
        session.begin()
        things = {"ann": session.get(Person, 1), "ben": session.get(Person, 2),
                  "task": session.get(Task, 1), "project": session.get(Project, 1)}
        with pytest.raises((IntegrityError, DBAPIError)):
            change(session, things)
            session.flush()
    finally:
        session.rollback()
        session.close()


def _raw(sql: str) -> Callable[[Session, dict[str, object]], None]:
    return lambda session, _things: session.execute(text(sql)) and None


@pytest.mark.parametrize("name, change", [
    ("duplicate email whatever the case",
     lambda s, t: s.add(Person(email="ANN@example.com", name="Other Ann"))),
    ("uppercase email written behind the model's back",
     _raw("INSERT INTO person (email, name, is_hr, timezone, cadence, checkin_weekday, "
          "checkin_time, created_at, updated_at) VALUES ('Zed@x.com', 'Zed', false, 'UTC', "
          "'weekly', 0, '10:00:00', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")),
    ("alias equal to another alias",
     lambda s, t: s.add_all([PersonAlias(person=t["ann"], email="a@x.com"),
                             PersonAlias(person=t["ben"], email="a@x.com")])),
    ("own manager", _raw("UPDATE person SET manager_id = id WHERE id = 1")),
    ("unknown cadence", _raw("UPDATE person SET cadence = 'daily'")),
    ("weekday out of range", _raw("UPDATE person SET checkin_weekday = 7")),
    ("progress over 100", _raw("UPDATE task SET progress = 101")),
    ("negative progress", _raw("UPDATE task SET progress = -1")),
    ("unknown status", _raw("UPDATE task SET status = 'finished'")),
    ("done below 100%", _raw("UPDATE task SET status = 'done', progress = 90")),
    ("zero weight", _raw("UPDATE task SET weight = 0")),
    ("task owner who is not a person", _raw("UPDATE task SET owner_id = 999")),
    ("task in no project", _raw("UPDATE task SET project_id = 999")),
    ("deleting a person who owns tasks", _raw("DELETE FROM person WHERE id = 2")),
    ("a meeting with oneself",
     lambda s, t: s.add(Meeting(manager=t["ann"], employee=t["ann"],
                                period_start=date(2026, 11, 23), period_end=date(2026, 11, 29)))),
    ("two meetings for one pair and period",
     lambda s, t: s.add_all([
         Meeting(manager=t["ann"], employee=t["ben"], period_start=date(2026, 11, 23),
                 period_end=date(2026, 11, 29)),
         Meeting(manager=t["ann"], employee=t["ben"], period_start=date(2026, 11, 23),
                 period_end=date(2026, 11, 29))])),
    ("duplicate inbound Message-ID",
     lambda s, t: s.add_all([InboundMessage(message_id="<m@x>", raw=b"a", sha256="a"),
                             InboundMessage(message_id="<m@x>", raw=b"b", sha256="b")])),
    ("duplicate outbound dedupe key",
     lambda s, t: s.add_all([
         OutboundMessage(dedupe_key="agenda:1:2:2026-W48", kind="agenda", to_address="a@x",
                         subject="Agenda"),
         OutboundMessage(dedupe_key="agenda:1:2:2026-W48", kind="agenda", to_address="a@x",
                         subject="Agenda")])),
])
def test_the_database_refuses(db: Database, name: str,
                              change: Callable[[Session, dict[str, object]], None]) -> None:
    _refused(db, change)


def test_task_history_is_append_only(db: Database) -> None:
    from models import TaskHistory

    with db.session() as session, session.begin():
        things = _company(session)
        session.add(TaskHistory(task=things["task"], author=things["ben"], new_progress=60,
                               note="intro drafted"))
    with db.session() as session, session.begin(), pytest.raises(DBAPIError,
                                                                  match="append-only"):
        session.execute(text("UPDATE task_update SET note = 'rewritten'"))
    with db.session() as session:
        assert session.scalar(text("SELECT note FROM task_update")) == "intro drafted"
