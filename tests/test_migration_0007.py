"""Migration 0007 (tracking start) on SQLite and PostgreSQL: an upgrade from 0006 tracks
each existing pair since its employee was created, or since their earliest recorded
meeting when that is earlier, so an upgrade never drops a record that was counting."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from models.migrate import downgrade, upgrade
from tests.conftest import Database
from tests.test_agendas_pipeline import seed


def test_upgrade_from_0006_tracks_existing_pairs_from_creation_or_first_meeting(
        db: Database) -> None:
    ids = seed(db)
    downgrade(db.engine, "0006")
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE person SET created_at = :at"),
                           {"at": "2026-11-20 09:30:00"})
        connection.execute(text(
            "INSERT INTO meeting (manager_id, employee_id, period_start, period_end, status, "
            "held_on, confirmed_by_manager, confirmed_by_employee, created_at, updated_at) "
            "VALUES (:manager, :employee, '2026-10-05', '2026-10-11', 'held', '2026-10-06', "
            "TRUE, TRUE, :at, :at)"),
            {"manager": ids["mika"], "employee": ids["ann"], "at": "2026-11-20 09:30:00"})
    upgrade(db.engine)
    with db.engine.connect() as connection:
        tracked = dict(connection.execute(text("SELECT id, tracking_from FROM person")).all())
    day = {key: None if value is None else date.fromisoformat(str(value)[:10])
           for key, value in tracked.items()}
    assert day[ids["ann"]] == date(2026, 10, 5)  # her back-filled record keeps counting
    assert day[ids["bob"]] == date(2026, 11, 20)  # created then
    assert day[ids["mika"]] is None  # reports to nobody: no pair to track
