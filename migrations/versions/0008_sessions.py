"""sessions ended on the server (filled by the sessions work of issue 13)

Revision ID: 0008_sessions
Revises: 0007_state_changes
Create Date: 2026-11-30 16:40:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import portal.db  # noqa: F401

revision = '0008_sessions'
down_revision = '0007_state_changes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
