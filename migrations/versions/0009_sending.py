"""email limits and reminders nobody could receive (issue 13)

Revision ID: 0009_sending
Revises: 0008_sessions
Create Date: 2026-11-30 16:40:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db  # noqa: F401

revision = '0009_sending'
down_revision = '0008_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('email_limits',
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('window_start', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_email_limits'))
    )
    with op.batch_alter_table('email_limits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_limits_window_start'), ['window_start'],
                              unique=False)

    op.create_table('reminders_held',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('held_since', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_tried_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['return_id'], ['grant_returns.id'], name=op.f('fk_reminders_held_return_id_grant_returns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders_held')),
    sa.UniqueConstraint('return_id', 'kind', name=op.f('uq_reminders_held_return_id_kind'))
    )


def downgrade() -> None:
    op.drop_table('reminders_held')
    with op.batch_alter_table('email_limits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_limits_window_start'))

    op.drop_table('email_limits')
