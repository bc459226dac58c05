"""a Welsh service: Welsh fields beside what the OPCC types, and each organisation's language (issue 16)

Revision ID: 0013_welsh
Revises: 0012_forms
Create Date: 2026-12-01 02:10:00

Funds, rounds and criteria gain the Welsh of their names, purpose, terms and guidance, and
organisations their Welsh name and the language they work in (their offer letters are written
in it). All start empty ("en" for the language): a Welsh reader sees the English, marked as
English, until the OPCC gives the Welsh.
"""

import sqlalchemy as sa
from alembic import op

revision = '0013_welsh'
down_revision = '0012_forms'
branch_labels = None
depends_on = None

COLUMNS = {
    'funds': (('name_cy', sa.String(200)), ('purpose_cy', sa.Text()), ('terms_cy', sa.Text())),
    'rounds': (('name_cy', sa.String(200)), ('guidance_cy', sa.Text())),
    'criteria': (('title_cy', sa.String(200)), ('guidance_cy', sa.Text())),
    'organisations': (('name_cy', sa.String(200)),),
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        for name, kind in columns:
            op.add_column(table, sa.Column(name, kind, server_default='', nullable=False))
    op.add_column('organisations',
                  sa.Column('language', sa.String(10), server_default='en', nullable=False))


def downgrade() -> None:
    # In place (SQLite 3.35 drops a column itself): other tables refer to these, so SQLite
    # could not rebuild them.
    op.drop_column('organisations', 'language')
    for table, columns in reversed(COLUMNS.items()):
        for name, _kind in reversed(columns):
            op.drop_column(table, name)
