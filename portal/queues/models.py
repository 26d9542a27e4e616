"""A queue is where work waits for a team: tasks assigned to it, taken by a member."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.calendars.models import BusinessCalendar
from portal.db import Base, UTCDateTime
from portal.timeutil import now_utc

if TYPE_CHECKING:
    from portal.accounts.models import User

# The queue the booking core hands appointments to (a decline nobody can take, a customer
# who declined, a no-show): its members are the schedulers.
SCHEDULING = "scheduling"


class Queue(Base):
    __tablename__ = "queues"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    lead_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    calendar_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("business_calendars.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    lead: so.Mapped[User | None] = so.relationship()
    calendar: so.Mapped[BusinessCalendar | None] = so.relationship()
    members: so.Mapped[list[QueueMember]] = so.relationship(
        back_populates="queue", cascade="all, delete-orphan"
    )


class QueueMember(Base):
    __tablename__ = "queue_members"

    queue_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    queue: so.Mapped[Queue] = so.relationship(back_populates="members")
    user: so.Mapped[User] = so.relationship()
