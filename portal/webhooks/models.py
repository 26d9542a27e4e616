"""Webhook endpoints and the log of every attempt to deliver to them.

A delivery itself is an OutboxMessage with channel "webhook" (subject_type
"webhook_endpoint", subject_id the endpoint): one outbox, one sender, one retry policy
for e-mails and webhooks alike. WebhookAttempt keeps what each try got back.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import Base, UTCDateTime
from portal.timeutil import now_utc

if TYPE_CHECKING:  # only for annotations; the mapper resolves names at runtime
    from portal.accounts.models import User

# The events a manager may subscribe to, with the words the settings page shows.
WEBHOOK_EVENTS = {
    "appointment.booked": "Appointment booked",
    "appointment.rescheduled": "Appointment rescheduled",
    "appointment.cancelled": "Appointment cancelled",
    "appointment.confirmed": "Appointment confirmed by the customer",
    "appointment.completed": "Appointment completed by the technician",
    "work_order.closed": "Work order closed (the customer signed off)",
    "case.created": "Case opened",
    "case.closed": "Case closed",
    "milestone.warning": "SLA milestone close to its target (warning)",
    "milestone.violated": "SLA milestone missed its target (violated)",
    "import.applied": "Import applied (a file such as the account feed)",
    "order.approved": "Order approved (its work orders made)",
    "order.ready_to_close": "Order ready to close (all its work orders are final)",
    "order.closed": "Order closed",
}
# Sent only by the "Send a test ping" button, whatever the endpoint subscribes to.
PING_EVENT = "ping"
OUTBOX_SUBJECT = "webhook_endpoint"


class WebhookEndpoint(Base):
    """A URL that hears of the events it subscribes to, while active."""

    __tablename__ = "webhook_endpoints"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    url: so.Mapped[str] = so.mapped_column(sa.String(500))
    description: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    # Kept as is, not hashed: every delivery is signed with it (HMAC-SHA256).
    secret: so.Mapped[str] = so.mapped_column(sa.String(80))
    events: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    secret_rotated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    created_by: so.Mapped[User | None] = so.relationship()

    @property
    def secret_hint(self) -> str:
        """The first characters of the secret, so a manager can tell which one is in use."""
        return self.secret[:10]

    def subscribes_to(self, event: str) -> bool:
        return event in (self.events or ())


class WebhookAttempt(Base):
    """One try at delivering an outbox message to an endpoint, and what came back."""

    __tablename__ = "webhook_attempts"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    message_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    attempted_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    # None when no HTTP answer came (refused address, timeout, connection error).
    status_code: so.Mapped[int | None]
    response_excerpt: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    error: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    duration_ms: so.Mapped[int] = so.mapped_column(default=0)

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
