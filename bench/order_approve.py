"""Order approval benchmark: prints name=value lines. PostgreSQL only.

Scenario (issue #16): an order of 200 lines (200 addresses of one account), each with
one to three products: fibre broadband on every line (a field visit: a visit link to the
site contact), a static IP address on every second line (back office: two tasks in the
Orders queue), a licence on every third (matched, makes no work order). The published
decision table has 20 rows before the default one, the matching rows last, so every
product is tried against most of them. An endpoint subscribes to `order.approved`.

  order_approve_ms           approve() and the commit, median of 3 orders: the plan (the
                             decision table), 300 work orders, their links, 200 tasks,
                             timeline entries and work notes, visit links, the webhook
  order_approve_max_ms       the slowest of the 3
  order_approve_work_orders  work orders one approval made
  order_approve_statements   SQL statements one approval sent (round trips: what a loaded
                             machine makes slow)
  order_approve_visit_links  "book your visit" links it sent (200; 0 on a branch without
                             booking's visit links, whose 4 statements each it then saves)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import make_app, server_reachable, temporary_database  # noqa: E402  (bench/ is on sys.path)

from portal.accounts.models import ServiceLocation, User  # noqa: E402
from portal.accounts.services import add_contact, create_customer_account  # noqa: E402
from portal.booking.models import Service, VisitLink  # noqa: E402
from portal.db import get_session  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.orders import lifecycle, services  # noqa: E402
from portal.orders.models import (  # noqa: E402
    DecisionRow,
    DecisionTable,
    Order,
    OrderLine,
    OrderLineItem,
    OrderWorkOrder,
    Product,
)
from portal.queues.models import Queue, QueueMember  # noqa: E402
from portal.timeutil import freeze  # noqa: E402
from portal.webhooks.services import create_endpoint  # noqa: E402

PG_SERVER = os.environ.get(
    "PORTAL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/"
)
LINES = int(os.environ.get("ORDER_BENCH_LINES", "200"))
RUNS = 3
FILLER_ROWS = 20
NOW = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)


def build(app) -> tuple[int, list[int]]:
    """The catalogue, the table, the people and RUNS placed orders; (manager id, order ids)."""
    with app.app_context():
        session = get_session()
        manager = User(email="manager@bench.test", full_name="Bench Manager", role="manager")
        scheduler = User(email="sched@bench.test", full_name="Bench Scheduler", role="scheduler")
        member = User(email="orders@bench.test", full_name="Bench Orders", role="backoffice")
        session.add_all([manager, scheduler, member])
        queue = Queue(slug="orders", name="Orders")
        session.add(queue)
        session.flush()
        session.add(QueueMember(queue_id=queue.id, user_id=member.id))
        service = Service(code="fibre", name="Fibre installation", duration_minutes=120)
        session.add(service)
        session.flush()
        fibre = Product(code="FIBRE", name="Fibre broadband", needs_site_visit=True)
        fibre.service_id = service.id
        static_ip = Product(code="STATIC-IP", name="Static IP address", attributes={"kind": "ip"})
        licence = Product(code="LICENCE", name="Security licence")
        session.add_all([fibre, static_ip, licence])
        session.flush()
        table = DecisionTable(version=1, status="published")
        rows = [
            DecisionRow(
                position=n + 1, label=f"Other {n}", postal_prefix=f"ZZ{n}", queue_id=queue.id
            )
            for n in range(FILLER_ROWS)
        ]
        rows += [
            DecisionRow(
                position=FILLER_ROWS + 1,
                product_id=fibre.id,
                summary="{product} install at {location}",
                service_id=service.id,
                needs_appointment=True,
            ),
            DecisionRow(
                position=FILLER_ROWS + 2,
                attributes={"kind": "ip"},
                queue_id=queue.id,
                tasks=["Reserve the address", "Configure the router"],
            ),
            DecisionRow(position=FILLER_ROWS + 3, product_id=licence.id, creates_work_order=False),
            DecisionRow(position=FILLER_ROWS + 4, is_default=True, queue_id=queue.id),
        ]
        table.rows.extend(rows)
        session.add(table)
        create_endpoint(
            session, url="http://127.0.0.1:9/in", events=["order.approved"], allow_private=True
        )
        orders = []
        for run in range(RUNS):
            account = create_customer_account(session, name=f"Bench Account {run}")
            contact = add_contact(
                session, account, full_name="Site Person", email=f"site{run}@bench.test"
            )
            locations = session.scalars(
                sa.insert(ServiceLocation).returning(
                    ServiceLocation.id, sort_by_parameter_order=True
                ),
                [
                    {
                        "account_id": account.id,
                        "label": f"Site {n}",
                        "street": f"{n} High Street",
                        "city": "London",
                        "postal_code": "SE1 9PG",
                        "country": "GB",
                    }
                    for n in range(LINES)
                ],
            ).all()
            order = services.create_order(session, account, fulfilment_user=scheduler, by=scheduler)
            line_ids = session.scalars(
                sa.insert(OrderLine).returning(OrderLine.id, sort_by_parameter_order=True),
                [
                    {
                        "order_id": order.id,
                        "position": n + 1,
                        "location_id": location_id,
                        "contact_id": contact.id,
                    }
                    for n, location_id in enumerate(locations)
                ],
            ).all()
            items = []
            for n, line_id in enumerate(line_ids):
                items.append({"line_id": line_id, "product_id": fibre.id, "quantity": 1})
                if n % 2 == 0:
                    items.append({"line_id": line_id, "product_id": static_ip.id, "quantity": 1})
                if n % 3 == 0:
                    items.append({"line_id": line_id, "product_id": licence.id, "quantity": 1})
            session.execute(sa.insert(OrderLineItem), items)
            session.expire(order, ["lines"])
            services.place(session, order, by=scheduler)
            orders.append(order.id)
        session.commit()
        session.execute(sa.text("ANALYZE"))
        session.commit()
        return manager.id, orders


def approve_once(app, manager_id: int, order_id: int) -> tuple[float, int, int, int]:
    """(seconds, work orders made, SQL statements, visit links sent) for one approval,
    committed."""
    statements = [0]

    def count(*_args, **_kwargs):
        statements[0] += 1

    with app.app_context():
        session = get_session()
        manager = session.get(User, manager_id)
        order = session.get(Order, order_id)
        engine = app.extensions["portal.engine"]
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            started = time.perf_counter()
            lifecycle.approve(session, order, by=manager)
            session.commit()
            spent = time.perf_counter() - started
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        made = session.scalar(
            sa.select(sa.func.count())
            .select_from(OrderWorkOrder)
            .where(OrderWorkOrder.order_id == order_id)
        )
        links = session.scalar(
            sa.select(sa.func.count())
            .select_from(VisitLink)
            .join(OrderWorkOrder, OrderWorkOrder.work_order_id == VisitLink.work_order_id)
            .where(OrderWorkOrder.order_id == order_id)
        )
        return spent, made, statements[0], links


def main() -> None:
    if not server_reachable(PG_SERVER):
        print("order_approve_skipped=no PostgreSQL server", file=sys.stderr)
        return
    with temporary_database(PG_SERVER) as url, tempfile.TemporaryDirectory() as instance:
        upgrade(url)
        app = make_app(url, instance)
        freeze(NOW)
        manager_id, order_ids = build(app)
        results = [approve_once(app, manager_id, order_id) for order_id in order_ids]
        app.extensions["portal.engine"].dispose()
    times = [spent * 1000 for spent, *_ in results]
    print(f"order_approve_ms={statistics.median(times):.0f}")
    print(f"order_approve_max_ms={max(times):.0f}")
    print(f"order_approve_work_orders={results[0][1]}")
    print(f"order_approve_statements={results[0][2]}")
    print(f"order_approve_visit_links={results[0][3]}")


if __name__ == "__main__":
    main()
