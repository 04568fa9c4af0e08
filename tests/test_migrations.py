"""The migrations are the schema: they match the models and go down and up cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from models import Base
from models.migrate import current_revision, downgrade, head_revision, upgrade
from tests.conftest import Database


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
