"""dates checked against what contains them (issue 13)

Revision ID: 0010_dates
Revises: 0009_sending
Create Date: 2026-11-30 16:40:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import portal.db  # noqa: F401

revision = '0010_dates'
down_revision = '0009_sending'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
