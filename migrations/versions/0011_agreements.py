"""grant agreements: direct awards, several financial years, action plans (issue 14)

Revision ID: 0011_agreements
Revises: 0010_dates
Create Date: 2026-11-30 19:39:18

Every round gets one budget row per financial year it funds (its one year, for the rounds
there are), every budget line, approved line and payment plan its amounts by year (all in the
round's year), and variations may now carry money forward from one year to a later one.
"""

import sqlalchemy as sa
from alembic import op

import portal.db  # noqa: F401

revision = '0011_agreements'
down_revision = '0010_dates'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('round_years',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('financial_year', sa.Integer(), nullable=False),
    sa.Column('budget_pence', sa.BigInteger(), nullable=False),
    sa.Column('committed_pence', sa.BigInteger(), nullable=False),
    sa.Column('cap_pence', sa.BigInteger(), nullable=True),
    sa.CheckConstraint('budget_pence >= 0', name=op.f('ck_round_years_budget_not_negative')),
    sa.CheckConstraint('cap_pence IS NULL OR cap_pence > 0', name=op.f('ck_round_years_cap_positive')),
    sa.CheckConstraint('committed_pence >= 0 AND committed_pence <= budget_pence', name=op.f('ck_round_years_committed_within_budget')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_years_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'financial_year', name=op.f('pk_round_years'))
    )
    op.create_table('award_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('lead', sa.String(length=200), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_award_actions_award_id_awards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_actions')),
    sa.UniqueConstraint('award_id', 'number', name=op.f('uq_award_actions_award_id_number')),
    sa.UniqueConstraint('award_id', 'position', name=op.f('uq_award_actions_award_id_position'))
    )
    with op.batch_alter_table('award_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_actions_award_id'), ['award_id'], unique=False)

    op.create_table('return_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('rag', sa.Enum('green', 'amber', 'red', 'closed', name='return_action_rag', native_enum=False, create_constraint=True, length=40), nullable=True),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['award_actions.id'], name=op.f('fk_return_actions_action_id_award_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['return_id'], ['grant_returns.id'], name=op.f('fk_return_actions_return_id_grant_returns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_actions')),
    sa.UniqueConstraint('return_id', 'action_id', name=op.f('uq_return_actions_return_id_action_id'))
    )
    with op.batch_alter_table('return_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_actions_action_id'), ['action_id'], unique=False)

    # Added NOT NULL with a default (SQLite then adds them in place: the tables that other
    # tables refer to are not rebuilt), then filled.
    with op.batch_alter_table('award_lines', schema=None) as batch_op:
        batch_op.add_column(_json('original_years', '{}'))
        batch_op.add_column(_json('revised_years', '{}'))
        batch_op.add_column(_json('action_numbers', '[]'))
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.add_column(_json('payment_plan', '{}'))
    with op.batch_alter_table('budget_lines', schema=None) as batch_op:
        batch_op.add_column(_json('year_amounts', '{}'))
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('direct', sa.Boolean(), server_default='0', nullable=False))
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('years', sa.Integer(), server_default='1', nullable=False))

    _fill_years()

    with op.batch_alter_table('variations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_variations_variation_kind'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_variations_variation_kind'),
            "kind IN ('reallocation', 'extension', 'carry_forward')")


def _json(name: str, default: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.JSON(), server_default=default, nullable=False)


def _fill_years() -> None:
    """What was there is all in its round's one financial year."""
    bind = op.get_bind()
    rounds = bind.execute(sa.text(
        'SELECT id, financial_year, budget_pence, committed_pence FROM rounds')).all()
    for round_id, year, budget, committed in rounds:
        bind.execute(sa.text(
            'INSERT INTO round_years (round_id, financial_year, budget_pence, committed_pence) '
            'VALUES (:r, :y, :b, :c)'), {"r": round_id, "y": year, "b": budget, "c": committed})
    lines = bind.execute(sa.text(
        'SELECT budget_lines.id, budget_lines.amount_pence, rounds.financial_year '
        'FROM budget_lines JOIN bids ON bids.id = budget_lines.bid_id '
        'JOIN rounds ON rounds.id = bids.round_id')).all()
    for line_id, amount, year in lines:
        bind.execute(_json_text('UPDATE budget_lines SET year_amounts = :a WHERE id = :i', "a"),
                     {"a": {str(year): amount}, "i": line_id})
    award_lines = bind.execute(sa.text(
        'SELECT award_lines.id, award_lines.original_pence, award_lines.revised_pence, '
        'rounds.financial_year FROM award_lines JOIN awards ON awards.id = award_lines.award_id '
        'JOIN rounds ON rounds.id = awards.round_id')).all()
    for line_id, original, revised, year in award_lines:
        bind.execute(_json_text('UPDATE award_lines SET original_years = :o, revised_years = :r, '
                                'action_numbers = :n WHERE id = :i', "o", "r", "n"),
                     {"o": {str(year): original}, "r": {str(year): revised}, "n": [],
                      "i": line_id})
    awards = bind.execute(sa.text(
        'SELECT awards.id, awards.amount_pence, rounds.financial_year FROM awards '
        'JOIN rounds ON rounds.id = awards.round_id')).all()
    for award_id, amount, year in awards:
        bind.execute(_json_text('UPDATE awards SET payment_plan = :p WHERE id = :i', "p"),
                     {"p": {str(year): amount}, "i": award_id})


def _json_text(statement: str, *names: str) -> sa.TextClause:
    """A statement whose ``names`` are bound as JSON (each database's own encoding)."""
    return sa.text(statement).bindparams(*(sa.bindparam(name, type_=sa.JSON) for name in names))


# ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later) leaves in place the tables other
# tables refer to, which a batch rebuild could not drop while foreign keys are on.
def downgrade() -> None:
    op.execute("DELETE FROM variations WHERE kind = 'carry_forward'")
    with op.batch_alter_table('variations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_variations_variation_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_variations_variation_kind'),
                                         "kind IN ('reallocation', 'extension')")
    op.drop_column('rounds', 'years')
    op.drop_column('funds', 'direct')
    op.drop_column('budget_lines', 'year_amounts')
    op.drop_column('awards', 'payment_plan')
    op.drop_column('award_lines', 'action_numbers')
    op.drop_column('award_lines', 'revised_years')
    op.drop_column('award_lines', 'original_years')
    with op.batch_alter_table('return_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_actions_action_id'))

    op.drop_table('return_actions')
    with op.batch_alter_table('award_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_actions_award_id'))

    op.drop_table('award_actions')
    op.drop_table('round_years')
