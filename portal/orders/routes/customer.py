"""The customer's orders, read-only: its account's orders (never a draft) and one order
with each line's location and progress: its work orders in words and the booked visit.
Another account's order is 404."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from portal.access import customer_required
from portal.db import get_session
from portal.orders.reading import list_for_customer, order_for_customer
from portal.pagination import page_arg

# An order's status, as the customer reads it.
ORDER_WORDS = {
    "placed": "received, waiting for approval",
    "approved": "approved, the work is being planned",
    "in_fulfilment": "in progress",
    "ready_to_close": "all work done",
    "closed": "complete",
    "rejected": "not accepted",
    "cancelled": "cancelled",
}
# A work order's status, as the customer reads it.
WORK_WORDS = {
    "new": "not started yet",
    "scheduled": "visit booked",
    "in_progress": "in progress",
    "completed": "done",
    "closed": "done",
    "cancelled": "cancelled",
}
LIVE_VISITS = ("requested", "accepted", "confirmed", "in_progress")


def register(bp) -> None:
    bp.add_url_rule("", view_func=index, endpoint="index")
    bp.add_url_rule("/<int:order_id>", view_func=order_page, endpoint="order")


@customer_required
def index():
    found = list_for_customer(get_session(), current_user, page=page_arg(request.args.get("page")))
    return render_template("orders/my_list.html", found=found, words=ORDER_WORDS)


@customer_required
def order_page(order_id: int):
    order = order_for_customer(get_session(), current_user, order_id)
    return render_template(
        "orders/my_order.html",
        order=order,
        words=ORDER_WORDS,
        work_words=WORK_WORDS,
        visit_of=_visit,
    )


def _visit(work_order):
    """The work order's booked visit still to come or under way, if any."""
    visits = [a for a in work_order.appointments if a.status in LIVE_VISITS]
    return min(visits, key=lambda a: a.window_start) if visits else None
