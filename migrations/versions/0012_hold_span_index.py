"""The availability loader reads an agent's holds from one index: (agent_id, starts_at,
ends_at, appointment_id) replaces (agent_id, starts_at), which it covers, so the loader
(and the SQLite overlap triggers, which search on the same two leading columns) never
visit the table. Plain CREATE/DROP INDEX, no table rebuild on SQLite.

Revision ID: 0012_hold_span_index
Revises: 0011_user_sessions
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_hold_span_index"
down_revision: str | None = "0011_user_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_appointment_holds_agent_span",
        "appointment_holds",
        ["agent_id", "starts_at", "ends_at", "appointment_id"],
    )
    op.drop_index("ix_appointment_holds_agent_time", table_name="appointment_holds")


def downgrade() -> None:
    op.create_index(
        "ix_appointment_holds_agent_time", "appointment_holds", ["agent_id", "starts_at"]
    )
    op.drop_index("ix_appointment_holds_agent_span", table_name="appointment_holds")
