"""Who sent it and how we know: the SMTP client's address, how the sender was
established, raw bytes that can be cleared, and deduplication by Message-ID and content.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('peer_address', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('authenticated_by', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
        batch_op.alter_column('raw', existing_type=sa.LargeBinary(), nullable=True)
    op.execute("UPDATE inbound_message SET content_hash = sha256")
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.alter_column('content_hash', existing_type=sa.String(length=64),
                              nullable=False)
        batch_op.drop_constraint('uq_inbound_message_message_id', type_='unique')
        batch_op.create_unique_constraint('uq_inbound_message_message_id_content',
                                          ['message_id', 'content_hash'])
        batch_op.create_index(batch_op.f('ix_inbound_message_message_id'), ['message_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_message_message_id'))
        batch_op.drop_constraint('uq_inbound_message_message_id_content', type_='unique')
    # Keep the first copy of each Message-ID: the old schema allows one.
    op.execute("DELETE FROM inbound_message WHERE id NOT IN "
               "(SELECT MIN(id) FROM inbound_message GROUP BY message_id)")
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_inbound_message_message_id', ['message_id'])
        batch_op.drop_column('content_hash')
        batch_op.drop_column('authenticated_by')
        batch_op.drop_column('peer_address')
    op.get_bind().execute(sa.text("UPDATE inbound_message SET raw = :empty WHERE raw IS NULL"),
                          {"empty": b""})
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.alter_column('raw', existing_type=sa.LargeBinary(), nullable=False)
