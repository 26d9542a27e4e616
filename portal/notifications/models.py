"""The outbox (every message stored before it is sent) and in-portal notifications."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import Base, UTCDateTime
from portal.timeutil import now_utc

OUTBOX_STATES = ("pending", "sent", "failed")
# "email" and "webhook" rows are sent as they are; an "event" row records what happened
# and is expanded into notices and such rows (portal/notifications/events.py), after which
# it is "sent" too.
OUTBOX_CHANNELS = ("email", "webhook", "event")


class OutboxMessage(Base):
    """A message to send, or an event to expand; the scheduler process does it, with
    retries."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {OUTBOX_STATES!r}", name="status_known"),
        sa.CheckConstraint(f"channel IN {OUTBOX_CHANNELS!r}", name="channel_known"),
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(10), default="email")
    recipient: so.Mapped[str] = so.mapped_column(sa.String(500))
    subject: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    body_text: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    body_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    ics: so.Mapped[str | None] = so.mapped_column(sa.Text)
    # Where a reply goes (a case's reply address), when not to the sender.
    reply_to: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    # Set when a message must go out only once whatever retries its cause (a reminder).
    dedupe_key: so.Mapped[str | None] = so.mapped_column(sa.String(120), unique=True)
    subject_type: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    subject_id: so.Mapped[int | None]
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="pending")
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    last_error: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # An e-mail whose body carries a private link (reset, invitation, manage...), found
    # by its content when queued (portal/notifications/private_links.py): once sent or
    # given up, its body is removed and body_removed_at set; the rest of the row stays.
    # A server default, not a Python one, so an INSERT may leave the column out (the
    # upgrade tests write rows with this table into a database from before it).
    holds_secret: so.Mapped[bool] = so.mapped_column(server_default=sa.false())
    body_removed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    @property
    def body_removed(self) -> bool:
        return self.body_removed_at is not None


class Notification(Base):
    """A line in a user's in-portal notification list."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    message: so.Mapped[str] = so.mapped_column(sa.String(300))
    link: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    read_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
