"""Tracking start: the day Drumbeat began tracking a person's 1:1s with their manager,
so nobody is judged on the weeks before Drumbeat existed.

Existing pairs are tracked since the person was created, or since their earliest
recorded meeting if that is earlier (their record so far keeps counting).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _day(value: object) -> date | None:
    """A stored timestamp as a date: SQLite hands back text, PostgreSQL a datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch: SQLite would copy ``person``, which every table
    # refers to, and a copy cannot be dropped while those references hold rows.
    op.add_column('person', sa.Column('tracking_from', sa.Date(), nullable=True))
    bind = op.get_bind()
    first_meeting = {row[0]: _day(row[1]) for row in bind.execute(sa.text(
        "SELECT employee_id, MIN(period_start) FROM meeting GROUP BY employee_id"))}
    starts = [
        {"id": row[0], "day": min(days)}
        for row in bind.execute(sa.text(
            "SELECT id, created_at FROM person WHERE manager_id IS NOT NULL"))
        if (days := [d for d in (_day(row[1]), first_meeting.get(row[0])) if d is not None])
    ]
    if starts:
        bind.execute(sa.text("UPDATE person SET tracking_from = :day WHERE id = :id"), starts)


def downgrade() -> None:
    op.drop_column('person', 'tracking_from')  # SQLite 3.35+ drops a column in place
