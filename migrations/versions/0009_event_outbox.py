"""Events in the outbox: a transaction writes what happened as one row of channel 'event',
and the scheduler process expands it into notices, e-mails and webhook deliveries.

On PostgreSQL each event row wakes the scheduler when its transaction commits (a trigger
sends NOTIFY portal_wake, 'expand-events'; nothing is sent for a transaction that rolls
back). SQLite has no NOTIFY: the scheduler looks for pending events every second.

Downgrading deletes the event rows: the old code would neither expand nor accept them.

Revision ID: 0009_event_outbox
Revises: 0008_api_rate_buckets
Create Date: 2026-12-05 08:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_event_outbox"
down_revision: str | None = "0008_api_rate_buckets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_CHANNELS = "channel IN ('email', 'webhook')"
NEW_CHANNELS = "channel IN ('email', 'webhook', 'event')"


def _channels(check: str) -> None:
    # A table rebuild on SQLite (which reflects the other CHECK constraints and keeps them).
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_channel_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_messages_channel_known"), check)


def upgrade() -> None:
    _channels(NEW_CHANNELS)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION portal_wake_expander() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('portal_wake', 'expand-events');
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER outbox_messages_wake_expander AFTER INSERT ON outbox_messages "
            "FOR EACH ROW WHEN (NEW.channel = 'event') EXECUTE FUNCTION portal_wake_expander()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER outbox_messages_wake_expander ON outbox_messages")
        op.execute("DROP FUNCTION portal_wake_expander()")
    op.execute("DELETE FROM outbox_messages WHERE channel = 'event'")
    _channels(OLD_CHANNELS)
