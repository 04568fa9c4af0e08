"""The plan by email: a measurable goal's metric, and the history of plan changes.

Goals gain ``metric``, ``metric_unit``, ``metric_start``, ``metric_target`` and
``metric_value`` (all empty for existing goals, whose progress stays the task roll-up);
``plan_change`` records every change by email to an initiative, goal or project, and is
append-only like ``task_update`` (a trigger refuses UPDATE on SQLite and PostgreSQL).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metric', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('metric_unit', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('metric_start', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('metric_target', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('metric_value', sa.Float(), nullable=True))
        batch_op.create_check_constraint(
            'metric_complete', 'metric IS NULL OR (metric_start IS NOT NULL AND '
            'metric_target IS NOT NULL AND metric_start <> metric_target)')
    op.create_table('plan_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=16), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('inbound_message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("level IN ('initiative', 'goal', 'project')",
                       name=op.f('ck_plan_change_level_valid')),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_plan_change_author_id_person'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['inbound_message_id'], ['inbound_message.id'], name=op.f('fk_plan_change_inbound_message_id_inbound_message'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_change'))
    )
    with op.batch_alter_table('plan_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_change_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_change_inbound_message_id'),
                              ['inbound_message_id'], unique=False)
        batch_op.create_index('ix_plan_change_item', ['level', 'item_id', 'created_at'],
                              unique=False)
    _forbid_plan_change_updates()


def downgrade() -> None:
    _allow_plan_change_updates()
    with op.batch_alter_table('plan_change', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_change_item')
        batch_op.drop_index(batch_op.f('ix_plan_change_inbound_message_id'))
        batch_op.drop_index(batch_op.f('ix_plan_change_author_id'))
    op.drop_table('plan_change')
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_constraint('metric_complete', type_='check')
        batch_op.drop_column('metric_value')
        batch_op.drop_column('metric_target')
        batch_op.drop_column('metric_start')
        batch_op.drop_column('metric_unit')
        batch_op.drop_column('metric')


def _forbid_plan_change_updates() -> None:
    """History is append-only: the database itself refuses UPDATE on plan_change."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION plan_change_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'plan_change is append-only'; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER plan_change_no_update BEFORE UPDATE ON plan_change "
            "FOR EACH ROW EXECUTE FUNCTION plan_change_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER plan_change_no_update BEFORE UPDATE ON plan_change "
            "BEGIN SELECT RAISE(ABORT, 'plan_change is append-only'); END"
        )


def _allow_plan_change_updates() -> None:
    op.execute("DROP TRIGGER IF EXISTS plan_change_no_update" + (
        " ON plan_change" if op.get_bind().dialect.name == "postgresql" else ""
    ))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS plan_change_append_only()")
