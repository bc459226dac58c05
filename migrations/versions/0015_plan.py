"""the Police and Crime Plan: plans, their sections, and what funds, bids and awards support (issue 18)

Revision ID: 0015_plan
Revises: 0014_hosts
Create Date: 2026-12-01 05:00:00

A plan (title, years, the date it is in force from) has sections (code, name); each fund
names its default section, each bid the sections it supports, each award the one it is listed
under for the board. All start empty: grants made before have no section until one is given.
"""

import sqlalchemy as sa
from alembic import op

revision = '0015_plan'
down_revision = '0014_hosts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'plans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(200), nullable=False),
        sa.Column('title_cy', sa.String(200), server_default='', nullable=False),
        sa.Column('first_year', sa.Integer(), nullable=False),
        sa.Column('last_year', sa.Integer(), nullable=False),
        sa.Column('in_force_from', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('last_year >= first_year', name=op.f('ck_plans_years_in_order')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
        sa.UniqueConstraint('in_force_from', name=op.f('uq_plans_in_force_from')),
    )
    op.create_table(
        'plan_sections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(20), nullable=False),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('name_cy', sa.String(200), server_default='', nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['plans.id'],
                                name=op.f('fk_plan_sections_plan_id_plans')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_sections')),
        sa.UniqueConstraint('plan_id', 'code', name=op.f('uq_plan_sections_plan_id_code')),
        sa.UniqueConstraint('plan_id', 'name', name=op.f('uq_plan_sections_plan_id_name')),
    )
    op.create_index(op.f('ix_plan_sections_plan_id'), 'plan_sections', ['plan_id'])
    op.create_table(
        'bid_plan_sections',
        sa.Column('bid_id', sa.Integer(), nullable=False),
        sa.Column('plan_section_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['bid_id'], ['bids.id'], ondelete='CASCADE',
                                name=op.f('fk_bid_plan_sections_bid_id_bids')),
        sa.ForeignKeyConstraint(['plan_section_id'], ['plan_sections.id'],
                                name=op.f('fk_bid_plan_sections_plan_section_id_plan_sections')),
        sa.PrimaryKeyConstraint('bid_id', 'plan_section_id', name=op.f('pk_bid_plan_sections')),
    )
    op.create_index(op.f('ix_bid_plan_sections_plan_section_id'), 'bid_plan_sections',
                    ['plan_section_id'])
    # In place, not by rebuilding: other tables refer to funds and awards, so SQLite could
    # not rebuild them; SQLite adds a column with its (named) REFERENCES itself.
    for table in ('funds', 'awards'):
        name = f'fk_{table}_plan_section_id_plan_sections'
        if op.get_context().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE {table} ADD COLUMN plan_section_id INTEGER '
                       f'CONSTRAINT {name} REFERENCES plan_sections (id)')
        else:
            op.add_column(table, sa.Column('plan_section_id', sa.Integer(), nullable=True))
            op.create_foreign_key(name, table, 'plan_sections', ['plan_section_id'], ['id'])
    op.create_index(op.f('ix_awards_plan_section_id'), 'awards', ['plan_section_id'])

def downgrade() -> None:
    op.drop_index(op.f('ix_awards_plan_section_id'), table_name='awards')
    for table in ('awards', 'funds'):
        if op.get_context().dialect.name != 'sqlite':
            op.drop_constraint(f'fk_{table}_plan_section_id_plan_sections', table,
                               type_='foreignkey')
        op.drop_column(table, 'plan_section_id')
    op.drop_index(op.f('ix_bid_plan_sections_plan_section_id'), table_name='bid_plan_sections')
    op.drop_table('bid_plan_sections')
    op.drop_index(op.f('ix_plan_sections_plan_id'), table_name='plan_sections')
    op.drop_table('plan_sections')
    op.drop_table('plans')
