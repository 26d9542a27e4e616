"""The demo's orders: one in every state, one line past its point of no return."""

from __future__ import annotations

import pytest

from portal.orders.demo_orders import ORDERS, load_orders_demo
from tests.factories import NOW, create_customer, create_location, create_user
from tests.order_factories import build_order_world, orders_queue


@pytest.fixture
def demo_people(session, frozen_now):
    frozen_now(NOW)
    world = build_order_world(session)
    create_user(session, email="manager@demo.test", role="manager")
    fulfiller = create_user(session, email="orders@demo.test", role="backoffice")
    orders_queue(session, members=[fulfiller])
    for name in {account for account, _, _ in ORDERS}:
        _, account, _ = create_customer(session, account=None)
        account.name = name
        create_location(session, account, label="Shop")
        create_location(session, account, label="Store")
    session.flush()
    return world


def test_the_demo_has_an_order_in_every_state(session, demo_people):
    orders = load_orders_demo(session)

    assert sorted(o.status for o in orders) == sorted(state for _, state, _ in ORDERS)


def test_the_demo_has_a_line_past_its_point_of_no_return(session, demo_people):
    orders = load_orders_demo(session)

    (started,) = [o for o in orders if o.status == "in_fulfilment"]
    assert started.lines[0].ponr_reason.endswith("started")


def test_without_a_published_table_the_demo_makes_no_orders(session, demo_people):
    demo_people.table.status = "retired"
    session.flush()

    assert load_orders_demo(session) == []
