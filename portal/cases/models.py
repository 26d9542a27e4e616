"""Cases and their types; the link from a case to the work orders it handed out.

A case type lists its statuses, each with a meaning: `open` (someone here works it),
`waiting` (waiting on the customer: SLA clocks pause) or `closed`. The case's status is
one of its type's statuses by name, checked by the case services. The owner is a user or
a queue, never both, never neither. Comments and changes live on the timeline
(portal/workorders/models.py TimelineEntry, subject "Case"), internal or customer-visible.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import Base, UTCDateTime
from portal.queues.models import Queue
from portal.timeutil import now_utc
from portal.workorders.models import WorkOrder

if TYPE_CHECKING:
    from portal.accounts.models import Contact, CustomerAccount, User

PRIORITIES = ("low", "medium", "high", "urgent")
STATUS_MEANINGS = ("open", "waiting", "closed")


def new_reply_token() -> str:
    """32 characters of URL-safe base64: the case part of a reply address."""
    return secrets.token_urlsafe(24)


class CaseType(Base):
    __tablename__ = "case_types"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    # The status a new case of this type starts in (one of its statuses).
    initial_status: so.Mapped[str] = so.mapped_column(sa.String(60))

    statuses: so.Mapped[list[CaseStatus]] = so.relationship(
        back_populates="case_type", cascade="all, delete-orphan", order_by="CaseStatus.position"
    )
    origins: so.Mapped[list[CaseOrigin]] = so.relationship(
        back_populates="case_type", cascade="all, delete-orphan", order_by="CaseOrigin.position"
    )


class CaseStatus(Base):
    __tablename__ = "case_statuses"
    __table_args__ = (
        sa.CheckConstraint(f"meaning IN {STATUS_MEANINGS!r}", name="meaning_known"),
        sa.UniqueConstraint("case_type_id", "name"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_type_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("case_types.id", ondelete="CASCADE")
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(60))
    meaning: so.Mapped[str] = so.mapped_column(sa.String(10))
    position: so.Mapped[int] = so.mapped_column(default=0)

    case_type: so.Mapped[CaseType] = so.relationship(back_populates="statuses")


class CaseOrigin(Base):
    __tablename__ = "case_origins"
    __table_args__ = (sa.UniqueConstraint("case_type_id", "name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_type_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("case_types.id", ondelete="CASCADE")
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(60))
    position: so.Mapped[int] = so.mapped_column(default=0)

    case_type: so.Mapped[CaseType] = so.relationship(back_populates="origins")


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        sa.CheckConstraint(f"priority IN {PRIORITIES!r}", name="priority_known"),
        sa.CheckConstraint("(owner_user_id IS NULL) <> (owner_queue_id IS NULL)", name="one_owner"),
        sa.Index("ix_cases_account_created", "account_id", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_type_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("case_types.id"))
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer_accounts.id"))
    contact_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    origin: so.Mapped[str] = so.mapped_column(sa.String(60))
    priority: so.Mapped[str] = so.mapped_column(sa.String(10), default="medium")
    status: so.Mapped[str] = so.mapped_column(sa.String(60), index=True)
    # Denormalised from the status's meaning, so "open cases" is one indexed query.
    is_closed: so.Mapped[bool] = so.mapped_column(default=False, index=True)
    owner_user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    owner_queue_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("queues.id"), index=True)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )
    first_response_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The random part of the case's reply address (case+TOKEN@...): a reply to a case's
    # e-mail lands on the case (portal/cases/inbound.py). Made with the case (cases from
    # before it get theirs when first needed).
    reply_token: so.Mapped[str | None] = so.mapped_column(
        sa.String(43), unique=True, default=lambda: new_reply_token()
    )

    case_type: so.Mapped[CaseType] = so.relationship()
    account: so.Mapped[CustomerAccount] = so.relationship()
    contact: so.Mapped[Contact | None] = so.relationship()
    owner_user: so.Mapped[User | None] = so.relationship(foreign_keys=[owner_user_id])
    owner_queue: so.Mapped[Queue | None] = so.relationship()
    created_by: so.Mapped[User | None] = so.relationship(foreign_keys=[created_by_id])
    work_order_links: so.Mapped[list[CaseWorkOrder]] = so.relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseWorkOrder.id"
    )

    @property
    def number(self) -> str:
        return f"CS-{self.id:06d}"


class CaseWorkOrder(Base):
    """A work order a case handed to a back-office queue (the case owns it: the work order
    says owner_kind "case"; this row says which case)."""

    __tablename__ = "case_work_orders"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    work_order_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("work_orders.id", ondelete="CASCADE"), unique=True
    )
    queue_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("queues.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    case: so.Mapped[Case] = so.relationship(back_populates="work_order_links")
    work_order: so.Mapped[WorkOrder] = so.relationship()
    queue: so.Mapped[Queue] = so.relationship()
