"""A business-hours calendar: a zone, open intervals per weekday, holidays of its own.

Separate from the organisation's booking holidays: a back office may work when the field
does not, and the other way round. Minutes are local wall-clock minutes of the day; an
interval whose end is not after its start runs past midnight into the next day. The
arithmetic on these rows lives in the pure module `portal/calendars/business.py`.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import Base, UTCDateTime
from portal.timeutil import now_utc


class BusinessCalendar(Base):
    __tablename__ = "business_calendars"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    time_zone: so.Mapped[str] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    hours: so.Mapped[list[BusinessHours]] = so.relationship(
        back_populates="calendar",
        cascade="all, delete-orphan",
        order_by="(BusinessHours.weekday, BusinessHours.start_minute)",
    )
    holidays: so.Mapped[list[BusinessHoliday]] = so.relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="BusinessHoliday.day"
    )


class BusinessHours(Base):
    """One open interval on one weekday (0 = Monday)."""

    __tablename__ = "business_hours"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_known"),
        sa.CheckConstraint("start_minute BETWEEN 0 AND 1439", name="start_in_day"),
        sa.CheckConstraint("end_minute BETWEEN 1 AND 1440", name="end_in_day"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    calendar_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("business_calendars.id", ondelete="CASCADE"), index=True
    )
    weekday: so.Mapped[int]
    start_minute: so.Mapped[int]
    end_minute: so.Mapped[int]

    calendar: so.Mapped[BusinessCalendar] = so.relationship(back_populates="hours")


class BusinessHoliday(Base):
    """Closed local time on one date: the whole day, or part of it (start to end minute)."""

    __tablename__ = "business_holidays"
    __table_args__ = (
        sa.CheckConstraint("start_minute BETWEEN 0 AND 1439", name="start_in_day"),
        sa.CheckConstraint("end_minute BETWEEN 1 AND 1440", name="end_in_day"),
        sa.CheckConstraint("end_minute > start_minute", name="ends_after_start"),
        sa.UniqueConstraint("calendar_id", "day", "start_minute"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    calendar_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("business_calendars.id", ondelete="CASCADE"), index=True
    )
    day: so.Mapped[date] = so.mapped_column(sa.Date)
    start_minute: so.Mapped[int] = so.mapped_column(default=0)
    end_minute: so.Mapped[int] = so.mapped_column(default=1440)
    name: so.Mapped[str] = so.mapped_column(sa.String(80), default="")

    calendar: so.Mapped[BusinessCalendar] = so.relationship(back_populates="holidays")
