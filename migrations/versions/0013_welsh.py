"""a Welsh service: Welsh fields beside what the OPCC types, and each organisation's language (issue 16)

Revision ID: 0013_welsh
Revises: 0012_forms
Create Date: 2026-12-01 02:10:00

Funds, rounds and criteria gain the Welsh of their names, purpose, terms and guidance,
organisations their Welsh name and the language they work in (their offer letters are written
in it), and each award the language its letter was offered in. All start empty ("en" for the language): a Welsh reader sees the English, marked as
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
GIVEN = "name_cy <> ''"
INDEXES = (
    ('uq_funds_name_cy', 'funds', ['name_cy']),
    ('uq_rounds_fund_id_name_cy', 'rounds', ['fund_id', 'name_cy']),
    ('uq_organisations_name_cy', 'organisations', ['name_cy']),
)


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        for name, kind in columns:
            op.add_column(table, sa.Column(name, kind, server_default='', nullable=False))
    op.add_column('organisations',
                  sa.Column('language', sa.String(10), server_default='en', nullable=False))
    # The language of each offer's letter, kept from the offer on (none for offers before).
    op.add_column('awards', sa.Column('letter_language', sa.String(10), nullable=True))
    # Welsh names differ where given (the English ones have their unique constraints).
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=True, postgresql_where=sa.text(GIVEN),
                        sqlite_where=sa.text(GIVEN))


def downgrade() -> None:
    op.drop_column('awards', 'letter_language')
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
    # In place (SQLite 3.35 drops a column itself): other tables refer to these, so SQLite
    # could not rebuild them.
    op.drop_column('organisations', 'language')
    for table, columns in reversed(COLUMNS.items()):
        for name, _kind in reversed(columns):
            op.drop_column(table, name)
