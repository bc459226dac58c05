"""indexes for the busiest lists at national scale

Each list page reads one page of rows in the order an index keeps, instead of sorting
every matching row: a partnership's bids by last change, finance's queue of submitted
returns, returns and repayments still awaited, an assessor's queue, and the public register's
approved decisions. Three single-column indexes are dropped: the new ones begin with their column.

Revision ID: 0006_list_indexes
Revises: 0005_audit_chain
Create Date: 2026-11-23 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006_list_indexes'
down_revision = '0005_audit_chain'
branch_labels = None
depends_on = None


def _partial(where: str) -> dict:
    return {"postgresql_where": sa.text(where), "sqlite_where": sa.text(where)}


def upgrade() -> None:
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.drop_index('ix_bids_organisation_id')
        batch_op.create_index('ix_bids_organisation_updated',
                              ['organisation_id', 'updated_at', 'id'], unique=False)
    with op.batch_alter_table('grant_returns', schema=None) as batch_op:
        batch_op.drop_index('ix_grant_returns_status')
        batch_op.create_index('ix_grant_returns_status_submitted',
                              ['status', 'submitted_at', 'id'], unique=False)
        batch_op.create_index('ix_grant_returns_awaited', ['due_date', 'id'], unique=False,
                              **_partial("status IN ('due', 'draft', 'queried')"))
    with op.batch_alter_table('repayments', schema=None) as batch_op:
        batch_op.create_index('ix_repayments_awaited', ['requested_at', 'id'], unique=False,
                              **_partial("received_on IS NULL"))
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_decisions_published', ['decision_date', 'id'], unique=False,
                              **_partial("outcome = 'approved'"))
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_assessor_id')
        batch_op.create_index('ix_assignments_queue',
                              ['assessor_id', 'status', 'assigned_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_queue')
        batch_op.create_index('ix_assignments_assessor_id', ['assessor_id'], unique=False)
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_decisions_published')
    with op.batch_alter_table('repayments', schema=None) as batch_op:
        batch_op.drop_index('ix_repayments_awaited')
    with op.batch_alter_table('grant_returns', schema=None) as batch_op:
        batch_op.drop_index('ix_grant_returns_awaited')
        batch_op.drop_index('ix_grant_returns_status_submitted')
        batch_op.create_index('ix_grant_returns_status', ['status'], unique=False)
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.drop_index('ix_bids_organisation_updated')
        batch_op.create_index('ix_bids_organisation_id', ['organisation_id'], unique=False)
