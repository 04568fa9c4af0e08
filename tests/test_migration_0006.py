"""Migration 0006 (who said what on a 1:1) on SQLite and PostgreSQL: an upgrade from 0005
keeps every meeting and task and reads each side's confirmation as its word; a
downgrade keeps them too, a disputed meeting becoming "not held" (never counted held).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from models.migrate import current_revision, downgrade, head_revision, upgrade
from tests.conftest import Database
from tests.test_agendas_pipeline import seed

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
INSERT_MEETING = text(
    "INSERT INTO meeting (manager_id, employee_id, period_start, period_end, status, held_on, "
    "confirmed_by_manager, confirmed_by_employee, created_at, updated_at) VALUES (:manager, "
    ":employee, :start, :end, :status, :held_on, :by_manager, :by_employee, :now, :now)")


def meetings(db: Database, columns: str) -> list[tuple[object, ...]]:
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            text(f"SELECT {columns} FROM meeting ORDER BY period_start"))]


def test_upgrade_from_0005_keeps_the_record_and_downgrade_keeps_it_too(db: Database) -> None:
    ids = seed(db)
    downgrade(db.engine, "0005")
    weeks = [("2026-11-16", "2026-11-22", "held", "2026-11-17", True, False),
             ("2026-11-23", "2026-11-29", "not_held", None, True, True),
             ("2026-11-30", "2026-12-06", "excused", None, False, True)]
    with db.engine.begin() as connection:
        for start, end, status, held_on, by_manager, by_employee in weeks:
            connection.execute(INSERT_MEETING, {
                "manager": ids["mika"], "employee": ids["ann"], "start": start, "end": end,
                "status": status, "held_on": held_on, "by_manager": by_manager,
                "by_employee": by_employee, "now": NOW})
        tasks_before = connection.scalar(text("SELECT count(*) FROM task"))

    upgrade(db.engine)
    assert current_revision(db.engine) == head_revision()
    assert meetings(db, "status, manager_says, employee_says, excused_by_id") == [
        ("held", "held", None, None),
        ("not_held", "not_held", "not_held", None),
        ("excused", None, None, None),  # who excused it was never recorded
    ]
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE meeting SET status = 'disputed', employee_says = "
                                "'not_held' WHERE status = 'held'"))
        connection.execute(text("UPDATE task SET from_notes_by_id = :mika"),
                           {"mika": ids["mika"]})
        assert connection.scalar(text("SELECT count(*) FROM task")) == tasks_before
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(text("UPDATE meeting SET manager_says = 'maybe'"))

    downgrade(db.engine, "0005")
    assert meetings(db, "status, held_on IS NOT NULL") == [
        ("not_held", True), ("not_held", False), ("excused", False)]
    with db.engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM task")) == tasks_before
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(text("UPDATE meeting SET status = 'disputed'"))

    upgrade(db.engine)
    assert current_revision(db.engine) == head_revision()
