"""The customer's data download holds its account's orders (never a draft), each line's
address, products and work orders, without who works on them inside the organisation."""

from __future__ import annotations

from tests.factories import NOW
from tests.order_factories import build_order_world, create_approved, create_draft


def test_the_export_holds_the_accounts_orders_but_no_draft(session, client, auth, frozen_now):
    frozen_now(NOW)
    world = build_order_world(session)
    approved = create_approved(session, world)
    draft = create_draft(session, world)
    session.commit()
    auth.login(world.customer.email)

    data = client.get("/profile/data.json").get_json()

    numbers = [order["number"] for order in data["orders"]]
    assert numbers == [approved.number] and draft.number not in numbers
    exported = data["orders"][0]
    assert exported["lines"][0]["location"]["id"] == approved.lines[0].location_id
    assert exported["lines"][0]["work_orders"][0]["number"].startswith("WO-")
    assert "fulfilment_user_name" not in exported and "approver_id" not in exported
