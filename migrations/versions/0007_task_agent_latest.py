"""The agent's latest task in one index descent: (agent_id, id) replaces the index on
agent_id alone, which it covers. Plain CREATE/DROP INDEX, no table rebuild on SQLite.

Revision ID: 0007_task_agent_latest
Revises: 0006_webhooks_calendar
Create Date: 2026-11-23 16:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_task_agent_latest"
down_revision: str | None = "0006_webhooks_calendar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_work_order_tasks_agent_latest", "work_order_tasks", ["agent_id", "id"])
    op.drop_index("ix_work_order_tasks_agent_id", table_name="work_order_tasks")


def downgrade() -> None:
    op.create_index("ix_work_order_tasks_agent_id", "work_order_tasks", ["agent_id"])
    op.drop_index("ix_work_order_tasks_agent_latest", table_name="work_order_tasks")
