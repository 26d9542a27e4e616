"""Calendar feeds: a secret .ics URL per customer and per agent that calendar apps
subscribe to; it holds the right appointments at the right UTC times, nobody else's, and
stops working when reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from portal.booking.services import BookingRequest, book_window
from portal.calendar_feeds import services as feeds
from portal.dispatch import services as dispatch_services
from tests.conftest import SECRET_KEY
from tests.factories import (
    NOW,
    build_world,
    create_agent,
    create_appointment,
    create_customer,
    create_location,
    create_service,
    create_task,
    create_user,
    ensure_policy,
)


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    world = build_world(
        session,
        policy=None,
        customer={"email": "ada@example.com"},
        service={"name": "Boiler service"},
        agents=[{"email": "bob@example.com"}],
    )
    _other_user, _other_account, other_contact = create_customer(session)

    def appointment(start, contact=world.contact, **kwargs):
        return create_appointment(
            session, start=start, contact=contact, service=world.service, **kwargs
        )

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
            session, work_order=booked[name].work_order, agent=world.agent, appointment=booked[name]
        )
    create_task(
        session,
        work_order=booked["unconfirmed"].work_order,
        agent=world.agent,
        appointment=booked["unconfirmed"],
        status="declined",
    )
    return world.add(**booked)


def feed_url(session, user) -> str:
    feed = feeds.reset_feed(session, user)
    return f"/calendar/{feeds.feed_token(feed, SECRET_KEY)}.ics"


def events_of(response) -> dict[str, object]:
    calendar = Calendar.from_ical(response.get_data())
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def uid(appointment) -> str:
    return f"appointment-{appointment.id}@127.0.0.1"


def test_a_customer_feed_parses_and_holds_its_account_appointments(session, client, world):
    response = client.get(feed_url(session, world["customer"]))

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    events = events_of(response)
    assert set(events) == {uid(world[n]) for n in ("upcoming", "recent", "unconfirmed")}


def test_feed_events_carry_utc_times_the_sequence_and_the_address(session, client, world):
    upcoming = world["upcoming"]

    event = events_of(client.get(feed_url(session, world["customer"])))[uid(upcoming)]

    assert event.decoded("DTSTART") == upcoming.window_start
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") == upcoming.window_end
    assert int(event["SEQUENCE"]) == 3
    assert str(event["LOCATION"]) == upcoming.location.one_line
    assert str(event["SUMMARY"]) == f"Boiler service ({upcoming.number})"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "confirmed" in str(event["DESCRIPTION"])


def test_an_unconfirmed_booking_is_tentative(session, client, world):
    events = events_of(client.get(feed_url(session, world["customer"])))

    assert str(events[uid(world["unconfirmed"])]["STATUS"]) == "TENTATIVE"


def test_other_accounts_and_cancelled_appointments_are_left_out(session, client, world):
    events = events_of(client.get(feed_url(session, world["customer"])))

    for name in ("other_account", "cancelled", "long_ago"):
        assert uid(world[name]) not in events


def test_an_agent_feed_holds_the_appointments_of_its_tasks(session, client, world):
    events = events_of(client.get(feed_url(session, world["agent"].user)))

    assert set(events) == {uid(world["upcoming"]), uid(world["other_account"])}
    summary = str(events[uid(world["upcoming"])]["SUMMARY"])
    assert world["upcoming"].account.name in summary


def test_resetting_the_link_stops_the_old_one(session, client, world):
    old = feed_url(session, world["customer"])
    new = feed_url(session, world["customer"])

    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


@pytest.mark.parametrize("token", ["nonsense", "abc.def", "a" * 40])
def test_a_bad_token_is_404(session, client, world, token):
    feed_url(session, world["customer"])

    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_a_key_signed_with_another_secret_is_404(session, client, world):
    feed = feeds.reset_feed(session, world["customer"])

    forged = feeds.feed_token(feed, "some-other-secret")

    assert client.get(f"/calendar/{forged}.ics").status_code == 404


def test_the_feed_of_a_deactivated_user_is_404(session, client, world):
    url = feed_url(session, world["customer"])
    world["customer"].active = False

    assert client.get(url).status_code == 404


def test_a_scheduler_without_appointments_cannot_have_a_feed(session, world):
    scheduler = create_user(session, role="scheduler")

    assert not feeds.can_have_feed(session, scheduler)


# --- the rate limit (portal/ratelimit.py, as the API's) --------------------------------------


def test_a_feed_read_past_its_rate_limit_gets_429_with_retry_after(app, session, client, world):
    app.config.update(CALENDAR_FEED_RATE_LIMIT=2, CALENDAR_FEED_RATE_WINDOW_SECONDS=60)
    url = feed_url(session, world["customer"])
    answers = [client.get(url).status_code for _ in range(2)]

    response = client.get(url)

    assert answers == [200, 200]
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"  # the clock is frozen at a window start
    assert response.headers["Cache-Control"] == "no-store"
    assert "Try again in 60 seconds" in response.get_data(as_text=True)


def test_a_reset_link_shares_its_users_rate_limit(app, session, client, world):
    app.config.update(CALENDAR_FEED_RATE_LIMIT=1)
    client.get(feed_url(session, world["customer"]))

    assert client.get(feed_url(session, world["customer"])).status_code == 429


def test_each_users_feed_is_counted_apart(app, session, client, world):
    app.config.update(CALENDAR_FEED_RATE_LIMIT=1)
    client.get(feed_url(session, world["customer"]))

    assert client.get(feed_url(session, world["agent"].user)).status_code == 200


def test_the_feed_limit_starts_again_in_the_next_window(app, session, client, world, frozen_now):
    app.config.update(CALENDAR_FEED_RATE_LIMIT=1, CALENDAR_FEED_RATE_WINDOW_SECONDS=60)
    url = feed_url(session, world["customer"])
    client.get(url)
    assert client.get(url).status_code == 429
    frozen_now(NOW + timedelta(seconds=61))

    assert client.get(url).status_code == 200


def test_after_30_wrong_feed_addresses_a_client_gets_429_even_with_a_good_one(
    session, client, world
):
    url = feed_url(session, world["customer"])
    answers = [client.get(f"/calendar/guess{n}.ics").status_code for n in range(30)]

    response = client.get(url)

    assert answers == [404] * 30
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"


def test_wrong_feed_addresses_are_counted_per_client_address(app, session, client, world):
    app.config.update(CALENDAR_FEED_REFUSAL_LIMIT=2)
    url = feed_url(session, world["customer"])
    for _ in range(2):
        client.get("/calendar/guess.ics")

    elsewhere = client.get(url, environ_base={"REMOTE_ADDR": "203.0.113.9"})

    assert elsewhere.status_code == 200
    assert client.get(url).status_code == 429


def test_wrong_feed_addresses_do_not_use_up_the_apis_allowance(app, session, client, world):
    app.config.update(CALENDAR_FEED_REFUSAL_LIMIT=1)
    client.get("/calendar/guess.ics")

    response = client.get("/api/v1/me")

    assert response.status_code == 401  # refused for want of a token, not rate-limited


# --- the pages ----------------------------------------------------------------------------


def test_a_customer_makes_the_link_on_the_profile_and_sees_it(session, client, auth, world):
    auth.login("ada@example.com")
    assert "Make a calendar link" in client.get("/profile").get_data(as_text=True)

    response = client.post_form("/calendar/link", form_url="/profile", follow_redirects=True)

    page = response.get_data(as_text=True)
    feed = feeds.get_feed(session, world["customer"])
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
    dispatch_services.reassign_task(session, task, successor.id, scheduler)

    assert uid(appointment) not in events_of(client.get(feed_url(session, former.user)))
    assert uid(appointment) in events_of(client.get(feed_url(session, successor.user)))
