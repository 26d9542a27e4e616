"""Factories for orders: products, a published decision table, an Orders queue, and
orders made through the order services (draft, placed, approved).

`build_order_world(session)` makes what an order needs: a manager who approves, a
scheduler who fulfils, a back-office member of the Orders queue, a customer account with
a site contact and two addresses, a bookable field service, and three products with a
published decision table (version 1) that matches them all:

  FIBRE   needs a site visit     -> a field work order (visit link to the site contact)
  STATIC  back office            -> a work order whose two tasks wait in the Orders queue
  LICENCE                        -> no work order (the row matches, makes nothing)

and a default row at the end (a back-office review in the Orders queue), unless
`default_row=False`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, CustomerAccount, ServiceLocation, User
from portal.booking.models import Service
from portal.orders import lifecycle, services
from portal.orders.models import (
    DecisionRow,
    DecisionTable,
    Order,
    OrderLine,
    OrderWorkOrder,
    Product,
)
from portal.queues.models import Queue, QueueMember
from portal.workforce.models import Agent
from portal.workorders.models import WorkOrder
from portal.workorders.status import set_work_order_status
from tests.factories import (
    create_agent,
    create_customer,
    create_location,
    create_service,
    create_user,
    ensure_policy,
)

_numbers = itertools.count(1)


def create_product(session: so.Session, **overrides) -> Product:
    """An active product (a unique code); `needs_site_visit=True` wants a `service`."""
    n = next(_numbers)
    values = {"code": f"PROD-{n}", "name": f"Product {n}", "attributes": {}, **overrides}
    product = Product(**values)
    session.add(product)
    session.flush()
    return product


def create_decision_table(
    session: so.Session,
    rows: Sequence[Mapping[str, Any]],
    *,
    status: str = "published",
    version: int | None = None,
) -> DecisionTable:
    """A decision table version with `rows` (DecisionRow fields; positions 1, 2, ... in
    the order given). A new published version retires the one published before."""
    if status == "published":
        for old in session.scalars(
            sa.select(DecisionTable).where(DecisionTable.status == "published")
        ):
            old.status = "retired"
        session.flush()
    if version is None:
        version = (session.scalar(sa.select(sa.func.max(DecisionTable.version))) or 0) + 1
    table = DecisionTable(version=version, status=status)
    for position, row in enumerate(rows, start=1):
        table.rows.append(DecisionRow(position=position, **row))
    session.add(table)
    session.flush()
    return table


def orders_queue(session: so.Session, *, members: Sequence[User] = ()) -> Queue:
    """The Orders queue (slug "orders"), made on first use, with these members added."""
    queue = session.scalar(sa.select(Queue).where(Queue.slug == "orders"))
    if queue is None:
        queue = Queue(slug="orders", name="Orders", description="Order fulfilment")
        session.add(queue)
        session.flush()
    for user in members:
        if session.get(QueueMember, (queue.id, user.id)) is None:
            session.add(QueueMember(queue_id=queue.id, user_id=user.id))
    session.flush()
    return queue


@dataclass(kw_only=True)
class OrderWorld:
    manager: User
    scheduler: User
    backoffice: User
    customer: User
    account: CustomerAccount
    contact: Contact
    locations: list[ServiceLocation]
    service: Service
    agent: Agent
    queue: Queue
    fibre: Product
    static_ip: Product
    licence: Product
    table: DecisionTable
    named: dict[str, Any] = field(default_factory=dict)

    @property
    def location(self) -> ServiceLocation:
        return self.locations[0]


def build_order_world(
    session: so.Session, *, default_row: bool = True, locations: int = 2
) -> OrderWorld:
    """See the module's docstring."""
    ensure_policy(session, window_minutes=120, min_notice_minutes=60, horizon_days=28)
    manager = create_user(session, role="manager", full_name="Mia Manager")
    scheduler = create_user(session, role="scheduler", full_name="Olu Adebayo")
    backoffice = create_user(session, role="backoffice", full_name="Bo Office")
    queue = orders_queue(session, members=[backoffice])
    customer, account, contact = create_customer(session, full_name="Sam Site")
    places = [create_location(session, account, label=f"Site {i + 1}") for i in range(locations)]
    service = create_service(session, name="Fibre installation")
    agent = create_agent(session)
    fibre = create_product(
        session, name="Fibre broadband", needs_site_visit=True, service_id=service.id
    )
    static_ip = create_product(session, name="Static IP address", attributes={"kind": "ip"})
    licence = create_product(session, name="Security licence")
    rows: list[dict[str, Any]] = [
        {
            "label": "Fibre install",
            "product_id": fibre.id,
            "summary": "{product} install at {location}",
            "service_id": service.id,
            "needs_appointment": True,
        },
        {
            "label": "Static IP",
            "attributes": {"kind": "ip"},
            "summary": "{product} for {location}",
            "queue_id": queue.id,
            "tasks": ["Reserve the address", "Configure the router"],
        },
        {"label": "Licence", "product_id": licence.id, "creates_work_order": False},
    ]
    if default_row:
        rows.append(
            {
                "label": "Anything else",
                "is_default": True,
                "summary": "Review {product} for {location}",
                "queue_id": queue.id,
                "tasks": ["Review the order line"],
            }
        )
    table = create_decision_table(session, rows)
    return OrderWorld(
        manager=manager,
        scheduler=scheduler,
        backoffice=backoffice,
        customer=customer,
        account=account,
        contact=contact,
        locations=places,
        service=service,
        agent=agent,
        queue=queue,
        fibre=fibre,
        static_ip=static_ip,
        licence=licence,
        table=table,
    )


def create_draft(
    session: so.Session,
    world: OrderWorld,
    lines: Sequence[Mapping[Product, int]] | None = None,
    *,
    by: User | None = None,
    contact: Contact | None = None,
) -> Order:
    """A draft of the world's account through the services: one line per mapping
    ({product: quantity}), at the world's addresses in turn (more are made as needed).
    Default: one line with one fibre install."""
    by = by or world.scheduler
    lines = [{world.fibre: 1}] if lines is None else lines
    order = services.create_order(session, world.account, fulfilment_user=world.scheduler, by=by)
    for i, items in enumerate(lines):
        if i < len(world.locations):
            location = world.locations[i]
        else:
            location = create_location(session, world.account, label=f"Site {i + 1}")
            world.locations.append(location)
        line = services.add_line(session, order, location, contact=contact or world.contact, by=by)
        services.set_items(session, line, {p.id: q for p, q in items.items()}, by=by)
    session.flush()
    session.expire(order, ["lines"])
    return order


def create_placed(session: so.Session, world: OrderWorld, lines=None, **kwargs) -> Order:
    order = create_draft(session, world, lines, **kwargs)
    return services.place(session, order, by=kwargs.get("by") or world.scheduler)


def create_approved(session: so.Session, world: OrderWorld, lines=None, **kwargs) -> Order:
    order = create_placed(session, world, lines, **kwargs)
    return lifecycle.approve(session, order, by=world.manager)


def line_of(order: Order, position: int = 1) -> OrderLine:
    return next(line for line in order.lines if line.position == position)


def work_orders_of(session: so.Session, order: Order, *, live: bool = True) -> list[WorkOrder]:
    """The order's work orders (live ones only unless `live=False`), oldest first."""
    query = (
        sa.select(WorkOrder)
        .join(OrderWorkOrder, OrderWorkOrder.work_order_id == WorkOrder.id)
        .where(OrderWorkOrder.order_id == order.id)
        .order_by(WorkOrder.id)
    )
    if live:
        query = query.where(OrderWorkOrder.superseded_at.is_(None))
    return list(session.scalars(query))


# The way a work order goes, one step at a time, to each status (through the status
# service, so the order hears of every step).
PATH = ("scheduled", "in_progress", "completed", "closed")


def advance(
    session: so.Session, work_order: WorkOrder, to: str, *, by: User | None, why: str = ""
) -> WorkOrder:
    """Move the work order along new -> scheduled -> in progress -> completed -> closed
    until it is `to` ("cancelled": straight there)."""
    if to == "cancelled":
        set_work_order_status(session, work_order, "cancelled", by=by, why=why)
        return work_order
    start = PATH.index(work_order.status) + 1 if work_order.status in PATH else 0
    for status in PATH[start : PATH.index(to) + 1]:
        set_work_order_status(session, work_order, status, by=by, why=why)
    session.flush()
    return work_order
