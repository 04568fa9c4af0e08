"""A partial index for the answer limit: one address's answers of the last hour.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_outbound_message_answers_by_address', 'outbound_message',
                    ['to_address', 'created_at'], unique=False,
                    postgresql_where=sa.text("kind = 'answer'"),
                    sqlite_where=sa.text("kind = 'answer'"))


def downgrade() -> None:
    op.drop_index('ix_outbound_message_answers_by_address', table_name='outbound_message',
                  postgresql_where=sa.text("kind = 'answer'"),
                  sqlite_where=sa.text("kind = 'answer'"))
