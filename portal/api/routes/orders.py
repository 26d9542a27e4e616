"""Orders: create a draft, add lines, place, approve (managers), close, list and read,
through the same services (and so the same rules, work notes and webhooks) as the pages.

Who may: schedulers and above, and back-office members of the Orders queue (another
back-office user is refused, 403); approval is for managers.
"""

from __future__ import annotations

import sqlalchemy as sa

from portal.accounts.models import Contact, CustomerAccount, ServiceLocation, User
from portal.api.order_schemas import LineIn, OrderIn, OrderPage, OrdersQuery
from portal.api.registry import ID, operation
from portal.db import commit, get_session
from portal.errors import NotAllowed, NotFound, PortalError
from portal.orders import lifecycle, services
from portal.orders.models import Order, Product
from portal.orders.queries import may_approve, may_handle_orders
from portal.orders.reading import list_orders as find_orders
from portal.orders.reading import order_for_team
from portal.orders.shapes import OrderOut, order_out

ORDER = f"/orders/<{ID}:order_id>"
WORKERS = ("scheduler", "backoffice")


def _may_work(user: User) -> None:
    if not may_handle_orders(get_session(), user):
        raise NotAllowed("Orders are for schedulers and up and the Orders queue's members.")


@operation(
    "GET",
    "/orders",
    summary="List orders",
    tag="orders",
    response=OrderPage,
    roles=WORKERS,
    query=OrdersQuery,
)
def list_orders(user: User, query: OrdersQuery) -> OrderPage:
    """Orders, newest first; `status` and `account` narrow the list."""
    _may_work(user)
    found = find_orders(
        get_session(),
        status=query.status or "",
        account_id=query.account,
        page=query.page,
        per_page=query.per_page,
    )
    return OrderPage(
        items=[order_out(o) for o in found.items],
        page=found.number,
        pages=found.pages,
        total=found.total,
    )


@operation(
    "POST",
    "/orders",
    summary="Draft an order",
    tag="orders",
    response=OrderOut,
    status=201,
    roles=WORKERS,
    body=OrderIn,
    errors=(404,),
)
def create_order(user: User, body: OrderIn) -> OrderOut:
    """Draft an order for a customer account, with who fulfils it. Add its lines next,
    then place it."""
    _may_work(user)
    session = get_session()
    account = session.get(CustomerAccount, body.account_id)
    if account is None:
        raise NotFound("There is no such customer account.", field="account_id")
    fulfiller = user
    if body.fulfilment_user_id is not None:
        fulfiller = session.get(User, body.fulfilment_user_id)
    if fulfiller is None:
        raise NotFound("There is no such member of staff.", field="fulfilment_user_id")
    try:
        order = services.create_order(
            session, account, fulfilment_user=fulfiller, by=user, note=body.note
        )
    except PortalError as err:
        if err.field == "fulfilment_user":
            err.field = "fulfilment_user_id"
        raise
    commit()
    return order_out(load(order.id))


@operation("GET", ORDER, summary="Get an order", tag="orders", response=OrderOut, roles=WORKERS)
def get_order(user: User, order_id: int) -> OrderOut:
    """One order with its lines, their items and the work orders they made."""
    _may_work(user)
    return order_out(load(order_id))


@operation(
    "POST",
    f"{ORDER}/lines",
    summary="Add a line to a draft order",
    tag="orders",
    response=OrderOut,
    status=201,
    roles=WORKERS,
    body=LineIn,
    errors=(409,),
)
def add_order_line(user: User, order_id: int, body: LineIn) -> OrderOut:
    """Add a line to a draft: one of the account's locations (one line per location), its
    site contact, and the products by code with their quantities."""
    _may_work(user)
    session = get_session()
    order = load(order_id)
    location = session.get(ServiceLocation, body.location_id)
    if location is None or location.account_id != order.account_id:
        raise NotFound("There is no such location at the order's account.", field="location_id")
    contact = session.get(Contact, body.contact_id)
    if contact is None or contact.account_id != order.account_id:
        raise NotFound("There is no such contact at the order's account.", field="contact_id")
    items = _items(session, body)
    line = services.add_line(session, order, location, contact=contact, by=user)
    services.set_items(session, line, items, by=user)
    commit()
    return order_out(load(order_id))


def _items(session, body: LineIn) -> dict[int, int]:
    codes = [item.product_code for item in body.items]
    products = {
        p.code: p for p in session.scalars(sa.select(Product).where(Product.code.in_(codes)))
    }
    items: dict[int, int] = {}
    for index, item in enumerate(body.items):
        product = products.get(item.product_code)
        if product is None:
            raise NotFound(
                f"There is no product {item.product_code}.", field=f"items.{index}.product_code"
            )
        items[product.id] = items.get(product.id, 0) + item.quantity
    return items


@operation(
    "POST",
    f"{ORDER}/place",
    summary="Place an order",
    tag="orders",
    response=OrderOut,
    roles=WORKERS,
    errors=(409, 422),
)
def place_order(user: User, order_id: int) -> OrderOut:
    """A draft becomes placed: it needs a line, and every line a site contact and items.
    A manager approves it next."""
    _may_work(user)
    order = load(order_id)
    services.place(get_session(), order, by=user)
    commit()
    return order_out(load(order_id))


@operation(
    "POST",
    f"{ORDER}/approve",
    summary="Approve an order",
    tag="orders",
    response=OrderOut,
    roles=("manager",),
    errors=(409, 422),
)
def approve_order(user: User, order_id: int) -> OrderOut:
    """Approve a placed order: its work orders are made from the published decision
    table, in the same transaction (once: approving twice makes one set). Refused (422)
    naming every line whose product no row matches."""
    if not may_approve(user):
        raise NotAllowed("Only a manager approves an order.")
    order = load(order_id)
    lifecycle.approve(get_session(), order, by=user)
    commit()
    return order_out(load(order_id))


@operation(
    "POST",
    f"{ORDER}/close",
    summary="Close an order",
    tag="orders",
    response=OrderOut,
    roles=WORKERS,
    errors=(409,),
)
def close_order(user: User, order_id: int) -> OrderOut:
    """Close an order that is ready to close. While any of its work orders is open the
    answer is 409 and the detail names each one with its status."""
    _may_work(user)
    order = load(order_id)
    lifecycle.close(get_session(), order, by=user)
    commit()
    return order_out(load(order_id))


def load(order_id: int) -> Order:
    session = get_session()
    session.expire_all()
    return order_for_team(session, order_id)
