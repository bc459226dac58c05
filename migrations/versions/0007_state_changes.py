"""state changes that are all-or-nothing and happen once

One-shot forms' tokens (a second post of the same form shows the first result), a payment
reference used once per award, a repayment's own status (so receiving it is one guarded
write), a round's required assessments before a decision, and a decision's override reason
when it was made without them.

Revision ID: 0007_state_changes
Revises: 0006_list_indexes
Create Date: 2026-11-30 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007_state_changes'
down_revision = '0006_list_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'used_form_tokens',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('posted_to', sa.String(length=500), nullable=False),
        sa.Column('result_url', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_used_form_tokens_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_used_form_tokens')),
    )
    with op.batch_alter_table('used_form_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_form_tokens_user_id'), ['user_id'],
                              unique=False)
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_payments_award_id_reference'),
                                          ['award_id', 'reference'])
    with op.batch_alter_table('repayments', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'status', sa.Enum('awaited', 'received', name='repayment_status',
                              native_enum=False, length=20, create_constraint=True),
            server_default='awaited', nullable=False))
    op.execute("UPDATE repayments SET status = 'received' WHERE received_on IS NOT NULL")
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('required_assessments', sa.Integer(), nullable=True))
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('override_reason', sa.Text(), server_default='',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_column('override_reason')
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('required_assessments')
    with op.batch_alter_table('repayments', schema=None) as batch_op:
        batch_op.drop_column('status')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_payments_award_id_reference'), type_='unique')
    with op.batch_alter_table('used_form_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_form_tokens_user_id'))
    op.drop_table('used_form_tokens')
