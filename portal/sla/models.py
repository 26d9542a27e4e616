"""Entitlement processes, their milestone definitions and actions; each case's (or
back-office work order's) milestones with the append-only log their state comes from.

A milestone's `state`, `due_at`, `warn_at`, `used_seconds` and `next_check_at` are a cache
of `portal/sla/clock.py derive(events)`: rewritten after every event and by the scheduler's
evaluation pass, which finds the milestones whose state may change by time alone with one
indexed query on `next_check_at`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.calendars.models import BusinessCalendar
from portal.cases import models as _cases  # noqa: F401  (cases, case_types: foreign keys)
from portal.db import Base, UTCDateTime
from portal.timeutil import now_utc

APPLIES_TO = ("case", "work_order")
MILESTONE_KINDS = ("first_response", "resolution")
MILESTONE_STATES = ("pending", "warning", "violated", "completed_on_time", "completed_late")
EVENT_KINDS = ("start", "pause", "resume", "complete", "target")
TRIGGERS = ("warning", "violation", "success")
ACTIONS = (
    "notify_owner",  # the case's owner (a user, or the owning queue's members)
    "notify_lead",  # the lead of the owning queue (the work order's queue)
    "notify_managers",
    "set_priority",  # value: the new priority
    "set_status",  # value: the new status name
    "email_contact",  # the case's contact, an e-mail
)


class EntitlementProcess(Base):
    """Which milestones a case (or a back-office work order) runs under. The first active
    process by `rank` whose conditions all hold (a None condition holds for any) applies."""

    __tablename__ = "entitlement_processes"
    __table_args__ = (sa.CheckConstraint(f"applies_to IN {APPLIES_TO!r}", name="applies_known"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    applies_to: so.Mapped[str] = so.mapped_column(sa.String(20), default="case")
    rank: so.Mapped[int] = so.mapped_column(default=100)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # The business hours the clocks count; for work orders, None means the queue's calendar.
    calendar_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("business_calendars.id", ondelete="SET NULL")
    )
    # Conditions (None: any).
    case_type_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("case_types.id", ondelete="CASCADE")
    )
    priority: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    account_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("customer_accounts.id", ondelete="CASCADE")
    )
    queue_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("queues.id", ondelete="CASCADE")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    calendar: so.Mapped[BusinessCalendar | None] = so.relationship()
    definitions: so.Mapped[list[MilestoneDefinition]] = so.relationship(
        back_populates="process", cascade="all, delete-orphan", order_by="MilestoneDefinition.id"
    )


class MilestoneDefinition(Base):
    """A milestone of a process: its target in business minutes for each priority."""

    __tablename__ = "milestone_definitions"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {MILESTONE_KINDS!r}", name="kind_known"),
        sa.CheckConstraint(
            "target_low > 0 AND target_medium > 0 AND target_high > 0 AND target_urgent > 0",
            name="targets_positive",
        ),
        sa.CheckConstraint("warn_percent BETWEEN 1 AND 99", name="warn_percent_range"),
        sa.UniqueConstraint("process_id", "kind"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    process_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("entitlement_processes.id", ondelete="CASCADE")
    )
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    target_low: so.Mapped[int]
    target_medium: so.Mapped[int]
    target_high: so.Mapped[int]
    target_urgent: so.Mapped[int]
    warn_percent: so.Mapped[int] = so.mapped_column(default=75)

    process: so.Mapped[EntitlementProcess] = so.relationship(back_populates="definitions")
    actions: so.Mapped[list[MilestoneAction]] = so.relationship(
        back_populates="definition", cascade="all, delete-orphan", order_by="MilestoneAction.id"
    )

    def target_for(self, priority: str) -> int:
        return getattr(self, f"target_{priority}")


class MilestoneAction(Base):
    """What runs, once, when a milestone warns, is violated or succeeds."""

    __tablename__ = "milestone_actions"
    __table_args__ = (
        sa.CheckConstraint(f"trigger IN {TRIGGERS!r}", name="trigger_known"),
        sa.CheckConstraint(f"action IN {ACTIONS!r}", name="action_known"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    definition_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("milestone_definitions.id", ondelete="CASCADE"), index=True
    )
    trigger: so.Mapped[str] = so.mapped_column(sa.String(10))
    action: so.Mapped[str] = so.mapped_column(sa.String(20))
    value: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    # Runs at once even outside the recipient's business hours (default: waits for them).
    outside_hours: so.Mapped[bool] = so.mapped_column(default=False)

    definition: so.Mapped[MilestoneDefinition] = so.relationship(back_populates="actions")


class Milestone(Base):
    """One milestone of one case or of one back-office work order."""

    __tablename__ = "milestones"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {MILESTONE_KINDS!r}", name="kind_known"),
        sa.CheckConstraint(f"state IN {MILESTONE_STATES!r}", name="state_known"),
        sa.CheckConstraint("(case_id IS NULL) <> (work_order_id IS NULL)", name="one_subject"),
        sa.UniqueConstraint("case_id", "definition_id"),
        sa.UniqueConstraint("work_order_id", "definition_id"),
        sa.Index("ix_milestones_next_check_at", "next_check_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    definition_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("milestone_definitions.id", ondelete="SET NULL")
    )
    case_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    work_order_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    calendar_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("business_calendars.id", ondelete="SET NULL")
    )
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    warn_percent: so.Mapped[int] = so.mapped_column(default=75)
    # The cache of derive(events):
    state: so.Mapped[str] = so.mapped_column(sa.String(20), default="pending", index=True)
    paused: so.Mapped[bool] = so.mapped_column(default=False)
    target_minutes: so.Mapped[int]
    used_seconds: so.Mapped[int] = so.mapped_column(default=0)
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    due_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    warn_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    completed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    next_check_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )

    calendar: so.Mapped[BusinessCalendar | None] = so.relationship()
    definition: so.Mapped[MilestoneDefinition | None] = so.relationship()
    events: so.Mapped[list[MilestoneEvent]] = so.relationship(
        back_populates="milestone",
        cascade="all, delete-orphan",
        order_by="(MilestoneEvent.at, MilestoneEvent.id)",
    )


class MilestoneEvent(Base):
    """The append-only log a milestone's state is derived from."""

    __tablename__ = "milestone_events"
    __table_args__ = (sa.CheckConstraint(f"kind IN {EVENT_KINDS!r}", name="kind_known"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    milestone_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("milestones.id", ondelete="CASCADE"), index=True
    )
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    minutes: so.Mapped[int | None]  # start and target: the target in business minutes
    note: so.Mapped[str] = so.mapped_column(sa.String(200), default="")

    milestone: so.Mapped[Milestone] = so.relationship(back_populates="events")


class SlaActionRun(Base):
    """One action of one milestone, run once: the unique key makes a second scheduler
    process's insert fail, and sending is claimed with a conditional update."""

    __tablename__ = "sla_action_runs"
    __table_args__ = (
        sa.CheckConstraint(f"trigger IN {TRIGGERS!r}", name="trigger_known"),
        sa.UniqueConstraint("milestone_id", "action_id"),
        sa.Index("ix_sla_action_runs_pending", "sent_at", "due_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    milestone_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("milestones.id", ondelete="CASCADE")
    )
    action_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("milestone_actions.id", ondelete="CASCADE")
    )
    trigger: so.Mapped[str] = so.mapped_column(sa.String(10))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    due_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    claimed_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    outcome: so.Mapped[str] = so.mapped_column(sa.Text, default="")
