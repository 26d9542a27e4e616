"""Finding orders for the pages and the API: the team's list, one order for the team or
for a customer (another account's, or a customer's draft, is 404), with its lines, items,
work orders and their visits loaded."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.errors import NotFound
from portal.orders.models import ORDER_STATES, Order, OrderLine, OrderWorkOrder
from portal.pagination import Page, paginate
from portal.workorders.models import WorkOrder

NOT_FOUND = "There is no such order."


def _loaded():
    return (
        so.selectinload(Order.lines).selectinload(OrderLine.items),
        so.selectinload(Order.lines)
        .selectinload(OrderLine.work_order_links)
        .selectinload(OrderWorkOrder.work_order)
        .selectinload(WorkOrder.appointments),
        so.selectinload(Order.lines).selectinload(OrderLine.location),
        so.selectinload(Order.lines).selectinload(OrderLine.contact),
    )


def list_orders(
    session: so.Session,
    *,
    status: str = "",
    account_id: int | None = None,
    page: int = 1,
    per_page: int = 25,
) -> Page:
    """A page of orders, newest first, of one `status` when given."""
    query = sa.select(Order).options(
        so.joinedload(Order.account), so.joinedload(Order.fulfilment_user)
    )
    if status in ORDER_STATES:
        query = query.where(Order.status == status)
    if account_id is not None:
        query = query.where(Order.account_id == account_id)
    return paginate(
        session, query.order_by(Order.created_at.desc(), Order.id.desc()), page, per_page
    )


def order_for_team(session: so.Session, order_id: int) -> Order:
    order = session.scalar(sa.select(Order).where(Order.id == order_id).options(*_loaded()))
    if order is None:
        raise NotFound(NOT_FOUND)
    return order


def _customer_visible(user: User):
    return sa.and_(Order.account_id == (user.account_id or -1), Order.status != "draft")


def list_for_customer(session: so.Session, user: User, *, page: int = 1) -> Page:
    """The orders of the customer's account, newest first; drafts are the team's."""
    query = (
        sa.select(Order)
        .where(_customer_visible(user))
        .order_by(Order.created_at.desc(), Order.id.desc())
    )
    return paginate(session, query, page, 20)


def order_for_customer(session: so.Session, user: User, order_id: int) -> Order:
    order = session.scalar(
        sa.select(Order).where(Order.id == order_id, _customer_visible(user)).options(*_loaded())
    )
    if order is None:
        raise NotFound(NOT_FOUND)
    return order
