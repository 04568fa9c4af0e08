"""Who sent it and how we know: the SMTP client's address, how the sender was
established, raw bytes that can be cleared, and deduplication by Message-ID and content.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of workers.intake.content_hash as it is at this revision (a migration must not
# change when the application does): the bytes without the leading trace fields.
_TRACE_FIELDS = frozenset({
    b"received", b"return-path", b"delivered-to", b"x-original-to", b"envelope-to",
    b"x-envelope-from", b"x-envelope-to", b"x-received", b"received-spf",
    b"authentication-results", b"arc-seal", b"arc-message-signature",
    b"arc-authentication-results", b"x-spam-status", b"x-spam-score", b"x-spam-checker-version",
    b"x-virus-scanned",
})


def _content_hash(raw: bytes) -> str:
    text = raw.replace(b"\r\n", b"\n")
    position, skipping = 0, False
    while position < len(text):
        end = text.find(b"\n", position)
        end = len(text) if end < 0 else end + 1
        line = text[position:end]
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                break
        elif line.startswith(b"From "):
            skipping = True
        else:
            name, colon, _ = line.partition(b":")
            skipping = bool(colon) and name.strip().lower() in _TRACE_FIELDS
            if not skipping:
                break
        position = end
    return hashlib.sha256(text[position:]).hexdigest()


def _backfill_content_hash() -> None:
    """Every stored row's content hash, a batch of rows at a time (raw can be large)."""
    bind = op.get_bind()
    table = sa.table('inbound_message', sa.column('id', sa.Integer),
                     sa.column('raw', sa.LargeBinary), sa.column('content_hash', sa.String))
    last_id = 0
    while True:
        rows = bind.execute(sa.select(table.c.id, table.c.raw).where(table.c.id > last_id)
                            .order_by(table.c.id).limit(500)).all()
        if not rows:
            return
        bind.execute(table.update().where(table.c.id == sa.bindparam('row_id'))
                     .values(content_hash=sa.bindparam('digest')),
                     [{'row_id': row_id, 'digest': _content_hash(raw or b"")}
                      for row_id, raw in rows])
        last_id = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('peer_address', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('authenticated_by', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
        batch_op.alter_column('raw', existing_type=sa.LargeBinary(), nullable=True)
    _backfill_content_hash()
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
