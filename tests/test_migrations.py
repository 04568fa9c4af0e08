"""The migrations are the schema: they match the models and go down and up cleanly."""

from __future__ import annotations

import hashlib

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from models import Base
from models.migrate import current_revision, downgrade, head_revision, upgrade
from tests.conftest import Database
from workers.intake import content_hash


def test_database_is_at_the_newest_revision(db: Database) -> None:
    assert current_revision(db.engine) == head_revision()


def test_migrations_describe_exactly_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_downgrade_to_empty_and_back(db: Database) -> None:
    downgrade(db.engine, "base")
    assert current_revision(db.engine) is None
    upgrade(db.engine)
    assert current_revision(db.engine) == head_revision()


def test_rows_stored_before_0005_get_the_content_hash_the_intake_computes(db: Database) -> None:
    raws = [b"Received: from relay.example by mx.example\r\n\tid 1\r\n"
            b"Return-Path: <a@x.example>\r\n"
            b"From: ann@acme.example\r\nMessage-ID: <old-1@x.example>\r\n\r\nT-1 done\r\n",
            b"From: bob@acme.example\nMessage-ID: <old-2@x.example>\n\nT-2 50%\n"]
    downgrade(db.engine, "0004")
    with db.engine.begin() as conn:
        for number, raw in enumerate(raws, 1):
            conn.execute(text(
                "INSERT INTO inbound_message (message_id, raw, sha256, via, envelope_to, "
                "received_at, status, attempts) VALUES (:message_id, :raw, :sha256, 'smtp', "
                "'[]', CURRENT_TIMESTAMP, 'received', 0)"),
                {"message_id": f"<old-{number}@x.example>", "raw": raw,
                 "sha256": hashlib.sha256(raw).hexdigest()})
    upgrade(db.engine)
    with db.engine.connect() as conn:
        stored = conn.execute(text(
            "SELECT content_hash FROM inbound_message ORDER BY id")).scalars().all()
    assert stored == [content_hash(raw) for raw in raws]
    assert stored[0] != hashlib.sha256(raws[0]).hexdigest()  # its trace fields left out
