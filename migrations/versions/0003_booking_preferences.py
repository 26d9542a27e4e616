"""Booking preferences (weekdays, part of day, earliest date, technician) on appointments.

Columns are added with plain ALTER TABLE (no table rebuild on SQLite); the CHECK on the
part of day is PostgreSQL-only here, as SQLite cannot add one without a rebuild.

Revision ID: 0003_booking_preferences
Revises: 0002_lifecycle
Create Date: 2026-11-23 13:56:32.502435
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = '0003_booking_preferences'
down_revision: str | None = '0002_lifecycle'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("appointments", sa.Column("pref_weekdays", sa.String(length=7), nullable=False, server_default=""))
    op.add_column("appointments", sa.Column("pref_part_of_day", sa.String(length=10), nullable=False, server_default="any"))
    op.add_column("appointments", sa.Column("pref_earliest", sa.Date(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE appointments ADD COLUMN pref_agent_id INTEGER REFERENCES agents (id)")
    else:
        op.add_column("appointments", sa.Column("pref_agent_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_appointments_pref_agent_id_agents", "appointments", "agents", ["pref_agent_id"], ["id"]
        )
    if op.get_bind().dialect.name == "postgresql":
        op.create_check_constraint(
            "pref_part_of_day_known",
            "appointments",
            "pref_part_of_day IN ('any', 'morning', 'afternoon', 'evening')",
        )


def downgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        if op.get_bind().dialect.name == "postgresql":
            batch_op.drop_constraint(op.f("ck_appointments_pref_part_of_day_known"), type_="check")
            batch_op.drop_constraint("fk_appointments_pref_agent_id_agents", type_="foreignkey")
        batch_op.drop_column("pref_agent_id")
        batch_op.drop_column("pref_earliest")
        batch_op.drop_column("pref_part_of_day")
        batch_op.drop_column("pref_weekdays")
