"""API rate counters by bucket: a user's tokens share one window ("user:<id>"), and
refused requests count per client address ("addr:<ip>"). The old per-token windows
(short-lived counts, nothing worth keeping) are dropped.

Revision ID: 0008_api_rate_buckets
Revises: 0007_task_agent_latest
Create Date: 2026-11-23 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0008_api_rate_buckets"
down_revision: str | None = "0007_task_agent_latest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_rate_counters",
        sa.Column("bucket", sa.String(length=80), nullable=False),
        sa.Column("window_start", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "window_start", name=op.f("pk_api_rate_counters")),
    )
    op.drop_table("api_rate_windows")


def downgrade() -> None:
    op.create_table(
        "api_rate_windows",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("window_start", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.id"],
            name=op.f("fk_api_rate_windows_token_id_api_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", "window_start", name=op.f("pk_api_rate_windows")),
    )
    op.drop_table("api_rate_counters")
