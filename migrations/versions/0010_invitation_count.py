"""users.invitation_count: the number of invitations sent to a user, carried in each
invitation link's fingerprint, so a new invitation makes the earlier links stop working.
Links sent before this migration (count 0) keep working until the next one is sent.

Revision ID: 0010_invitation_count
Revises: 0009_event_outbox
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_invitation_count"
down_revision: str | None = "0009_event_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("invitation_count", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch rebuild of users would have to drop a
    # table that every other table points at.
    op.drop_column("users", "invitation_count")
