"""Who said what: each side's word on a 1:1 (held / not held), a disputed status when
they disagree, who excused a period, and who created a task from 1:1 notes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "status IN ('held', 'not_held', 'excused')"
NEW_STATUSES = "status IN ('held', 'not_held', 'excused', 'disputed')"


def upgrade() -> None:
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manager_says', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('employee_says', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('excused_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_meeting_excused_by_id_person'), 'person',
                                    ['excused_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(batch_op.f('ck_meeting_manager_says_valid'),
                                         "manager_says IN ('held', 'not_held')")
        batch_op.create_check_constraint(batch_op.f('ck_meeting_employee_says_valid'),
                                         "employee_says IN ('held', 'not_held')")
        batch_op.drop_constraint(batch_op.f('ck_meeting_status_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_meeting_status_valid'), NEW_STATUSES)
    # What each side confirmed so far is what it said.
    for side in ('manager', 'employee'):
        op.execute(f"UPDATE meeting SET {side}_says = status WHERE confirmed_by_{side} "
                   "AND status IN ('held', 'not_held')")
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('from_notes_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_task_from_notes_by_id_person'), 'person',
                                    ['from_notes_by_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_task_from_notes_by_id_person'),
                                 type_='foreignkey')
        batch_op.drop_column('from_notes_by_id')
    # The old schema cannot say "disputed": such a period was never counted as held.
    op.execute("UPDATE meeting SET status = 'not_held' WHERE status = 'disputed'")
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_meeting_status_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_meeting_status_valid'), OLD_STATUSES)
        batch_op.drop_constraint(batch_op.f('ck_meeting_employee_says_valid'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_meeting_manager_says_valid'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_meeting_excused_by_id_person'),
                                 type_='foreignkey')
        batch_op.drop_column('excused_by_id')
        batch_op.drop_column('employee_says')
        batch_op.drop_column('manager_says')
