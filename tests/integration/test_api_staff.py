"""Staff through the API: window suggestions, assigning a task, work orders and their
timeline."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.integration.api_world import make_world


@pytest.fixture
def world(session, frozen_now):
    return make_world(session, frozen_now)


@pytest.fixture
def booked(client, world) -> dict:
    return world.book(client, who="scheduler").get_json()


def test_a_scheduler_gets_ranked_suggestions_with_reasons(client, world, booked):
    response = client.get(
        f"/api/v1/appointments/{booked['id']}/suggestions?limit=3",
        headers=world.headers("scheduler"),
    )

    body = response.get_json()
    assert response.status_code == 200
    assert 1 <= len(body["items"]) <= 3
    assert body["items"][0]["explanation"]
    scores = [s["score"] for s in body["items"]]
    assert scores == sorted(scores, reverse=True)


def test_suggestions_are_not_for_customers(client, world, booked):
    response = client.get(
        f"/api/v1/appointments/{booked['id']}/suggestions", headers=world.headers()
    )

    assert response.status_code == 403


def test_suggestions_for_an_unknown_appointment_are_404(client, world):
    response = client.get(
        "/api/v1/appointments/999/suggestions", headers=world.headers("scheduler")
    )

    assert response.status_code == 404


def test_suggestions_with_too_many_days_are_422_naming_days(client, world, booked):
    response = client.get(
        f"/api/v1/appointments/{booked['id']}/suggestions?days=99",
        headers=world.headers("scheduler"),
    )

    assert response.status_code == 422
    assert response.get_json()["field"] == "days"


def test_a_scheduler_assigns_a_task_to_a_free_agent(client, world, booked):
    task = booked["tasks"][0]
    other = next(a for a in world.agents if a.id != task["agent_id"])

    response = client.post(
        f"/api/v1/tasks/{task['id']}/assign",
        json={"agent_id": other.id},
        headers=world.headers("scheduler"),
    )

    assert response.status_code == 200
    assert response.get_json()["agent_id"] == other.id


def test_assigning_to_the_same_agent_is_422_naming_agent(client, world, booked):
    task = booked["tasks"][0]

    response = client.post(
        f"/api/v1/tasks/{task['id']}/assign",
        json={"agent_id": task["agent_id"]},
        headers=world.headers("scheduler"),
    )

    assert response.status_code == 422
    assert response.get_json()["field"] == "agent"


def test_assigning_is_for_schedulers_only(client, world, booked):
    task = booked["tasks"][0]

    response = client.post(
        f"/api/v1/tasks/{task['id']}/assign",
        json={"agent_id": world.agents[1].id},
        headers=world.headers("agent"),
    )

    assert response.status_code == 403


def test_assigning_an_unknown_task_is_404(client, world):
    response = client.post(
        "/api/v1/tasks/999/assign", json={"agent_id": 1}, headers=world.headers("scheduler")
    )

    assert response.status_code == 404


def test_a_scheduler_lists_work_orders(client, world, booked):
    response = client.get(
        "/api/v1/work-orders?status=scheduled", headers=world.headers("scheduler")
    )

    body = response.get_json()
    assert response.status_code == 200
    assert [w["id"] for w in body["items"]] == [booked["work_order_id"]]


def test_work_orders_are_not_for_customers(client, world):
    assert client.get("/api/v1/work-orders", headers=world.headers()).status_code == 403


def test_listing_work_orders_with_a_bad_page_is_422_naming_page(client, world):
    response = client.get("/api/v1/work-orders?page=0", headers=world.headers("scheduler"))

    assert response.status_code == 422
    assert response.get_json()["field"] == "page"


def test_a_work_orders_timeline_shows_who_did_what(client, world, booked):
    response = client.get(
        f"/api/v1/work-orders/{booked['work_order_id']}/timeline",
        headers=world.headers("scheduler"),
    )

    actions = [e["action"] for e in response.get_json()["items"]]
    assert response.status_code == 200
    assert {"created", "booked", "assigned"} <= set(actions)


def test_an_unknown_work_orders_timeline_is_404(client, world):
    response = client.get("/api/v1/work-orders/999/timeline", headers=world.headers("scheduler"))

    assert response.status_code == 404


def _statements(app, call) -> int:
    engine = app.extensions["portal.engine"]
    seen = []

    def count(*_args):
        seen.append(1)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_listing_appointments_costs_the_same_queries_for_one_or_many(app, client, world):
    starts = ["2026-06-02T07:00:00+00:00", "2026-06-02T09:00:00+00:00"]
    starts += [f"2026-06-0{d}T{h:02d}:00:00+00:00" for d in (3, 4) for h in (7, 9, 11, 13)]

    def listing():
        response = client.get("/api/v1/appointments", headers=world.headers("scheduler"))
        assert response.status_code == 200
        return response.get_json()

    world.book(client, start=starts[0], key="k-0", who="scheduler")
    few = _statements(app, listing)
    for n, start in enumerate(starts[1:], start=1):
        assert world.book(client, start=start, key=f"k-{n}", who="scheduler").status_code == 201
    many = _statements(app, listing)

    assert len(listing()["items"]) == len(starts)
    assert many == few
