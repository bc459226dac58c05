"""several hosts: the email outbox (issue 17)

Revision ID: 0014_hosts
Revises: 0013_welsh
Create Date: 2026-12-01 04:20:00

Each email becomes a row written in the same transaction as the change that causes it; a
sender delivers it with retries and marks it sent (``portal.services.sending``). Evidence
needs no change here: the stored names stay, whichever store holds the files.
"""

import sqlalchemy as sa
from alembic import op

revision = '0014_hosts'
down_revision = '0013_welsh'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outgoing_emails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recipients', sa.Text(), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('message', sa.LargeBinary(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'sent', 'failed', name='email_status',
                                    native_enum=False, length=20, create_constraint=True),
                  nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claim_token', sa.String(64), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_emails')),
    )
    op.create_index('ix_outgoing_emails_due', 'outgoing_emails', ['status', 'next_attempt_at'])


def downgrade() -> None:
    op.drop_index('ix_outgoing_emails_due', table_name='outgoing_emails')
    op.drop_table('outgoing_emails')
