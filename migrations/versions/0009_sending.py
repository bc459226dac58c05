"""email limits and reminders nobody could receive (issue 13)

Revision ID: 0009_sending
Revises: 0008_sessions
Create Date: 2026-11-30 16:40:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import portal.db  # noqa: F401

revision = '0009_sending'
down_revision = '0008_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
