"""What approving an order would make (portal/orders/planning.py) with tables managed in
settings: one planned work order per unit, rows matched per line and location, an
unmatched product named, a product that makes no work, and an order approved with
version 1 keeping version 1 after version 2 is published."""

from __future__ import annotations

import pytest

from portal.orders import catalogue, tables
from portal.orders.models import Order, OrderLine, OrderLineItem
from portal.orders.planning import plan_order
from portal.queues.services import create_queue
from tests.factories import create_account, create_location, create_service, create_territory


@pytest.fixture
def shop(session):
    """Three products, the Orders queue, a field service, and an account with two sites
    (one in London at SW1A, one elsewhere at SE1)."""
    service = create_service(session, name="Fibre installation")
    queue = create_queue(session, name="Orders")
    products = {
        code: catalogue.create_product(
            session, catalogue.ProductData(code=code, name=name, attributes=attributes)
        )
        for code, name, attributes in [
            ("FIBRE", "Fibre line", "category=broadband"),
            ("ROUTER", "Router", "category=equipment"),
            ("LICENCE", "Licence", "category=licence"),
        ]
    }
    london = create_territory(session, name="London")
    account = create_account(session)
    head = create_location(
        session, account, label="Head office", postal_code="sw1a 1aa", territory=london
    )
    shop = create_location(session, account, label="Shop", postal_code="SE1 9PG")
    return {
        "service": service,
        "queue": queue,
        "products": products,
        "london": london,
        "account": account,
        "head": head,
        "shop": shop,
    }


def publish(session, *rows: tables.RowData):
    draft = tables.start_draft(session)
    for copied in list(draft.rows):
        tables.delete_row(session, copied)
    session.refresh(draft)
    for data in rows:
        tables.add_row(session, draft, data)
    return tables.publish(session, draft)


def an_order(session, shop, *lines) -> Order:
    """An order with `lines`: (location, {product code: quantity}) each."""
    order = Order(account=shop["account"])
    for position, (location, items) in enumerate(lines, start=1):
        line = OrderLine(position=position, location=location)
        for code, quantity in items.items():
            line.items.append(OrderLineItem(product=shop["products"][code], quantity=quantity))
        order.lines.append(line)
    session.add(order)
    session.flush()
    return order


def fibre_visit(shop, **overrides) -> tables.RowData:
    values = {
        "product_id": shop["products"]["FIBRE"].id,
        "summary": "Install {product} at {location}",
        "service_id": shop["service"].id,
        "needs_appointment": True,
    }
    return tables.RowData(**{**values, **overrides})


def review(shop, **overrides) -> tables.RowData:
    values = {
        "is_default": True,
        "summary": "Review {code}",
        "queue_id": shop["queue"].id,
        "tasks": "Look at it\nDecide",
    }
    return tables.RowData(**{**values, **overrides})


def test_a_quantity_of_three_plans_three_work_orders(session, shop):
    publish(session, fibre_visit(shop), review(shop))
    order = an_order(session, shop, (shop["head"], {"FIBRE": 3}))
    plan = plan_order(session, order)
    assert plan.ok
    assert [(w.product_code, w.unit) for w in plan.work_orders] == [
        ("FIBRE", 1),
        ("FIBRE", 2),
        ("FIBRE", 3),
    ]
    first = plan.work_orders[0]
    assert first.summary == "Install Fibre line at Head office"
    assert (first.service_id, first.needs_appointment, first.queue_id) == (
        shop["service"].id,
        True,
        None,
    )


def test_the_default_row_plans_back_office_work_with_its_tasks(session, shop):
    publish(session, fibre_visit(shop), review(shop))
    order = an_order(session, shop, (shop["shop"], {"ROUTER": 1}))
    [planned] = plan_order(session, order).work_orders
    assert (planned.summary, planned.tasks, planned.queue_id) == (
        "Review ROUTER",
        ("Look at it", "Decide"),
        shop["queue"].id,
    )


def test_an_unmatched_product_is_named_in_the_problems(session, shop):
    publish(session, fibre_visit(shop))
    order = an_order(
        session, shop, (shop["head"], {"FIBRE": 1}), (shop["shop"], {"ROUTER": 2, "FIBRE": 1})
    )
    plan = plan_order(session, order)
    assert not plan.ok
    assert plan.problems() == [
        "Line 2 (Shop): no row of the decision table matches Router (ROUTER)."
    ]
    assert len(plan.work_orders) == 2


def test_no_published_table_is_a_problem(session, shop):
    order = an_order(session, shop, (shop["head"], {"FIBRE": 1}))
    plan = plan_order(session, order)
    assert not plan.ok
    assert "no published decision table" in plan.problems()[0]


def test_a_row_that_makes_no_work_order_plans_none(session, shop):
    publish(
        session,
        tables.RowData(attributes="category=licence", creates_work_order=False),
        review(shop),
    )
    order = an_order(session, shop, (shop["head"], {"LICENCE": 2}))
    plan = plan_order(session, order)
    assert plan.ok and plan.work_orders == []
    assert plan.no_work == [(order.lines[0].id, "LICENCE")]


def test_territory_and_postcode_rows_choose_by_the_line_location(session, shop):
    publish(
        session,
        fibre_visit(shop, territory_id=shop["london"].id, summary="London: {location}"),
        fibre_visit(shop, postal_prefix="se1", summary="SE1: {location}"),
        review(shop),
    )
    order = an_order(session, shop, (shop["head"], {"FIBRE": 1}), (shop["shop"], {"FIBRE": 1}))
    assert [w.summary for w in plan_order(session, order).work_orders] == [
        "London: Head office",
        "SE1: Shop",
    ]


def test_an_approved_order_keeps_planning_with_its_version(session, shop):
    first = publish(session, fibre_visit(shop, summary="Version 1 at {location}"), review(shop))
    order = an_order(session, shop, (shop["head"], {"FIBRE": 1}))
    order.decision_table_id = first.id  # approval keeps the version it decomposed with
    session.flush()
    publish(session, fibre_visit(shop, summary="Version 2 at {location}"), review(shop))
    session.refresh(first)
    assert first.status == "retired"
    assert [w.summary for w in plan_order(session, order).work_orders] == [
        "Version 1 at Head office"
    ]
    fresh = an_order(session, shop, (shop["shop"], {"FIBRE": 1}))
    assert [w.summary for w in plan_order(session, fresh).work_orders] == ["Version 2 at Shop"]
