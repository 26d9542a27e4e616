"""The API's catalogue, windows and booking: the same services and rules as the pages."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from portal.api.tokens import create_token
from portal.booking.models import Appointment
from tests.factories import create_appointment, create_service, create_user
from tests.integration.api_world import LATER_WINDOW, WINDOW, bearer, make_world


@pytest.fixture
def world(session, frozen_now):
    return make_world(session, frozen_now)


def windows_url(world, **params) -> str:
    query = {"location": world.location.id, "from": "2026-06-02", "to": "2026-06-02", **params}
    args = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/api/v1/services/{world.service.id}/windows?{args}"


def test_me_says_who_the_token_acts_as(client, world):
    body = client.get("/api/v1/me", headers=world.headers()).get_json()

    assert body["email"] == "ada@example.com"
    assert body["role"] == "customer"
    assert body["account_id"] == world.customer.account_id


def test_services_lists_the_active_ones(client, session, world):
    create_service(session, name="Retired", active=False)

    body = client.get("/api/v1/services", headers=world.headers()).get_json()

    assert [s["name"] for s in body["items"]] == ["Leak repair"]


def test_locations_lists_the_customers_own_addresses(client, world):
    body = client.get("/api/v1/locations", headers=world.headers()).get_json()

    assert [loc["label"] for loc in body["items"]] == ["Shop"]


def test_locations_are_for_customers_only(client, world):
    response = client.get("/api/v1/locations", headers=world.headers("agent"))

    assert response.status_code == 403
    assert response.get_json()["code"] == "not_allowed"


def test_windows_come_in_utc_and_in_the_asked_zone(client, world):
    response = client.get(windows_url(world, tz="America/New_York"), headers=world.headers())

    body = response.get_json()
    assert response.status_code == 200
    assert body["time_zone"] == "America/New_York"
    assert body["location_time_zone"] == "Europe/London"
    first = body["windows"][0]
    assert first["start"] == "2026-06-02T07:00:00Z"
    assert first["local_start"] == "2026-06-02T03:00:00-04:00"


def test_windows_explain_a_day_without_windows(client, world):
    url = windows_url(world, **{"from": "2026-06-06", "to": "2026-06-06"})

    body = client.get(url, headers=world.headers()).get_json()

    assert body["windows"] == []
    assert body["closed_days"] == [
        {
            "date": "2026-06-06",
            "reason": "no_agent",
            "message": "No qualified technician works on this day.",
        }
    ]


def test_windows_name_the_next_free_one_after_an_empty_range(client, world):
    url = windows_url(world, **{"from": "2026-06-06", "to": "2026-06-07"})  # a weekend

    body = client.get(url, headers=world.headers()).get_json()

    assert body["windows"] == []
    # Monday 8 June, the first 08:00-10:00 London window.
    assert body["next_free"]["start"] == "2026-06-08T07:00:00Z"
    assert body["next_free"]["local_start"] == "2026-06-08T08:00:00+01:00"


def test_windows_next_free_is_the_first_listed_when_the_range_has_some(client, world):
    body = client.get(windows_url(world), headers=world.headers()).get_json()

    assert body["windows"]
    assert body["next_free"] == body["windows"][0]


def test_windows_with_an_unknown_zone_are_422_naming_tz(client, world):
    response = client.get(windows_url(world, tz="Mars/Base"), headers=world.headers())

    assert response.status_code == 422
    assert response.get_json()["field"] == "tz"


def test_windows_with_to_before_from_are_422(client, world):
    url = windows_url(world, **{"from": "2026-06-03", "to": "2026-06-02"})

    assert client.get(url, headers=world.headers()).status_code == 422


def test_windows_at_another_accounts_address_are_404(client, world):
    url = windows_url(world, location=world.stranger_location.id)

    assert client.get(url, headers=world.headers()).status_code == 404


def test_windows_are_not_for_agents(client, world):
    assert client.get(windows_url(world), headers=world.headers("agent")).status_code == 403


def test_booking_a_window_creates_the_appointment(client, session, world):
    response = world.book(client)

    body = response.get_json()
    assert response.status_code == 201
    assert body["status"] == "requested"
    assert body["window_start"] == "2026-06-02T07:00:00Z"
    assert body["tasks"] is None  # customers do not see the staff's tasks
    assert session.get(Appointment, body["id"]).account_id == world.customer.account_id


def test_the_same_idempotency_key_books_once(client, session, world):
    first = world.book(client, key="retry-me").get_json()

    again = world.book(client, key="retry-me")

    assert again.get_json()["id"] == first["id"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 1


def test_booking_without_an_idempotency_key_is_422_naming_it(client, world):
    response = client.post(
        "/api/v1/appointments",
        json={"service_id": world.service.id, "location_id": world.location.id, "start": WINDOW},
        headers=world.headers(),
    )

    assert response.status_code == 422
    assert response.get_json()["field"] == "Idempotency-Key"


def test_booking_a_naive_start_is_422_naming_start(client, session, world):
    response = client.post(
        "/api/v1/appointments",
        json={
            "service_id": world.service.id,
            "location_id": world.location.id,
            "start": "2026-06-02T07:00:00",
        },
        headers=world.headers(**{"Idempotency-Key": "k"}),
    )

    assert response.status_code == 422
    assert response.get_json()["field"] == "start"
    assert session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 0


def test_booking_malformed_json_is_400(client, world):
    response = client.post(
        "/api/v1/appointments",
        data="{not json",
        content_type="application/json",
        headers=world.headers(**{"Idempotency-Key": "k"}),
    )

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"


def test_booking_at_another_accounts_address_is_404(client, world):
    response = client.post(
        "/api/v1/appointments",
        json={
            "service_id": world.service.id,
            "location_id": world.stranger_location.id,
            "start": WINDOW,
        },
        headers=world.headers(**{"Idempotency-Key": "k"}),
    )

    assert response.status_code == 404


def test_booking_a_taken_window_is_409_with_the_nearest_free_ones(client, session, world):
    long_job = create_service(session, duration_minutes=150)
    for agent in world.agents:  # both busy 08:00-10:30 London: no start fits the window
        create_appointment(
            session,
            contact=world.stranger.contact,
            start=datetime.fromisoformat(WINDOW),
            service=long_job,
            location=world.stranger_location,
            agents=[agent],
        )

    response = world.book(client)

    body = response.get_json()
    assert response.status_code == 409
    assert body["code"] == "window_taken"
    assert LATER_WINDOW.replace("+00:00", "Z") in [w["start"] for w in body["alternatives"]]


def test_booking_is_not_for_agents(client, world):
    assert world.book(client, who="agent").status_code == 403


def test_a_scheduler_books_for_a_customers_contact(client, world):
    response = world.book(client, who="scheduler")

    body = response.get_json()
    assert response.status_code == 201
    assert body["contact_id"] == world.customer.contact.id
    assert len(body["tasks"]) == 1


def test_a_customer_gets_its_own_appointment(client, world):
    booked = world.book(client).get_json()

    response = client.get(f"/api/v1/appointments/{booked['id']}", headers=world.headers())

    assert response.status_code == 200
    assert response.get_json()["number"] == booked["number"]


def test_another_accounts_appointment_is_404(client, world):
    booked = world.book(client).get_json()

    response = client.get(f"/api/v1/appointments/{booked['id']}", headers=world.headers("stranger"))

    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_an_agent_not_assigned_gets_404(client, session, world):
    booked = world.book(client, who="scheduler").get_json()
    assigned = booked["tasks"][0]["agent_id"]
    other = next(a for a in world.agents if a.id != assigned)
    _, secret = create_token(session, other.user, "tests")

    response = client.get(f"/api/v1/appointments/{booked['id']}", headers=bearer(secret))

    assert response.status_code == 404


def test_a_customer_lists_only_its_accounts_appointments(client, world):
    world.book(client)

    mine = client.get("/api/v1/appointments", headers=world.headers()).get_json()
    theirs = client.get("/api/v1/appointments", headers=world.headers("stranger")).get_json()

    assert mine["total"] == 1
    assert theirs["total"] == 0


def test_a_customer_without_an_account_lists_no_appointments(client, session, world):
    """A customer user with no contact has no account: an empty list, never everyone's."""
    world.book(client)
    loner = create_user(session, role="customer", email="loner@example.com")
    _, secret = create_token(session, loner, "tests")

    response = client.get("/api/v1/appointments", headers=bearer(secret))

    assert response.status_code == 200
    assert response.get_json()["items"] == []
    assert response.get_json()["total"] == 0


def test_listing_with_an_unknown_status_is_422_naming_status(client, world):
    response = client.get("/api/v1/appointments?status=lost", headers=world.headers())

    assert response.status_code == 422
    assert response.get_json()["field"] == "status"
