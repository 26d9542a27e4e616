"""Products, the versioned decision table, orders, their lines and the work orders they
made.

An order (ORD-000123) is for one customer account; each line is one service location with
products and quantities and a site contact. Approval decomposes every line with the
decision table's published version (kept on the order): one work order per unit of each
product, linked here (`OrderWorkOrder`); the work order says owner_kind "order" and the
spine knows nothing more. A line's point of no return (`ponr_at`) locks it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import Base, UTCDateTime
from portal.timeutil import now_utc

if TYPE_CHECKING:
    from portal.accounts.models import Contact, CustomerAccount, ServiceLocation, User
    from portal.booking.models import Service
    from portal.queues.models import Queue
    from portal.workforce.models import Territory
    from portal.workorders.models import WorkOrder

ORDER_STATES = (
    "draft",
    "placed",
    "approved",
    "in_fulfilment",
    "ready_to_close",
    "closed",
    "rejected",
    "cancelled",
)
TABLE_STATES = ("draft", "published", "retired")


class Product(Base):
    """What a customer can order; managers keep the catalogue."""

    __tablename__ = "products"
    __table_args__ = (
        sa.CheckConstraint(
            "NOT needs_site_visit OR service_id IS NOT NULL", name="site_visit_has_service"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # A technician must go to the site: the work order books this service.
    needs_site_visit: so.Mapped[bool] = so.mapped_column(default=False)
    service_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("services.id"))
    # A partner's technician must come first (the partner issue uses it).
    needs_partner_visit: so.Mapped[bool] = so.mapped_column(default=False)
    # Free attributes the decision table may test: {"category": "broadband"}.
    attributes: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    service: so.Mapped[Service | None] = so.relationship()


class DecisionTable(Base):
    """One version of the decision table. Managers edit the draft and publish it; the
    published version is what approval uses, and an approved order keeps the version it
    was decomposed with."""

    __tablename__ = "decision_tables"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {TABLE_STATES!r}", name="status_known"),
        sa.Index(
            "ux_decision_tables_one_published",
            "status",
            unique=True,
            sqlite_where=sa.text("status = 'published'"),
            postgresql_where=sa.text("status = 'published'"),
        ),
        sa.Index(
            "ux_decision_tables_one_draft",
            "status",
            unique=True,
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    version: so.Mapped[int] = so.mapped_column(unique=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="draft")
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    published_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    published_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    rows: so.Mapped[list[DecisionRow]] = so.relationship(
        back_populates="table", cascade="all, delete-orphan", order_by="DecisionRow.position"
    )


class DecisionRow(Base):
    """Conditions (all that are set must hold; an unset one matches anything) and an
    outcome: the work order to make for each unit of a matching product. The first row
    that matches a product wins; a default row matches every product."""

    __tablename__ = "decision_rows"
    __table_args__ = (
        sa.UniqueConstraint("table_id", "position"),
        sa.CheckConstraint(
            "NOT needs_appointment OR service_id IS NOT NULL", name="appointment_has_service"
        ),
        sa.CheckConstraint("(queue_id IS NULL) OR (service_id IS NULL)", name="queue_or_service"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    table_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("decision_tables.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int]
    label: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    is_default: so.Mapped[bool] = so.mapped_column(default=False)
    # -- conditions --
    product_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("products.id"))
    # Attribute tests: {"needs_site_visit": true, "category": "broadband"}.
    attributes: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    territory_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("territories.id"))
    postal_prefix: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    # -- outcome --
    # False: the product needs no work order (e.g. a licence); the row still matches.
    creates_work_order: so.Mapped[bool] = so.mapped_column(default=True)
    # "{product} at {location}" style template for the work order's summary.
    summary: so.Mapped[str] = so.mapped_column(sa.String(200), default="{product} at {location}")
    # Task titles for a back-office work order (held by `queue_id`).
    tasks: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    queue_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("queues.id"))
    # The service a field visit books (needs_appointment).
    service_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("services.id"))
    needs_appointment: so.Mapped[bool] = so.mapped_column(default=False)

    table: so.Mapped[DecisionTable] = so.relationship(back_populates="rows")
    product: so.Mapped[Product | None] = so.relationship()
    territory: so.Mapped[Territory | None] = so.relationship()
    queue: so.Mapped[Queue | None] = so.relationship()
    service: so.Mapped[Service | None] = so.relationship()


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {ORDER_STATES!r}", name="status_known"),
        sa.Index("ix_orders_account_created", "account_id", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer_accounts.id"))
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="draft", index=True)
    # Who fulfils it: a scheduler, or a back-office member of the Orders queue.
    fulfilment_user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id"), index=True
    )
    # The manager who approved or rejected it (told when it is ready to close).
    approver_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    # The decision table version it was decomposed with (set at approval).
    decision_table_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("decision_tables.id"))
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )
    placed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    approved_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    rejected_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Why it was rejected, or cancelled.
    reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    cancelled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    ready_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    closed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

    account: so.Mapped[CustomerAccount] = so.relationship()
    fulfilment_user: so.Mapped[User | None] = so.relationship(foreign_keys=[fulfilment_user_id])
    approver: so.Mapped[User | None] = so.relationship(foreign_keys=[approver_id])
    created_by: so.Mapped[User | None] = so.relationship(foreign_keys=[created_by_id])
    decision_table: so.Mapped[DecisionTable | None] = so.relationship()
    lines: so.Mapped[list[OrderLine]] = so.relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.position"
    )

    @property
    def number(self) -> str:
        return f"ORD-{self.id:06d}"


class OrderLine(Base):
    """One service location of an order, with its products and its site contact."""

    __tablename__ = "order_lines"
    __table_args__ = (
        sa.UniqueConstraint("order_id", "location_id", name="uq_order_lines_location"),
        sa.UniqueConstraint("order_id", "position", name="uq_order_lines_position"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    order_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int]
    location_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("service_locations.id"))
    # The person on site (gets the "book your visit" e-mail); required to place.
    contact_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("contacts.id"))
    # The point of no return: after it the line is locked.
    ponr_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    ponr_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    # Why: "set by hand" or "WO-000123 started".
    ponr_reason: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )

    order: so.Mapped[Order] = so.relationship(back_populates="lines")
    location: so.Mapped[ServiceLocation] = so.relationship()
    contact: so.Mapped[Contact | None] = so.relationship()
    ponr_by: so.Mapped[User | None] = so.relationship(foreign_keys=[ponr_by_id])
    items: so.Mapped[list[OrderLineItem]] = so.relationship(
        back_populates="line", cascade="all, delete-orphan", order_by="OrderLineItem.id"
    )
    work_order_links: so.Mapped[list[OrderWorkOrder]] = so.relationship(
        back_populates="line", order_by="OrderWorkOrder.id"
    )

    @property
    def locked(self) -> bool:
        return self.ponr_at is not None


class OrderLineItem(Base):
    __tablename__ = "order_line_items"
    __table_args__ = (
        sa.UniqueConstraint("line_id", "product_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    line_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("order_lines.id", ondelete="CASCADE"), index=True
    )
    product_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("products.id"))
    quantity: so.Mapped[int] = so.mapped_column(default=1)

    line: so.Mapped[OrderLine] = so.relationship(back_populates="items")
    product: so.Mapped[Product] = so.relationship()


class OrderWorkOrder(Base):
    """A work order a line made: for unit `unit` of `product_id`, by `decision_row_id`.
    An in-flight change that no longer needs it cancels the work order and sets
    `superseded_at`; one live link per (line, product, unit) makes approval idempotent."""

    __tablename__ = "order_work_orders"
    __table_args__ = (
        sa.Index(
            "ux_order_work_orders_live_unit",
            "line_id",
            "product_id",
            "unit",
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    order_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    line_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("order_lines.id", ondelete="CASCADE"), index=True
    )
    work_order_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("work_orders.id", ondelete="CASCADE"), unique=True
    )
    product_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("products.id"))
    unit: so.Mapped[int] = so.mapped_column(default=1)
    decision_row_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("decision_rows.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    superseded_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    line: so.Mapped[OrderLine] = so.relationship(back_populates="work_order_links")
    work_order: so.Mapped[WorkOrder] = so.relationship()
    product: so.Mapped[Product] = so.relationship()
