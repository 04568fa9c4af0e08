"""The review cycle: one cycle per reviewed period, one review per employee with its
three steps (self-review, manager review, acknowledgement), their texts and states.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('review_cycle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_kind', sa.String(length=16), nullable=False),
    sa.Column('period_label', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('scale', sa.String(length=400), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_on', sa.Date(), nullable=True),
    sa.CheckConstraint('deadline >= period_end', name=op.f('ck_review_cycle_deadline_after_period')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_review_cycle_period_ordered')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_cycle')),
    sa.UniqueConstraint('period_label', name='uq_review_cycle_period')
    )
    op.create_table('review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('self_state', sa.String(length=16), nullable=False),
    sa.Column('self_wins', sa.Text(), nullable=True),
    sa.Column('self_misses', sa.Text(), nullable=True),
    sa.Column('self_next', sa.Text(), nullable=True),
    sa.Column('self_rating', sa.Integer(), nullable=True),
    sa.Column('self_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('self_message_id', sa.Integer(), nullable=True),
    sa.Column('manager_state', sa.String(length=16), nullable=False),
    sa.Column('manager_rating', sa.Integer(), nullable=True),
    sa.Column('manager_comment', sa.Text(), nullable=True),
    sa.Column('manager_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('manager_message_id', sa.Integer(), nullable=True),
    sa.Column('ack_state', sa.String(length=16), nullable=False),
    sa.Column('ack_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dispute_text', sa.Text(), nullable=True),
    sa.Column('resolution_text', sa.Text(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("ack_state IN ('pending', 'waiting', 'agreed', 'disputed', 'resolved', 'missed')", name=op.f('ck_review_ack_state_valid')),
    sa.CheckConstraint("manager_state IN ('pending', 'waiting', 'done', 'missed')", name=op.f('ck_review_manager_state_valid')),
    sa.CheckConstraint("self_state IN ('pending', 'waiting', 'done', 'missed')", name=op.f('ck_review_self_state_valid')),
    sa.CheckConstraint('manager_rating IS NULL OR manager_rating >= 0', name=op.f('ck_review_manager_rating_valid')),
    sa.CheckConstraint('self_rating IS NULL OR self_rating >= 0', name=op.f('ck_review_self_rating_valid')),
    sa.ForeignKeyConstraint(['cycle_id'], ['review_cycle.id'], name=op.f('fk_review_cycle_id_review_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['employee_id'], ['person.id'], name=op.f('fk_review_employee_id_person'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['manager_id'], ['person.id'], name=op.f('fk_review_manager_id_person'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['manager_message_id'], ['inbound_message.id'], name=op.f('fk_review_manager_message_id_inbound_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['person.id'], name=op.f('fk_review_resolved_by_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['self_message_id'], ['inbound_message.id'], name=op.f('fk_review_self_message_id_inbound_message'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review')),
    sa.UniqueConstraint('cycle_id', 'employee_id', name='uq_review_cycle_employee')
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_manager_id'), ['manager_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_manager_id'))
        batch_op.drop_index(batch_op.f('ix_review_cycle_id'))

    op.drop_table('review')
    op.drop_table('review_cycle')
