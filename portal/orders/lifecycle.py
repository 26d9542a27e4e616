"""An order from approval to closure.

`approve`: the plan must be complete (every product of every line matched by a row of
the published decision table); one conditional UPDATE placed -> approved decides which
of two approvals at once wins (the other finds the order approved and makes nothing);
then, in the same transaction, the plan's work orders (portal/orders/work.py). The order
keeps the table's version it was decomposed with.

`settle`: after anything that changes the order's work (a work order's status, heard as a
watcher; an in-flight change) the order's status follows it: in fulfilment once work is
scheduled or started, ready to close when every live work order is final (its approver
and fulfilment user are told, the `order.ready_to_close` webhook goes out), back in
fulfilment when work opens again.

`close`: only an order ready to close; otherwise the refusal names every open work order.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context

from portal.accounts.models import User
from portal.errors import Conflict, Invalid
from portal.notifications.services import notify_user, queue_email
from portal.orders.hooks import queue_order_event
from portal.orders.models import Order
from portal.orders.notes import note, set_order_status, words
from portal.orders.planning import plan_lines, published_table
from portal.orders.queries import (
    FINAL_WORK,
    IN_FLIGHT,
    UNDER_WAY,
    live_statuses,
    load_lines,
    lock_order,
    open_work_orders,
    open_work_words,
)
from portal.orders.services import require_handler, require_manager
from portal.orders.work import make_work_orders
from portal.timeutil import now_utc

# Orders that went past approval: a second approval finds them and makes nothing.
APPROVED_ALREADY = ("approved", "in_fulfilment", "ready_to_close", "closed")


def approve(session: so.Session, order: Order, *, by: User) -> Order:
    """A manager approves the placed order: its work orders are made, now, once."""
    require_manager(by)
    if order.status in APPROVED_ALREADY:
        return order
    if order.status != "placed":
        raise Conflict(
            f"{order.number} is {words(order.status)}: only a placed order can be approved."
        )
    table = published_table(session)
    lines = load_lines(session, order)
    plan = plan_lines(lines, table)
    if not plan.ok:
        raise Invalid(" ".join(plan.problems()))
    at = now_utc()
    won = session.execute(
        sa.update(Order)
        .where(Order.id == order.id, Order.status == "placed")
        .values(
            status="approved",
            approver_id=by.id,
            approved_at=at,
            decision_table_id=table.id,
            updated_at=at,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(order)
    if won.rowcount != 1:
        # Another approval (or a rejection) came first: nothing more to make here.
        if order.status in APPROVED_ALREADY:
            return order
        raise Conflict(f"{order.number} is {words(order.status)} now: it cannot be approved.")
    note(
        session,
        order,
        "status",
        by=by,
        old="placed",
        new="approved",
        text=f"Approved with decision table version {table.version}",
        visibility="customer",
        field="status",
    )
    make_work_orders(session, order, {line.id: line for line in lines}, plan.work_orders, by=by)
    queue_order_event(session, "order.approved", order)
    settle(session, order, by=by)
    session.flush()
    return order


def settle(session: so.Session, order: Order, *, by: User | None) -> None:
    """Bring the order's status in line with its live work orders (see the module)."""
    if order.status not in IN_FLIGHT:
        return
    statuses = live_statuses(session, order)
    still_open = [s for s in statuses if s not in FINAL_WORK]
    if not still_open:
        if order.status != "ready_to_close":
            _ready_to_close(session, order, by)
        return
    if order.status == "ready_to_close":
        set_order_status(session, order, "in_fulfilment", by=by, why="Work is open again")
        order.ready_at = None
    elif order.status == "approved" and any(s in UNDER_WAY for s in still_open):
        set_order_status(session, order, "in_fulfilment", by=by, why="Work has started")


def _ready_to_close(session: so.Session, order: Order, by: User | None) -> None:
    set_order_status(session, order, "ready_to_close", by=by, why="All its work orders are final")
    message = f"{order.number} for {order.account.name} is ready to close: all its work is done."
    link = f"/orders/{order.id}"
    told = set()
    for user in (order.approver, order.fulfilment_user):
        if user is None or user.id in told or not user.active:
            continue
        told.add(user.id)
        notify_user(session, user.id, message, link)
        queue_email(
            session,
            to=user.email,
            subject=f"{order.number} is ready to close",
            text=_ready_text(user, order, message, link),
            dedupe_key=f"order-ready:{order.id}:{user.id}:{order.ready_at.isoformat()}",
            subject_type="order",
            subject_id=order.id,
        )
    queue_order_event(session, "order.ready_to_close", order)


def _ready_text(user: User, order: Order, message: str, link: str) -> str:
    if has_app_context():
        link = current_app.config.get("BASE_URL", "").rstrip("/") + link
    return "\n".join(
        [
            f"Hello {user.full_name},",
            "",
            message,
            "Review its work orders and close it:",
            link,
        ]
    )


def close(session: so.Session, order: Order, *, by: User) -> Order:
    """Close the order: only when every one of its work orders is final."""
    require_handler(session, by)
    order = lock_order(session, order)
    if order.status == "closed":
        return order
    still_open = open_work_orders(session, order)
    if still_open:
        raise Conflict(f"{order.number} cannot close: {open_work_words(still_open)}.")
    if order.status != "ready_to_close":
        raise Conflict(
            f"{order.number} is {words(order.status)}: only an order ready to close can be closed."
        )
    order.closed_by_id = by.id
    set_order_status(session, order, "closed", by=by)
    queue_order_event(session, "order.closed", order)
    session.flush()
    return order
