"""What can be booked and what a booking holds.

The customer is promised an arrival window; behind it the appointment holds a planned
interval for each of its agents (start inside the window, the job's duration, plus the
travel buffer). Those holds, one row per agent, are what the database guards against
overlap: an exclusion constraint on PostgreSQL, a trigger on SQLite (see the migration).
A hold exists exactly while the appointment keeps its agents busy; cancelling or
releasing an appointment deletes its holds.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects.postgresql import ExcludeConstraint

from portal.booking.states import OPEN_STATES
from portal.db import Base, UTCDateTime
from portal.timeutil import now_utc

if TYPE_CHECKING:  # only for annotations; the mapper resolves names at runtime
    from portal.accounts.models import Contact, CustomerAccount, ServiceLocation
    from portal.workforce.models import Agent, Skill
    from portal.workorders.models import WorkOrder

APPOINTMENT_STATES = (
    "requested",
    "accepted",
    "confirmed",
    "in_progress",
    "completed",
    "signed_off",
    "declined_by_customer",
    "needs_reschedule",
    "no_show",
    "cancelled",
)


class Service(Base):
    """A kind of job a customer can book: how long, who can do it, how many go."""

    __tablename__ = "services"
    __table_args__ = (
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
        sa.CheckConstraint("buffer_minutes >= 0", name="buffer_not_negative"),
        sa.CheckConstraint("agents_needed >= 1", name="needs_an_agent"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    duration_minutes: so.Mapped[int]
    buffer_minutes: so.Mapped[int] = so.mapped_column(default=0)
    agents_needed: so.Mapped[int] = so.mapped_column(default=1)
    required_skill_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("skills.id"))
    active: so.Mapped[bool] = so.mapped_column(default=True)

    required_skill: so.Mapped[Skill | None] = so.relationship()


class BookingPolicy(Base):
    """The organisation's booking rules; a single row (id 1)."""

    __tablename__ = "booking_policy"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint("window_minutes >= 0 AND step_minutes >= 0", name="grid_not_negative"),
        sa.CheckConstraint("window_minutes > 0 OR step_minutes > 0", name="grid_has_step"),
        sa.CheckConstraint("min_notice_minutes >= 0", name="notice_not_negative"),
        sa.CheckConstraint("horizon_days BETWEEN 1 AND 366", name="horizon_range"),
        sa.CheckConstraint("reschedule_cutoff_hours >= 0", name="cutoff_not_negative"),
        sa.CheckConstraint("max_self_reschedules >= 0", name="limit_not_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True, default=1)
    window_minutes: so.Mapped[int] = so.mapped_column(default=120)
    step_minutes: so.Mapped[int] = so.mapped_column(default=0)
    min_notice_minutes: so.Mapped[int] = so.mapped_column(default=24 * 60)
    horizon_days: so.Mapped[int] = so.mapped_column(default=28)
    reschedule_cutoff_hours: so.Mapped[int] = so.mapped_column(default=24)
    max_self_reschedules: so.Mapped[int] = so.mapped_column(default=2)


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {APPOINTMENT_STATES!r}", name="status_known"),
        sa.CheckConstraint("window_end >= window_start", name="window_ordered"),
        sa.CheckConstraint("planned_end > planned_start", name="planned_ordered"),
        sa.CheckConstraint(
            "pref_part_of_day IN ('any', 'morning', 'afternoon', 'evening')",
            name="pref_part_of_day_known",
        ),
        sa.UniqueConstraint("account_id", "idempotency_key", name="uq_appointments_idempotency"),
        sa.Index("ix_appointments_window_start", "window_start"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    work_order_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    service_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("services.id"))
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer_accounts.id"), index=True)
    contact_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contacts.id"))
    location_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("service_locations.id"))
    status: so.Mapped[str] = so.mapped_column(sa.String(24), default="requested", index=True)
    window_start: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    window_end: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    planned_start: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    planned_end: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    idempotency_key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    confirm_deadline: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Set by the scheduler process when a confirmation request went unanswered past its
    # deadline: self-service is locked and the schedulers were alerted (once).
    confirm_expired_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    self_reschedules: so.Mapped[int] = so.mapped_column(default=0)
    # iCalendar SEQUENCE: grows on every change so calendar clients update the event.
    sequence: so.Mapped[int] = so.mapped_column(default=0)
    cancel_reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # What the customer said suits it, used to rank windows when it has to move:
    # weekdays as digits 0 (Monday) to 6, e.g. "13"; part of day; earliest date; agent.
    pref_weekdays: so.Mapped[str] = so.mapped_column(sa.String(7), default="")
    pref_part_of_day: so.Mapped[str] = so.mapped_column(sa.String(10), default="any")
    pref_earliest: so.Mapped[date | None] = so.mapped_column(sa.Date)
    pref_agent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("agents.id"))
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )

    work_order: so.Mapped[WorkOrder] = so.relationship(back_populates="appointments")
    service: so.Mapped[Service] = so.relationship()
    account: so.Mapped[CustomerAccount] = so.relationship()
    contact: so.Mapped[Contact] = so.relationship()
    location: so.Mapped[ServiceLocation] = so.relationship()
    holds: so.Mapped[list[AppointmentHold]] = so.relationship(
        back_populates="appointment", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def number(self) -> str:
        return f"SA-{self.id:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES


class SignOff(Base):
    """The customer's digital confirmation that the work was done."""

    __tablename__ = "sign_offs"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    appointment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("appointments.id", ondelete="CASCADE"), unique=True
    )
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    full_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    consent: so.Mapped[bool]
    signed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    remote_addr: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    user_agent: so.Mapped[str] = so.mapped_column(sa.String(400), default="")
    # A drawn signature as PNG bytes, when the customer drew one.
    signature_png: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary)

    __table_args__ = (sa.CheckConstraint("consent", name="consent_given"),)


class AppointmentHold(Base):
    """One agent held by one appointment for [starts_at, ends_at), travel buffer included."""

    __tablename__ = "appointment_holds"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.UniqueConstraint("appointment_id", "agent_id", name="uq_appointment_holds_agent"),
        # Covers the availability loader's read: an agent's holds by start, never the table.
        sa.Index(
            "ix_appointment_holds_agent_span", "agent_id", "starts_at", "ends_at", "appointment_id"
        ),
        sa.Index("ix_appointment_holds_starts_at", "starts_at"),
        # The availability loader and the SQLite triggers rely on this bound.
        sa.CheckConstraint("ends_at - starts_at <= interval '1 day'", name="at_most_a_day").ddl_if(
            dialect="postgresql"
        ),
        ExcludeConstraint(
            ("agent_id", "="),
            (sa.func.tstzrange(sa.text("starts_at"), sa.text("ends_at"), "[)"), "&&"),
            name="appointment_holds_no_overlap",
            using="gist",
        ).ddl_if(dialect="postgresql"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    appointment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("appointments.id", ondelete="CASCADE")
    )
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agents.id"))
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    appointment: so.Mapped[Appointment] = so.relationship(back_populates="holds")
    agent: so.Mapped[Agent] = so.relationship()


# SQLite has no exclusion constraints. Its single writer (every transaction here starts
# with BEGIN IMMEDIATE) makes a trigger that looks for an overlapping hold race-free.
# A hold lasts at most a day, so the lookup only scans the agent's holds that start in
# the day before: the cost of a booking does not grow with the agent's history.
# The migration creates the same triggers; these serve metadata.create_all.
SQLITE_OVERLAP_TRIGGERS = (
    """
    CREATE TRIGGER appointment_holds_no_overlap_insert
    BEFORE INSERT ON appointment_holds
    FOR EACH ROW WHEN EXISTS (
        SELECT 1 FROM appointment_holds AS h
        WHERE h.agent_id = NEW.agent_id
          AND h.starts_at >= strftime('%Y-%m-%d %H:%M:%f', NEW.starts_at, '-1 day')
          AND h.starts_at < NEW.ends_at AND NEW.starts_at < h.ends_at
    )
    BEGIN SELECT RAISE(ABORT, 'appointment_holds_no_overlap'); END
    """,
    """
    CREATE TRIGGER appointment_holds_no_overlap_update
    BEFORE UPDATE OF agent_id, starts_at, ends_at ON appointment_holds
    FOR EACH ROW WHEN EXISTS (
        SELECT 1 FROM appointment_holds AS h
        WHERE h.agent_id = NEW.agent_id AND h.id <> NEW.id
          AND h.starts_at >= strftime('%Y-%m-%d %H:%M:%f', NEW.starts_at, '-1 day')
          AND h.starts_at < NEW.ends_at AND NEW.starts_at < h.ends_at
    )
    BEGIN SELECT RAISE(ABORT, 'appointment_holds_no_overlap'); END
    """,
    """
    CREATE TRIGGER appointment_holds_at_most_a_day_insert
    BEFORE INSERT ON appointment_holds
    FOR EACH ROW WHEN julianday(NEW.ends_at) - julianday(NEW.starts_at) > 1
    BEGIN SELECT RAISE(ABORT, 'appointment_holds_at_most_a_day'); END
    """,
    """
    CREATE TRIGGER appointment_holds_at_most_a_day_update
    BEFORE UPDATE OF starts_at, ends_at ON appointment_holds
    FOR EACH ROW WHEN julianday(NEW.ends_at) - julianday(NEW.starts_at) > 1
    BEGIN SELECT RAISE(ABORT, 'appointment_holds_at_most_a_day'); END
    """,
)
OVERLAP_CONSTRAINT = "appointment_holds_no_overlap"

for _ddl in SQLITE_OVERLAP_TRIGGERS:
    sa.event.listen(
        AppointmentHold.__table__, "after_create", sa.DDL(_ddl).execute_if(dialect="sqlite")
    )
sa.event.listen(
    AppointmentHold.__table__,
    "before_create",
    sa.DDL("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(dialect="postgresql"),
)


class VisitLink(Base):
    """A signed, single-use link that lets a site contact book the field visit of an
    existing work order (an order's) without logging in (portal/booking/visit_links.py).
    The URL carries a random token; only its SHA-256 is kept here. Used once: `used_at`
    is set by a conditional UPDATE in the booking's transaction."""

    __tablename__ = "visit_links"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    work_order_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    contact_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    service_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("services.id"))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The appointment it booked; a new link for the same work order ends older ones.
    appointment_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("appointments.id", ondelete="SET NULL")
    )
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
