"""Moving, cancelling, confirming, declining and signing off through the API: the state
machine's rules, answered as problems."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

import pytest

from portal.booking.models import Appointment, SignOff
from tests.factories import create_appointment
from tests.integration.api_world import LATER_WINDOW, NOW, make_world


@pytest.fixture
def world(session, frozen_now):
    return make_world(session, frozen_now)


def url(appointment_id: int, action: str) -> str:
    return f"/api/v1/appointments/{appointment_id}/{action}"


def appointment_in(session, world, status: str) -> Appointment:
    return create_appointment(
        session,
        contact=world.customer.contact,
        start=NOW + timedelta(days=2),
        service=world.service,
        location=world.location,
        agents=[world.agents[0]],
        status=status,
    )


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 20).decode()


def test_a_customer_moves_its_appointment_to_another_window(client, world):
    booked = world.book(client).get_json()

    response = client.post(
        url(booked["id"], "reschedule"), json={"start": LATER_WINDOW}, headers=world.headers()
    )

    assert response.status_code == 200
    assert response.get_json()["window_start"] == "2026-06-02T09:00:00Z"


def test_moving_to_the_same_window_is_422_naming_start(client, world):
    booked = world.book(client).get_json()

    response = client.post(
        url(booked["id"], "reschedule"),
        json={"start": booked["window_start"]},
        headers=world.headers(),
    )

    assert response.status_code == 422
    assert response.get_json()["field"] == "start"


def test_moving_inside_the_cutoff_is_403_saying_why(client, world, frozen_now):
    booked = world.book(client).get_json()
    frozen_now(datetime.fromisoformat(booked["window_start"]) - timedelta(hours=2))

    response = client.post(
        url(booked["id"], "reschedule"), json={"start": LATER_WINDOW}, headers=world.headers()
    )

    assert response.status_code == 403
    assert "24 hours" in response.get_json()["detail"]


def test_another_accounts_appointment_cannot_be_moved(client, world):
    booked = world.book(client).get_json()

    response = client.post(
        url(booked["id"], "reschedule"),
        json={"start": LATER_WINDOW},
        headers=world.headers("stranger"),
    )

    assert response.status_code == 404


def test_a_customer_cancels_with_a_reason(client, world):
    booked = world.book(client).get_json()

    response = client.post(
        url(booked["id"], "cancel"), json={"reason": "Fixed it myself"}, headers=world.headers()
    )

    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"


def test_cancelling_without_a_reason_is_422_naming_reason(client, world):
    booked = world.book(client).get_json()

    response = client.post(url(booked["id"], "cancel"), json={}, headers=world.headers())

    assert response.status_code == 422
    assert response.get_json()["field"] == "reason"


def test_cancelling_twice_is_409(client, world):
    booked = world.book(client).get_json()
    client.post(url(booked["id"], "cancel"), json={"reason": "No"}, headers=world.headers())

    response = client.post(
        url(booked["id"], "cancel"), json={"reason": "No"}, headers=world.headers()
    )

    assert response.status_code == 409
    assert response.get_json()["code"] == "illegal_transition"


def test_a_customer_confirms_an_accepted_appointment(client, session, world):
    appointment = appointment_in(session, world, "accepted")

    response = client.post(url(appointment.id, "confirm"), headers=world.headers())

    assert response.status_code == 200
    assert response.get_json()["status"] == "confirmed"


def test_confirming_is_for_customers_only(client, session, world):
    appointment = appointment_in(session, world, "accepted")

    response = client.post(url(appointment.id, "confirm"), headers=world.headers("scheduler"))

    assert response.status_code == 403


def test_confirming_another_accounts_appointment_is_404(client, session, world):
    appointment = appointment_in(session, world, "accepted")

    response = client.post(url(appointment.id, "confirm"), headers=world.headers("stranger"))

    assert response.status_code == 404


def test_a_customer_declines_an_accepted_appointment(client, session, world):
    appointment = appointment_in(session, world, "accepted")

    response = client.post(
        url(appointment.id, "decline"), json={"reason": "Away"}, headers=world.headers()
    )

    assert response.status_code == 200
    assert response.get_json()["status"] == "declined_by_customer"


def test_declining_with_an_overlong_reason_is_422_naming_reason(client, session, world):
    appointment = appointment_in(session, world, "accepted")

    response = client.post(
        url(appointment.id, "decline"), json={"reason": "x" * 1001}, headers=world.headers()
    )

    assert response.status_code == 422
    assert response.get_json()["field"] == "reason"
    assert session.get(Appointment, appointment.id).status == "accepted"


def test_a_customer_signs_off_completed_work(client, session, world):
    appointment = appointment_in(session, world, "completed")

    response = client.post(
        url(appointment.id, "sign-off"),
        json={"full_name": "Ada Lovelace", "consent": True, "signature_png": PNG},
        headers=world.headers(),
    )

    assert response.status_code == 200
    assert response.get_json()["status"] == "signed_off"
    assert session.query(SignOff).one().full_name == "Ada Lovelace"


def test_signing_off_without_consent_is_422_naming_consent(client, session, world):
    appointment = appointment_in(session, world, "completed")

    response = client.post(
        url(appointment.id, "sign-off"),
        json={"full_name": "Ada Lovelace", "consent": False},
        headers=world.headers(),
    )

    assert response.status_code == 422
    assert response.get_json()["field"] == "consent"


def test_signing_off_work_not_completed_is_409(client, session, world):
    appointment = appointment_in(session, world, "confirmed")

    response = client.post(
        url(appointment.id, "sign-off"),
        json={"full_name": "Ada Lovelace", "consent": True},
        headers=world.headers(),
    )

    assert response.status_code == 409


def test_signing_off_is_for_customers_only(client, session, world):
    appointment = appointment_in(session, world, "completed")

    response = client.post(
        url(appointment.id, "sign-off"),
        json={"full_name": "Bo Agent", "consent": True},
        headers=world.headers("agent"),
    )

    assert response.status_code == 403
