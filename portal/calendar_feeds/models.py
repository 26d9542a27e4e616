"""The random key behind a user's calendar feed URL."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import Base, UTCDateTime
from portal.timeutil import now_utc


class CalendarFeed(Base):
    """One per user at most. The URL carries `key` signed with the app's secret key, so
    the key alone (say, from a database dump) does not open the feed; resetting draws a
    new key, and the old URL stops working."""

    __tablename__ = "calendar_feeds"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    key: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
