"""Alembic migrations; applied with ``drumbeat db upgrade`` (see ``models.migrate``)."""
