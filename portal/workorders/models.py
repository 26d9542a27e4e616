"""The spine: work orders, their tasks, and the activity timeline of any record."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import Base, UTCDateTime
from portal.queues.models import Queue
from portal.timeutil import now_utc

if TYPE_CHECKING:  # only for annotations; the mapper resolves names at runtime
    from portal.accounts.models import Contact, CustomerAccount, ServiceLocation, User
    from portal.booking.models import Appointment
    from portal.workforce.models import Agent

WORK_ORDER_STATES = ("new", "scheduled", "in_progress", "completed", "closed", "cancelled")
TASK_STATES = ("open", "assigned", "accepted", "in_progress", "done", "declined", "cancelled")
# Tasks someone still has to do something about.
ACTIVE_TASK_STATES = ("open", "assigned", "accepted", "in_progress")
VISIBILITIES = ("internal", "customer")
# Which part of the product made a work order, and so whose watchers hear of its changes
# (portal/workorders/watchers.py). The spine stores the name and knows nothing more.
OWNER_KINDS = ("booking", "case", "order")


class WorkOrder(Base):
    __tablename__ = "work_orders"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {WORK_ORDER_STATES!r}", name="status_known"),
        sa.CheckConstraint(f"owner_kind IN {OWNER_KINDS!r}", name="owner_kind_known"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer_accounts.id"), index=True)
    contact_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("contacts.id"))
    location_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("service_locations.id"))
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="new", index=True)
    owner_kind: so.Mapped[str] = so.mapped_column(sa.String(20), default="booking")
    summary: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )

    account: so.Mapped[CustomerAccount] = so.relationship()
    contact: so.Mapped[Contact | None] = so.relationship()
    location: so.Mapped[ServiceLocation | None] = so.relationship()
    tasks: so.Mapped[list[WorkOrderTask]] = so.relationship(
        back_populates="work_order", cascade="all, delete-orphan", order_by="WorkOrderTask.id"
    )
    appointments: so.Mapped[list[Appointment]] = so.relationship(
        back_populates="work_order", order_by="Appointment.id"
    )

    @property
    def number(self) -> str:
        return f"WO-{self.id:06d}"


class WorkOrderTask(Base):
    """A piece of work: of one work order or of one case (`case_id`: the cases table is
    the case package's; the spine only keeps the key), assigned to exactly one of a
    technician (`agent_id`), a user (`user_id`: back office, a scheduler who took it) or a
    queue (`queue_id`, until a member takes it)."""

    __tablename__ = "work_order_tasks"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {TASK_STATES!r}", name="status_known"),
        sa.CheckConstraint(
            "(work_order_id IS NULL) <> (case_id IS NULL)", name="one_work_order_or_case"
        ),
        sa.CheckConstraint(
            "(CASE WHEN agent_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN user_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN queue_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_assignee",
        ),
        # An agent's tasks, newest last: "latest task of this agent" (fair assignment) is
        # one index descent, however long the agent's history.
        sa.Index("ix_work_order_tasks_agent_latest", "agent_id", "id"),
        # A case has at most one task someone still has to do (the aging reps' routine:
        # complete one, then create the next).
        sa.Index(
            "ux_work_order_tasks_one_active_per_case",
            "case_id",
            unique=True,
            sqlite_where=sa.text(
                "case_id IS NOT NULL AND status IN ('open', 'assigned', 'accepted', 'in_progress')"
            ),
            postgresql_where=sa.text(
                "case_id IS NOT NULL AND status IN ('open', 'assigned', 'accepted', 'in_progress')"
            ),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    work_order_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    case_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    appointment_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("appointments.id", ondelete="SET NULL"), index=True
    )
    agent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("agents.id"))
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    queue_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("queues.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="open", index=True)
    due_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    # Set when the task is done (status "done") or ended otherwise, and by whom.
    completed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    completed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

    work_order: so.Mapped[WorkOrder | None] = so.relationship(back_populates="tasks")
    appointment: so.Mapped[Appointment | None] = so.relationship()
    agent: so.Mapped[Agent | None] = so.relationship()
    user: so.Mapped[User | None] = so.relationship(foreign_keys=[user_id])
    queue: so.Mapped[Queue | None] = so.relationship()


class TimelineEntry(Base):
    """Who changed what on which record, when, from which value to which.

    Attached to any record by (subject_type, subject_id); entries that concern a work
    order also carry its id, so the work order's timeline is one indexed query.
    """

    __tablename__ = "timeline_entries"
    __table_args__ = (
        sa.CheckConstraint(f"visibility IN {VISIBILITIES!r}", name="visibility_known"),
        sa.Index("ix_timeline_subject", "subject_type", "subject_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    subject_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    subject_id: so.Mapped[int]
    work_order_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    on_behalf_of_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    field: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    old_value: so.Mapped[str | None] = so.mapped_column(sa.Text)
    new_value: so.Mapped[str | None] = so.mapped_column(sa.Text)
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    visibility: so.Mapped[str] = so.mapped_column(sa.String(10), default="internal")

    actor: so.Mapped[User | None] = so.relationship(foreign_keys=[actor_id])
