"""The customer's orders in its data download: its account's orders (never a draft) with
each line's address, products and the work orders they made, as the customer's own
"Orders" pages show them. Nothing to anonymise here: an order is the account's business
record, its site contact is the person's contact row (anonymised with the account), and
the sweep after the hooks scrubs any mention of the person in an order's free text."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.orders.models import Order
from portal.orders.shapes import order_out
from portal.privacy.registry import Subject, register


def export_orders(session: so.Session, subject: Subject) -> dict:
    if subject.account is None:
        return {"orders": []}
    orders = session.scalars(
        sa.select(Order)
        .where(Order.account_id == subject.account.id, Order.status != "draft")
        .order_by(Order.id)
    )
    return {"orders": [_customer_view(order) for order in orders]}


def _customer_view(order: Order) -> dict:
    shape = order_out(order).model_dump(mode="json")
    # Who works on it inside the organisation is not the customer's data.
    for internal in ("fulfilment_user_id", "fulfilment_user_name", "approver_id"):
        shape.pop(internal, None)
    return shape


register("orders", export=export_orders)
