"""Which message last set a task's status, progress or due date (replies apply in order).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('set_by_message_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_task_set_by_message_id_inbound_message'),
                                    'inbound_message', ['set_by_message_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_task_set_by_message_id_inbound_message'),
                                 type_='foreignkey')
        batch_op.drop_column('set_by_message_id')
