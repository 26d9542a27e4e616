"""Calendar feeds: a secret .ics URL per customer and per agent that calendar apps
subscribe to; it holds the right appointments at the right UTC times, nobody else's, and
stops working when reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from portal.booking import lifecycle as lc
from portal.booking.services import BookingRequest, book_window
from portal.calendar_feeds import services as feeds
from tests.conftest import SECRET_KEY
from tests.factories import (
    create_agent,
    create_appointment,
    create_customer,
    create_location,
    create_service,
    create_task,
    create_user,
    ensure_policy,
)

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    user, account, contact = create_customer(session, email="ada@example.com")
    _other_user, _other_account, other_contact = create_customer(session)
    agent = create_agent(session, email="bob@example.com")
    service = create_service(session, name="Boiler service")

    def appointment(start, contact=contact, **kwargs):
        return create_appointment(session, start=start, contact=contact, service=service, **kwargs)

    booked = {
        "upcoming": appointment(NOW + timedelta(days=2), status="confirmed", sequence=3),
        "recent": appointment(NOW - timedelta(days=10), status="signed_off"),
        "unconfirmed": appointment(NOW + timedelta(days=5), status="requested"),
        "cancelled": appointment(NOW + timedelta(days=3), status="cancelled"),
        "long_ago": appointment(NOW - timedelta(days=60), status="signed_off"),
        "other_account": appointment(NOW + timedelta(days=2), contact=other_contact),
    }
    for name in ("upcoming", "other_account"):
        create_task(
            session, work_order=booked[name].work_order, agent=agent, appointment=booked[name]
        )
    create_task(
        session,
        work_order=booked["unconfirmed"].work_order,
        agent=agent,
        appointment=booked["unconfirmed"],
        status="declined",
    )
    return {"user": user, "agent": agent, **booked}


def feed_url(session, user) -> str:
    feed = feeds.reset_feed(session, user)
    return f"/calendar/{feeds.feed_token(feed, SECRET_KEY)}.ics"


def events_of(response) -> dict[str, object]:
    calendar = Calendar.from_ical(response.get_data())
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def uid(appointment) -> str:
    return f"appointment-{appointment.id}@127.0.0.1"


def test_a_customer_feed_parses_and_holds_its_account_appointments(session, client, world):
    response = client.get(feed_url(session, world["user"]))

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    events = events_of(response)
    assert set(events) == {uid(world[n]) for n in ("upcoming", "recent", "unconfirmed")}


def test_feed_events_carry_utc_times_the_sequence_and_the_address(session, client, world):
    upcoming = world["upcoming"]

    event = events_of(client.get(feed_url(session, world["user"])))[uid(upcoming)]

    assert event.decoded("DTSTART") == upcoming.window_start
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") == upcoming.window_end
    assert int(event["SEQUENCE"]) == 3
    assert str(event["LOCATION"]) == upcoming.location.one_line
    assert str(event["SUMMARY"]) == f"Boiler service ({upcoming.number})"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "confirmed" in str(event["DESCRIPTION"])


def test_an_unconfirmed_booking_is_tentative(session, client, world):
    events = events_of(client.get(feed_url(session, world["user"])))

    assert str(events[uid(world["unconfirmed"])]["STATUS"]) == "TENTATIVE"


def test_other_accounts_and_cancelled_appointments_are_left_out(session, client, world):
    events = events_of(client.get(feed_url(session, world["user"])))

    for name in ("other_account", "cancelled", "long_ago"):
        assert uid(world[name]) not in events


def test_an_agent_feed_holds_the_appointments_of_its_tasks(session, client, world):
    events = events_of(client.get(feed_url(session, world["agent"].user)))

    assert set(events) == {uid(world["upcoming"]), uid(world["other_account"])}
    summary = str(events[uid(world["upcoming"])]["SUMMARY"])
    assert world["upcoming"].account.name in summary


def test_resetting_the_link_stops_the_old_one(session, client, world):
    old = feed_url(session, world["user"])
    new = feed_url(session, world["user"])

    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


@pytest.mark.parametrize("token", ["nonsense", "abc.def", "a" * 40])
def test_a_bad_token_is_404(session, client, world, token):
    feed_url(session, world["user"])

    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_a_key_signed_with_another_secret_is_404(session, client, world):
    feed = feeds.reset_feed(session, world["user"])

    forged = feeds.feed_token(feed, "some-other-secret")

    assert client.get(f"/calendar/{forged}.ics").status_code == 404


def test_the_feed_of_a_deactivated_user_is_404(session, client, world):
    url = feed_url(session, world["user"])
    world["user"].active = False

    assert client.get(url).status_code == 404


def test_a_scheduler_without_appointments_cannot_have_a_feed(session, world):
    scheduler = create_user(session, role="scheduler")

    assert not feeds.can_have_feed(session, scheduler)


# --- the pages ----------------------------------------------------------------------------


def test_a_customer_makes_the_link_on_the_profile_and_sees_it(session, client, auth, world):
    auth.login("ada@example.com")
    assert "Make a calendar link" in client.get("/profile").get_data(as_text=True)

    response = client.post_form("/calendar/link", form_url="/profile", follow_redirects=True)

    page = response.get_data(as_text=True)
    feed = feeds.get_feed(session, world["user"])
    token = feeds.feed_token(feed, SECRET_KEY)
    assert f"http://127.0.0.1:5000/calendar/{token}.ics" in page
    assert "Reset the link" in page


def test_an_agent_sees_the_calendar_panel_on_my_tasks(session, client, auth, world):
    auth.login("bob@example.com")

    page = client.get("/staff/").get_data(as_text=True)

    assert "Make a calendar link" in page


def test_a_scheduler_without_tasks_sees_no_calendar_panel(session, client, auth, world):
    create_user(session, role="scheduler", email="sam@example.com")
    session.commit()
    auth.login("sam@example.com")

    assert "calendar-h" not in client.get("/staff/").get_data(as_text=True)
    assert client.post_form("/calendar/link", form_url="/staff/").status_code == 404


def test_making_a_link_needs_a_log_in(client):
    response = client.post_form("/calendar/link", form_url="/login")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_after_a_reassignment_only_the_new_agent_feed_holds_the_appointment(
    session, client, frozen_now
):
    """A task moved away is cancelled, not declined: the former agent loses the customer's
    name, address and times, as on the API and the pages (active or done tasks only)."""
    frozen_now(NOW)
    ensure_policy(session, window_minutes=120, min_notice_minutes=60, horizon_days=28)
    customer, account, _ = create_customer(session)
    location = create_location(session, account)
    service = create_service(session)
    former = create_agent(session)
    scheduler = create_user(session, role="scheduler")
    appointment = book_window(
        session,
        BookingRequest(
            customer=customer,
            service=service,
            location=location,
            window_start=datetime(2026, 6, 3, 7, 0, tzinfo=UTC),
        ),
    )
    successor = create_agent(session)
    (task,) = [t for t in appointment.work_order.tasks if t.agent_id == former.id]
    lc.reassign_task(session, task, successor.id, scheduler)

    assert uid(appointment) not in events_of(client.get(feed_url(session, former.user)))
    assert uid(appointment) in events_of(client.get(feed_url(session, successor.user)))
