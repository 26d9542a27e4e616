"""Sessions kept on the server (user_sessions), the known device a failed log-in came
from (login_attempts.device) and the instant a new password ended a user's manage links
(users.links_revoked_at).

Browsers logged in before this migration hold no session row: they are logged out once
and log in again. Manage links sent before it keep working until the next new password.

Revision ID: 0011_user_sessions
Revises: 0010_invitation_count
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0011_user_sessions"
down_revision: str | None = "0010_invitation_count"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("remember_hash", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=400), nullable=False),
        sa.Column("remember_until", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("remember_hash", name=op.f("uq_user_sessions_remember_hash")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])
    op.add_column("login_attempts", sa.Column("device", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_login_attempts_device"), "login_attempts", ["device"])
    op.add_column(
        "users",
        sa.Column("links_revoked_at", portal.db.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), as in 0010: a batch rebuild of users would have
    # to drop a table that every other table points at.
    op.drop_column("users", "links_revoked_at")
    op.drop_index(op.f("ix_login_attempts_device"), table_name="login_attempts")
    op.drop_column("login_attempts", "device")
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
