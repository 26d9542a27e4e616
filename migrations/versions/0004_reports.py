"""Report runs and subscriptions; the appointment's confirmation expiry.

Revision ID: 0004_reports
Revises: 0003_booking_preferences
Create Date: 2026-11-23 15:42:22.989502
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = '0004_reports'
down_revision: str | None = '0003_booking_preferences'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('report_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('operations', 'utilisation', 'signoffs')", name=op.f('ck_report_subscriptions_kind_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_report_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_subscriptions')),
    sa.UniqueConstraint('user_id', 'kind', name='uq_report_subscriptions_user_kind')
    )
    op.create_table('report_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('fmt', sa.String(length=4), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('file_name', sa.String(length=120), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.CheckConstraint("fmt IN ('pdf', 'csv')", name=op.f('ck_report_runs_fmt_known')),
    sa.CheckConstraint("kind IN ('operations', 'utilisation', 'signoffs')", name=op.f('ck_report_runs_kind_known')),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_report_runs_status_known')),
    sa.CheckConstraint('date_from <= date_to', name=op.f('ck_report_runs_range_ordered')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_report_runs_progress_percent')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_report_runs_agent_id_agents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_report_runs_requested_by_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_report_runs_service_id_services'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_runs'))
    )
    with op.batch_alter_table('report_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_runs_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index('ix_report_runs_status_created', ['status', 'created_at'], unique=False)

    # A plain ALTER TABLE (no table rebuild on SQLite).
    op.add_column('appointments', sa.Column('confirm_expired_at', portal.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_column('confirm_expired_at')

    with op.batch_alter_table('report_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_report_runs_status_created')
        batch_op.drop_index(batch_op.f('ix_report_runs_requested_by_id'))

    op.drop_table('report_runs')
    op.drop_table('report_subscriptions')
