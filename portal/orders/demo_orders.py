"""The demo's orders: one in every state, made through the order services as people would
(after the catalogue demo has published a decision table, portal/orders/demo_catalogue.py).

Olu Adebayo (orders@demo.test, the Orders queue) fulfils them and Morgan Lee
(manager@demo.test) approves; the customers are the demo's London accounts. One order in
fulfilment has a line past its point of no return (its work order started).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import CustomerAccount, User
from portal.orders import inflight, lifecycle, services
from portal.orders.models import DecisionRow, Order, Product
from portal.orders.planning import plan_lines, published_table
from portal.orders.queries import live_links, load_lines, may_handle_orders
from portal.workorders.status import set_work_order_status

FULFILLER = "orders@demo.test"
FALLBACK_FULFILLER = "scheduler@demo.test"
APPROVER = "manager@demo.test"
# The demo catalogue's fibre install (a field visit) and static IP (back office).
PREFERRED = ("FIBRE-INSTALL", "STATIC-IP")
# (account, the state its order ends in, products per line by catalogue position)
ORDERS = [
    ("Harbour Lane Dental", "draft", [[0]]),
    ("Riverside Bakery", "placed", [[0, 1]]),
    ("Ana Silva", "rejected", [[0]]),
    ("Harbour Lane Dental", "approved", [[0], [1]]),
    ("Harbour Lane Dental", "in_fulfilment", [[0, 1], [0]]),
    ("Riverside Bakery", "ready_to_close", [[1]]),
    ("Ana Silva", "closed", [[1]]),
    ("Riverside Bakery", "cancelled", [[0]]),
]


def _products(session: so.Session) -> list[Product]:
    """A field product and a back-office one from the demo catalogue (by code), else the
    first two active products."""
    by_code = {
        p.code: p
        for p in session.scalars(sa.select(Product).where(Product.active).order_by(Product.id))
    }
    chosen = [by_code[c] for c in PREFERRED if c in by_code]
    return chosen if len(chosen) == len(PREFERRED) else list(by_code.values())[:2]


def _user(session: so.Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == email))


def load_orders_demo(session: so.Session) -> list[Order]:
    """Make the demo's orders (none when there is no published decision table, no active
    product or no demo people); returns them."""
    table = published_table(session)
    products = _products(session)
    fulfiller = _user(session, FULFILLER) or _user(session, FALLBACK_FULFILLER)
    manager = _user(session, APPROVER)
    if table is None or not products or fulfiller is None or manager is None:
        return []
    if not may_handle_orders(session, fulfiller):
        fulfiller = _user(session, FALLBACK_FULFILLER)
    made = []
    for account_name, state, lines in ORDERS:
        account = session.scalar(
            sa.select(CustomerAccount).where(CustomerAccount.name == account_name)
        )
        if account is None or len(account.locations) < len(lines):
            continue
        order = _draft(session, account, lines, products, fulfiller)
        if order is not None:
            _bring_to(session, order, state, fulfiller, manager, table)
            made.append(order)
    return made


def _draft(session, account, lines, products, by: User) -> Order | None:
    contact = account.contacts[0] if account.contacts else None
    order = services.create_order(session, account, fulfilment_user=by, by=by, note="Demo order")
    for location, picks in zip(account.locations, lines, strict=False):
        line = services.add_line(session, order, location, contact=contact, by=by)
        chosen = {products[i % len(products)].id: 1 for i in picks}
        services.set_items(session, line, chosen, by=by)
    session.expire(order, ["lines"])
    return order


def _needs_visit(session: so.Session, link) -> bool:
    row = session.get(DecisionRow, link.decision_row_id) if link.decision_row_id else None
    return row is not None and row.needs_appointment


def _bring_to(session, order: Order, state: str, by: User, manager: User, table) -> None:
    if state == "draft":
        return
    if state == "cancelled":
        inflight.cancel(session, order, by=by, reason="The customer found another supplier")
        return
    services.place(session, order, by=by)
    if state == "placed":
        return
    if state == "rejected":
        services.reject(session, order, by=manager, reason="Outside our service area for now")
        return
    if not plan_lines(load_lines(session, order), table).ok:
        return  # the table does not cover these products: leave it placed
    lifecycle.approve(session, order, by=manager)
    links = live_links(session, order)
    if state == "in_fulfilment" and links:
        # The back office started its work on line 1 (a field visit starts only once it
        # is booked): the line is past its point of no return.
        office = [link for link in links if not _needs_visit(session, link)]
        started = (office or links)[0].work_order
        set_work_order_status(
            session, started, "in_progress", by=by, why="Taken by the back office"
        )
    elif state in ("ready_to_close", "closed"):
        for link in links:
            work_order = link.work_order
            for status in ("in_progress", "completed", "closed"):
                set_work_order_status(session, work_order, status, by=by, why="Done")
        if state == "closed":
            lifecycle.close(session, order, by=by)
    session.flush()
