"""The language Drumbeat writes to each person in.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('person') as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=False,
                                      server_default='en'))


def downgrade() -> None:
    with op.batch_alter_table('person') as batch_op:
        batch_op.drop_column('language')
