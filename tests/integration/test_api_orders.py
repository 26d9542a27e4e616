"""Orders through the API: draft, add a line, place, approve, read, list, close; who may
(schedulers up and the Orders queue; managers approve), and bad input as problems."""

from __future__ import annotations

import pytest

from portal.api.tokens import create_token
from portal.orders.models import DecisionRow, DecisionTable, Order, Product
from tests.case_factories import create_backoffice_user, create_queue
from tests.factories import create_location, create_user
from tests.integration.api_world import bearer, make_world

ORDERS = "/api/v1/orders"


@pytest.fixture
def world(session, frozen_now):
    world = make_world(session, frozen_now)
    manager = create_user(session, role="manager", full_name="Mia Manager")
    olu = create_backoffice_user(session, full_name="Olu Orders")
    fay = create_backoffice_user(session, full_name="Fay Finance")
    create_queue(session, slug="orders", name="Orders", members=[olu])
    broadband = Product(
        code="BB", name="Broadband install", needs_site_visit=True, service_id=world.service.id
    )
    router = Product(code="RTR", name="Spare router")
    session.add_all([broadband, router])
    session.flush()
    table = DecisionTable(version=1, status="published")
    table.rows = [
        DecisionRow(
            position=1,
            product_id=broadband.id,
            service_id=world.service.id,
            needs_appointment=True,
        )
    ]
    session.add(table)
    for name, user in (("manager", manager), ("olu", olu), ("fay", fay)):
        world.tokens[name] = create_token(session, user, "tests")[1]
    session.commit()
    return world.add(manager=manager, olu=olu)


def draft(client, world, who="scheduler"):
    response = client.post(
        ORDERS,
        json={"account_id": world.account.id, "fulfilment_user_id": world.scheduler.id},
        headers=world.headers(who),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def add_line(client, world, order_id, items=None, **body):
    line = {
        "location_id": world.location.id,
        "contact_id": world.contact.id,
        "items": items or [{"product_code": "BB", "quantity": 2}],
        **body,
    }
    return client.post(f"{ORDERS}/{order_id}/lines", json=line, headers=world.headers("scheduler"))


def placed(client, world, items=None):
    order = draft(client, world)
    assert add_line(client, world, order["id"], items).status_code == 201
    response = client.post(f"{ORDERS}/{order['id']}/place", headers=world.headers("scheduler"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_order_is_drafted_lined_placed_and_approved(client, world, session):
    order = draft(client, world)
    assert (order["status"], order["number"]) == ("draft", f"ORD-{order['id']:06d}")
    assert order["fulfilment_user_id"] == world.scheduler.id

    lined = add_line(client, world, order["id"]).get_json()
    assert lined["lines"][0]["location"]["id"] == world.location.id
    assert lined["lines"][0]["items"] == [
        {
            "product_id": lined["lines"][0]["items"][0]["product_id"],
            "product_code": "BB",
            "product_name": "Broadband install",
            "quantity": 2,
        }
    ]

    response = client.post(f"{ORDERS}/{order['id']}/place", headers=world.headers("scheduler"))
    assert response.get_json()["status"] == "placed"

    response = client.post(f"{ORDERS}/{order['id']}/approve", headers=world.headers("manager"))
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "approved"
    assert body["decision_table_version"] == 1
    work_orders = body["lines"][0]["work_orders"]
    assert [w["status"] for w in work_orders] == ["new", "new"]
    assert all(w["number"].startswith("WO-") for w in work_orders)


def test_an_order_is_read_and_listed(client, world):
    order = placed(client, world)
    got = client.get(f"{ORDERS}/{order['id']}", headers=world.headers("scheduler"))
    assert got.status_code == 200 and got.get_json()["number"] == order["number"]
    listed = client.get(f"{ORDERS}?status=placed", headers=world.headers("scheduler")).get_json()
    assert [o["id"] for o in listed["items"]] == [order["id"]]
    assert (
        client.get(f"{ORDERS}?status=draft", headers=world.headers("scheduler")).get_json()["total"]
        == 0
    )


def test_a_scheduler_may_not_approve(client, world, session):
    order = placed(client, world)
    response = client.post(f"{ORDERS}/{order['id']}/approve", headers=world.headers("scheduler"))
    assert response.status_code == 403
    assert session.get(Order, order["id"]).status == "placed"


def test_approval_with_an_unmatched_product_names_the_line(client, world):
    order = placed(client, world, items=[{"product_code": "RTR", "quantity": 1}])
    response = client.post(f"{ORDERS}/{order['id']}/approve", headers=world.headers("manager"))
    assert response.status_code == 422
    assert "Line 1" in response.get_json()["detail"]


def test_closing_with_open_work_orders_is_409_naming_them(client, world):
    order = placed(client, world)
    approved = client.post(
        f"{ORDERS}/{order['id']}/approve", headers=world.headers("manager")
    ).get_json()
    response = client.post(f"{ORDERS}/{order['id']}/close", headers=world.headers("scheduler"))
    detail = response.get_json()["detail"]
    assert response.status_code == 409
    assert all(w["number"] in detail for w in approved["lines"][0]["work_orders"])


def test_a_member_of_the_orders_queue_works_orders_and_another_back_office_user_not(client, world):
    assert client.get(ORDERS, headers=world.headers("olu")).status_code == 200
    assert client.get(ORDERS, headers=world.headers("fay")).status_code == 403
    assert client.get(ORDERS, headers=world.headers("agent")).status_code == 403
    assert client.get(ORDERS, headers=world.headers("customer")).status_code == 403


def test_an_unknown_product_code_is_404_naming_the_item(client, world, session):
    order = draft(client, world)
    response = add_line(client, world, order["id"], items=[{"product_code": "NOPE", "quantity": 1}])
    assert response.status_code == 404
    assert response.get_json()["field"] == "items.0.product_code"
    assert session.get(Order, order["id"]).lines == []


def test_another_accounts_location_is_404(client, world):
    order = draft(client, world)
    response = add_line(client, world, order["id"], location_id=world.stranger_location.id)
    assert response.status_code == 404
    assert response.get_json()["field"] == "location_id"


def test_a_quantity_out_of_range_is_422(client, world):
    order = draft(client, world)
    response = add_line(client, world, order["id"], items=[{"product_code": "BB", "quantity": 0}])
    assert response.status_code == 422


def test_an_unknown_account_is_404(client, world):
    response = client.post(
        ORDERS,
        json={"account_id": 999999, "fulfilment_user_id": world.scheduler.id},
        headers=world.headers("scheduler"),
    )
    assert response.status_code == 404
    assert response.get_json()["field"] == "account_id"


def test_an_order_that_does_not_exist_is_404(client, world):
    assert client.get(f"{ORDERS}/999999", headers=world.headers("scheduler")).status_code == 404


def test_the_operations_are_in_the_openapi_document(client, world):
    document = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/orders", "/api/v1/orders/{order_id}/close"} <= set(document["paths"])


def test_no_token_is_401(client, world):
    assert client.get(ORDERS, headers=bearer("pt_nope")).status_code == 401


def test_the_fulfilment_user_is_the_token_user_when_left_out(client, world):
    response = client.post(
        ORDERS, json={"account_id": world.account.id}, headers=world.headers("olu")
    )
    assert response.status_code == 201
    assert response.get_json()["fulfilment_user_id"] == world["olu"].id


def test_a_fulfilment_user_who_may_not_handle_orders_is_refused(client, world):
    response = client.post(
        ORDERS,
        json={"account_id": world.account.id, "fulfilment_user_id": world.agent.user.id},
        headers=world.headers("scheduler"),
    )
    assert response.status_code == 422
    assert response.get_json()["field"] == "fulfilment_user_id"


def test_placing_a_draft_without_lines_is_422_saying_why(client, world, session):
    order = draft(client, world)
    response = client.post(f"{ORDERS}/{order['id']}/place", headers=world.headers("scheduler"))
    assert response.status_code == 422
    assert response.get_json()["detail"]
    assert session.get(Order, order["id"]).status == "draft"


def test_a_line_for_a_placed_order_is_409(client, world, session):
    order = placed(client, world)
    second = create_location(session, world.account, label="Annexe")
    session.commit()
    response = add_line(client, world, order["id"], location_id=second.id)
    assert response.status_code == 409
    assert len(session.get(Order, order["id"]).lines) == 1
