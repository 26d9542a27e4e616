"""Reading orders: who may handle them, an order with what its plan needs loaded, its
live work orders and which of them are still open."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.errors import NotFound
from portal.orders.models import Order, OrderLine, OrderLineItem, OrderWorkOrder
from portal.queues.models import Queue, QueueMember
from portal.workorders.models import WorkOrder

# The back-office queue whose members fulfil orders (made by the back-office demo, and by
# an admin in settings: its slug comes from its name "Orders").
ORDERS_QUEUE = "orders"
# A work order in one of these is done with: closed (signed off, or closed by a
# scheduler with a reason) or cancelled. Anything else is open.
FINAL_WORK = ("closed", "cancelled")
# Work under way: the order is in fulfilment once one of its work orders is here.
UNDER_WAY = ("scheduled", "in_progress", "completed")
# An order whose work orders exist and can still change.
IN_FLIGHT = ("approved", "in_fulfilment", "ready_to_close")
# An order nothing more happens to.
ENDED = ("closed", "rejected", "cancelled")


def in_orders_queue(session: so.Session, user: User) -> bool:
    return (
        session.scalar(
            sa.select(QueueMember.user_id)
            .join(Queue, Queue.id == QueueMember.queue_id)
            .where(Queue.slug == ORDERS_QUEUE, QueueMember.user_id == user.id)
        )
        is not None
    )


def may_handle_orders(session: so.Session, user: User | None) -> bool:
    """Who takes and fulfils orders: an active scheduler (or above), or an active
    back-office member of the Orders queue."""
    if user is None or not user.active:
        return False
    if user.has_role("scheduler"):
        return True
    return user.is_backoffice and in_orders_queue(session, user)


def may_approve(user: User | None) -> bool:
    """Managers (and admins) approve and reject orders."""
    return user is not None and user.active and user.has_role("manager")


def lock_order(session: so.Session, order: Order) -> Order:
    """Re-read the order with a row lock (PostgreSQL), so changes to it queue up."""
    locked = session.scalar(
        sa.select(Order)
        .where(Order.id == order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise NotFound("There is no such order.")
    return locked


def get_order(session: so.Session, order_id: int) -> Order | None:
    return session.get(Order, order_id)


def load_lines(session: so.Session, order: Order) -> list[OrderLine]:
    """The order's lines with their location, contact, items and products loaded in a
    few queries (a plan of 200 lines reads them all)."""
    lines = list(
        session.scalars(
            sa.select(OrderLine)
            .where(OrderLine.order_id == order.id)
            .options(
                so.joinedload(OrderLine.location),
                so.joinedload(OrderLine.contact),
                so.selectinload(OrderLine.items).joinedload(OrderLineItem.product),
            )
            .order_by(OrderLine.position)
        ).unique()
    )
    return lines


def load_for_shape(session: so.Session, order: Order) -> Order:
    """The order with all its public shape reads (lines, addresses, contacts, items,
    products, work orders) loaded in a few queries, not one per line."""
    return session.scalars(
        sa.select(Order)
        .where(Order.id == order.id)
        .options(
            so.joinedload(Order.account),
            so.joinedload(Order.fulfilment_user),
            so.joinedload(Order.decision_table),
            so.selectinload(Order.lines).options(
                so.joinedload(OrderLine.location),
                so.joinedload(OrderLine.contact),
                so.selectinload(OrderLine.items).joinedload(OrderLineItem.product),
                so.selectinload(OrderLine.work_order_links).options(
                    so.joinedload(OrderWorkOrder.work_order),
                    so.joinedload(OrderWorkOrder.product),
                ),
            ),
        )
        .execution_options(populate_existing=True)
    ).one()


def live_links(
    session: so.Session, order: Order, *, line: OrderLine | None = None
) -> list[OrderWorkOrder]:
    """The order's (or one line's) links to work orders no in-flight change superseded,
    with their work orders, oldest first."""
    query = (
        sa.select(OrderWorkOrder)
        .where(OrderWorkOrder.order_id == order.id, OrderWorkOrder.superseded_at.is_(None))
        .options(so.joinedload(OrderWorkOrder.work_order))
        .order_by(OrderWorkOrder.id)
    )
    if line is not None:
        query = query.where(OrderWorkOrder.line_id == line.id)
    return list(session.scalars(query))


def live_statuses(session: so.Session, order: Order) -> list[str]:
    """The status of each of the order's live work orders (one query)."""
    return list(
        session.scalars(
            sa.select(WorkOrder.status)
            .join(OrderWorkOrder, OrderWorkOrder.work_order_id == WorkOrder.id)
            .where(OrderWorkOrder.order_id == order.id, OrderWorkOrder.superseded_at.is_(None))
        )
    )


def open_work_orders(session: so.Session, order: Order) -> list[WorkOrder]:
    """The order's live work orders that are not final, by number."""
    return list(
        session.scalars(
            sa.select(WorkOrder)
            .join(OrderWorkOrder, OrderWorkOrder.work_order_id == WorkOrder.id)
            .where(
                OrderWorkOrder.order_id == order.id,
                OrderWorkOrder.superseded_at.is_(None),
                WorkOrder.status.not_in(FINAL_WORK),
            )
            .order_by(WorkOrder.id)
        )
    )


def open_work_words(work_orders: list[WorkOrder]) -> str:
    """ "WO-000012 (scheduled), WO-000013 (new) are still open"."""
    names = ", ".join(f"{wo.number} ({wo.status.replace('_', ' ')})" for wo in work_orders)
    return f"{names} {'is' if len(work_orders) == 1 else 'are'} still open"


def link_of(session: so.Session, work_order_id: int) -> OrderWorkOrder | None:
    """The order line's link to this work order (live or superseded), if an order made it."""
    return session.scalar(
        sa.select(OrderWorkOrder).where(OrderWorkOrder.work_order_id == work_order_id)
    )


def lines_past_ponr(session: so.Session, order: Order) -> list[OrderLine]:
    return list(
        session.scalars(
            sa.select(OrderLine)
            .where(OrderLine.order_id == order.id, OrderLine.ponr_at.is_not(None))
            .order_by(OrderLine.position)
        )
    )


def orders_of_account(session: so.Session, account_id: int) -> list[Order]:
    """An account's orders, newest first (the customer's list leaves out drafts)."""
    return list(
        session.scalars(
            sa.select(Order)
            .where(Order.account_id == account_id)
            .order_by(Order.created_at.desc(), Order.id.desc())
        )
    )
