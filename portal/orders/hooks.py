"""Orders' webhook events: `order.approved`, `order.ready_to_close` and `order.closed`,
with the order in its public shape (portal/orders/shapes.py, the API's too).

Queued straight to the subscribed endpoints in the transaction that made the change
(portal/webhooks/services.py), so an approval that rolls back takes its webhook with it;
the payload is the order as it stands at that moment, its work orders included.
"""

from __future__ import annotations

import sqlalchemy.orm as so

from portal.orders.models import Order
from portal.orders.queries import load_for_shape
from portal.orders.shapes import order_out
from portal.timeutil import now_utc
from portal.webhooks.services import queue_to_subscribers

# The webhook events orders send (WEBHOOK_EVENTS in portal/webhooks/models.py).
ANNOUNCED = ("order.approved", "order.ready_to_close", "order.closed")


def queue_order_event(session: so.Session, event: str, order: Order) -> int:
    """Queue `event` about `order` to every active endpoint subscribed to it; returns how
    many were queued."""
    if event not in ANNOUNCED:
        raise ValueError(f"unknown order event {event!r}")
    session.flush()
    return queue_to_subscribers(
        session, event, lambda: order_data(load_for_shape(session, order)), now_utc()
    )


def order_data(order: Order) -> dict:
    """The order as the staff API shows it: webhooks go to the organisation's own systems."""
    return {"order": order_out(order).model_dump(mode="json")}
