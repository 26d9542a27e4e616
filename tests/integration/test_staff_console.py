"""The scheduler's console over HTTP: find a customer, book and move on its behalf."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.booking.models import Appointment
from portal.booking.services import BookingRequest, book_window
from portal.notifications.models import Notification
from portal.workorders.models import TimelineEntry
from tests.factories import (
    NOW,
    build_world,
    create_appointment,
)

WINDOW = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)


@pytest.fixture
def console(session, frozen_now, auth):
    frozen_now(NOW)
    world = build_world(
        session,
        customer={"email": "grace@example.com", "full_name": "Grace Kim"},
        service={"name": "Network check"},
        scheduler={"email": "sched@example.com"},
    )
    world.account.name = "Hudson Legal"
    world.appt = book_window(session, BookingRequest(**world.booking_fields(WINDOW)))
    session.commit()
    auth.login("sched@example.com")
    return world


@pytest.mark.parametrize("query", ["hudson", "GRACE", "grace@example", "WO-000001", "sa-1"])
def test_the_search_finds_a_customer_by_name_email_or_number(client, console, query):
    page = client.get(f"/staff/customers?q={query}").get_data(as_text=True)

    assert "Hudson Legal" in page


def test_the_search_says_when_nothing_matches(client, console):
    page = client.get("/staff/customers?q=nobody-like-this").get_data(as_text=True)

    assert "No customer matches" in page


def test_a_customer_cannot_open_the_console(client, auth, console):
    auth.logout()
    auth.login("grace@example.com")

    assert client.get("/staff/customers").status_code == 403


def test_a_scheduler_books_on_the_customers_behalf(client, session, console):
    ids = (
        f"contact={console['contact'].id}&service={console['service'].id}"
        f"&location={console['location'].id}"
    )
    account = console["account"].id
    windows = client.get(f"/staff/customers/{account}/book?{ids}").get_data(as_text=True)
    start = re.search(r'data-start="([^"]+)"', windows).group(1)
    url = f"/staff/customers/{account}/book/confirm?{ids}&start={start.replace('+', '%2B')}"
    key = re.search(
        r'name="idempotency_key" type="hidden" value="(\w+)"',
        client.get(url).get_data(as_text=True),
    ).group(1)

    response = client.post_form(url, {"idempotency_key": key, "note": "By phone"})

    assert response.status_code == 302
    booked = session.scalar(sa.select(Appointment).where(Appointment.note == "By phone"))
    assert booked.created_by_id != console["customer"].id
    entry = session.scalar(
        sa.select(TimelineEntry).where(
            TimelineEntry.action == "booked", TimelineEntry.subject_id == booked.id
        )
    )
    assert entry.on_behalf_of_id == console["customer"].id


def test_the_appointment_page_ranks_suggestions_with_reasons(client, console):
    page = client.get(f"/staff/appointments/{console['appt'].id}").get_data(as_text=True)

    assert "Move: suggested windows" in page
    assert "Same technician" in page


def test_moving_to_a_suggestion_reschedules_and_tells_the_customer(
    client, session, console, expand_events
):
    page = f"/staff/appointments/{console['appt'].id}"
    start = re.findall(r'name="start" value="([^"]+)"', client.get(page).get_data(as_text=True))[0]

    response = client.post_form(
        f"{page}/move", {"start": start, "reason": "Agent ill"}, form_url=page
    )
    expand_events()

    assert response.status_code == 302
    session.expire_all()
    moved = session.get(Appointment, console["appt"].id)
    assert moved.window_start == datetime.fromisoformat(start)
    assert session.scalar(
        sa.select(Notification.id).where(Notification.user_id == console["customer"].id)
    )


def test_staff_save_meeting_details(client, session, console):
    page = f"/staff/appointments/{console['appt'].id}"

    response = client.post_form(
        f"{page}/details",
        {
            "note": "Ask for Grace at reception",
            "contact": console["contact"].id,
            "location": console["location"].id,
        },
        form_url=page,
    )

    assert response.status_code == 302
    session.expire_all()
    assert session.get(Appointment, console["appt"].id).note == "Ask for Grace at reception"


def test_the_appointments_list_pages_on_the_server(client, session, console):
    for i in range(30):
        create_appointment(
            session,
            start=NOW + timedelta(days=30 + i),
            contact=console["contact"],
            service=console["service"],
            location=console["location"],
        )
    session.commit()

    first = client.get("/staff/appointments").get_data(as_text=True)
    second = client.get("/staff/appointments?page=2").get_data(as_text=True)

    assert "Page 1 of 2 (31 in all)" in first
    assert first.count("/staff/appointments/") == 25
    assert second.count("/staff/appointments/") == 6


def test_the_work_order_list_filters_by_status(client, console):
    scheduled = client.get("/staff/work-orders?status=scheduled").get_data(as_text=True)
    closed = client.get("/staff/work-orders?status=closed").get_data(as_text=True)

    assert "WO-000001" in scheduled
    assert "No work orders match." in closed
