"""The public shape of an order: what the JSON API answers with and what the order
webhooks carry (`order.approved`, `order.ready_to_close`, `order.closed`), so they never
drift.

It sits on the orders floor, below the API (a feature), and imports nothing above orders
(as portal/cases/shapes.py does for cases).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from portal.orders.models import ORDER_STATES, Order, OrderLine, OrderWorkOrder


class LocationOut(BaseModel):
    id: int
    label: str
    address: str = Field(description="Street, city and postal code on one line.")
    postal_code: str


class ItemOut(BaseModel):
    product_id: int
    product_code: str
    product_name: str
    quantity: int


class LineWorkOrderOut(BaseModel):
    id: int = Field(description="The work order's id.")
    number: str = Field(description="WO-000123: what people quote.")
    status: str
    summary: str
    product_code: str
    unit: int = Field(description="Which unit of the product (1..quantity) it is for.")
    superseded: bool = Field(
        description="An in-flight change no longer needs it (it was cancelled)."
    )


class LineOut(BaseModel):
    id: int
    position: int = Field(description="Line 1, 2, ... of the order.")
    location: LocationOut
    contact_id: int | None = Field(description="The site contact (gets the booking e-mail).")
    contact_name: str | None
    items: list[ItemOut]
    work_orders: list[LineWorkOrderOut]
    ponr_at: datetime | None = Field(
        description="The line's point of no return: after it the line cannot change."
    )
    ponr_reason: str = Field(description='"set by hand" or "WO-000123 started".')


class OrderOut(BaseModel):
    id: int
    number: str = Field(description="ORD-000123: what people quote.")
    status: Literal[ORDER_STATES]  # type: ignore[valid-type]
    account_id: int
    account_name: str
    fulfilment_user_id: int | None = Field(description="Who fulfils the order.")
    fulfilment_user_name: str | None
    approver_id: int | None = Field(description="The manager who approved or rejected it.")
    decision_table_version: int | None = Field(
        description="The decision table version the order was decomposed with (at approval)."
    )
    note: str
    reason: str = Field(description="Why it was rejected or cancelled.")
    created_at: datetime
    placed_at: datetime | None
    approved_at: datetime | None
    ready_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    rejected_at: datetime | None
    lines: list[LineOut]


def order_out(order: Order) -> OrderOut:
    """The order as the API and the webhooks show it, with every line, its items and the
    work orders it made."""
    fulfiller = order.fulfilment_user
    table = order.decision_table
    return OrderOut(
        id=order.id,
        number=order.number,
        status=order.status,
        account_id=order.account_id,
        account_name=order.account.name,
        fulfilment_user_id=order.fulfilment_user_id,
        fulfilment_user_name=fulfiller.full_name if fulfiller is not None else None,
        approver_id=order.approver_id,
        decision_table_version=table.version if table is not None else None,
        note=order.note or "",
        reason=order.reason or "",
        created_at=order.created_at,
        placed_at=order.placed_at,
        approved_at=order.approved_at,
        ready_at=order.ready_at,
        closed_at=order.closed_at,
        cancelled_at=order.cancelled_at,
        rejected_at=order.rejected_at,
        lines=[line_out(line) for line in order.lines],
    )


def line_out(line: OrderLine) -> LineOut:
    location = line.location
    contact = line.contact
    return LineOut(
        id=line.id,
        position=line.position,
        location=LocationOut(
            id=location.id,
            label=location.label,
            address=location.one_line,
            postal_code=location.postal_code,
        ),
        contact_id=line.contact_id,
        contact_name=contact.full_name if contact is not None else None,
        items=[
            ItemOut(
                product_id=item.product_id,
                product_code=item.product.code,
                product_name=item.product.name,
                quantity=item.quantity,
            )
            for item in line.items
        ],
        work_orders=[_work_order_out(link) for link in line.work_order_links],
        ponr_at=line.ponr_at,
        ponr_reason=line.ponr_reason or "",
    )


def _work_order_out(link: OrderWorkOrder) -> LineWorkOrderOut:
    work_order = link.work_order
    return LineWorkOrderOut(
        id=work_order.id,
        number=work_order.number,
        status=work_order.status,
        summary=work_order.summary,
        product_code=link.product.code,
        unit=link.unit,
        superseded=link.superseded_at is not None,
    )
