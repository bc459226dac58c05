"""forms as data: each round's application form and each fund's return form (issue 15)

Revision ID: 0012_forms
Revises: 0011_agreements
Create Date: 2026-11-30 22:50:24

Every round of a fund open to bids gets version 1 of its application form: the questions every
bid asked until now (the snapshot in ``0012_forms.json``, a youth fund's with its young people
and safeguarding section), and every bid of it is answered on that version. The answers stay
where they are, in ``bid_sections``, under the same names, so every bid keeps every answer.
Criteria gain the sections they score; returns, the answers to their fund's own questions.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

import portal.db

revision = '0012_forms'
down_revision = '0011_agreements'
branch_labels = None
depends_on = None

STANDARD = json.loads((Path(__file__).parent / "0012_forms.json").read_text("utf-8"))


def upgrade() -> None:
    op.create_table('form_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('application', 'return', name='form_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('fund_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('in_use', sa.Boolean(), nullable=False),
    sa.Column('published_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(round_id IS NULL) <> (fund_id IS NULL)', name=op.f('ck_form_versions_one_owner')),
    sa.CheckConstraint('number >= 1', name=op.f('ck_form_versions_number_positive')),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_form_versions_fund_id_funds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_form_versions_round_id_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_form_versions_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_versions')),
    sa.UniqueConstraint('fund_id', 'number', name=op.f('uq_form_versions_fund_id_number')),
    sa.UniqueConstraint('round_id', 'number', name=op.f('uq_form_versions_round_id_number'))
    )
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_versions_fund_id'), ['fund_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_form_versions_round_id'), ['round_id'], unique=False)

    # Added in place: SQLite cannot rebuild ``bids`` or ``grant_returns`` (other tables refer to
    # them), so there the reference is written into the column itself.
    _add_reference('bids', 'fk_bids_form_version_id_form_versions')
    op.create_index(op.f('ix_bids_form_version_id'), 'bids', ['form_version_id'], unique=False)
    _add_reference('grant_returns', 'fk_grant_returns_form_version_id_form_versions')
    op.add_column('grant_returns', sa.Column('answers', sa.JSON(), server_default='{}', nullable=False))
    op.add_column('criteria', sa.Column('sections', sa.JSON(), server_default='[]', nullable=False))
    _first_versions()


def _add_reference(table: str, name: str) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.add_column(table, sa.Column('form_version_id', sa.Integer(),
                                       sa.ForeignKey('form_versions.id', name=name),
                                       nullable=True), inline_references=True)
    else:
        op.add_column(table, sa.Column('form_version_id', sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, 'form_versions', ['form_version_id'], ['id'])


def _first_versions() -> None:
    """Version 1 of every round's form (its fund's kind), in use if it has bids; every bid on
    it."""
    bind = op.get_bind()
    versions = sa.table('form_versions', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                        sa.column('round_id', sa.Integer), sa.column('number', sa.Integer),
                        sa.column('definition', sa.JSON), sa.column('revision', sa.Integer),
                        sa.column('in_use', sa.Boolean),
                        sa.column('published_at', portal.db.UTCDateTime(timezone=True)),
                        sa.column('created_at', portal.db.UTCDateTime(timezone=True)),
                        sa.column('updated_at', portal.db.UTCDateTime(timezone=True)))
    now = datetime.now(UTC)
    rounds = bind.execute(sa.text(
        "SELECT rounds.id, funds.is_youth FROM rounds JOIN funds ON funds.id = rounds.fund_id "
        "WHERE NOT funds.direct ORDER BY rounds.id")).all()
    for round_id, youth in rounds:
        used = bind.execute(sa.text("SELECT COUNT(*) FROM bids WHERE round_id = :r"),
                            {"r": round_id}).scalar_one()
        bind.execute(versions.insert().values(
            kind='application', round_id=round_id, number=1,
            definition=STANDARD['youth_application' if youth else 'application'], revision=1,
            in_use=bool(used), published_at=now, created_at=now, updated_at=now))
        version_id = bind.execute(sa.text(
            "SELECT id FROM form_versions WHERE round_id = :r AND number = 1"),
            {"r": round_id}).scalar_one()
        bind.execute(sa.text("UPDATE bids SET form_version_id = :v WHERE round_id = :r"),
                     {"v": version_id, "r": round_id})


def downgrade() -> None:
    op.drop_column('criteria', 'sections')
    op.drop_column('grant_returns', 'answers')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('fk_grant_returns_form_version_id_form_versions', 'grant_returns', type_='foreignkey')
        op.drop_constraint('fk_bids_form_version_id_form_versions', 'bids', type_='foreignkey')
    op.drop_column('grant_returns', 'form_version_id')
    op.drop_index(op.f('ix_bids_form_version_id'), table_name='bids')
    op.drop_column('bids', 'form_version_id')
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_versions_round_id'))
        batch_op.drop_index(batch_op.f('ix_form_versions_fund_id'))
    op.drop_table('form_versions')
