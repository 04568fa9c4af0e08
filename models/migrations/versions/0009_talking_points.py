"""Talking points a pair brings to its next 1:1, and the time people are away.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('talking_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('raised_by_id', sa.Integer(), nullable=True),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('source_message_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_by_meeting_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('manager_id <> employee_id', name=op.f('ck_talking_point_two_people')),
    sa.ForeignKeyConstraint(['manager_id'], ['person.id'], name=op.f('fk_talking_point_manager_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['employee_id'], ['person.id'], name=op.f('fk_talking_point_employee_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['raised_by_id'], ['person.id'], name=op.f('fk_talking_point_raised_by_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['person.id'], name=op.f('fk_talking_point_closed_by_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_message_id'], ['inbound_message.id'], name=op.f('fk_talking_point_source_message_id_inbound_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['closed_by_meeting_id'], ['meeting.id'], name=op.f('fk_talking_point_closed_by_meeting_id_meeting'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_talking_point'))
    )
    with op.batch_alter_table('talking_point', schema=None) as batch_op:
        batch_op.create_index('ix_talking_point_pair_open',
                              ['manager_id', 'employee_id', 'closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_talking_point_employee_id'), ['employee_id'],
                              unique=False)
    op.create_table('time_away',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_message_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_time_away_days_ordered')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_time_away_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_message_id'], ['inbound_message.id'], name=op.f('fk_time_away_source_message_id_inbound_message'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_away'))
    )
    with op.batch_alter_table('time_away', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_away_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_time_away_ends_on'), ['ends_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('time_away', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_time_away_ends_on'))
        batch_op.drop_index(batch_op.f('ix_time_away_person_id'))
    op.drop_table('time_away')
    with op.batch_alter_table('talking_point', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_talking_point_employee_id'))
        batch_op.drop_index('ix_talking_point_pair_open')
    op.drop_table('talking_point')
