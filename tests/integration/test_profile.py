"""The customer's profile: details, addresses and password, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from portal.accounts.models import ServiceLocation, User
from portal.api.tokens import create_token
from portal.calendar_feeds import services as feeds
from portal.timeutil import now_utc
from tests.conftest import SECRET_KEY
from tests.factories import (
    create_appointment,
    create_customer,
    create_location,
    create_territory,
)

NEW_PASSWORD = "staple tide lantern"


@pytest.fixture
def customer(session, client, auth):
    """A logged-in customer of a consumer account, with one address in a served area."""
    create_territory(session, name="London", prefixes=["SW", "SE"])
    user, account, contact = create_customer(session, email="jo@example.com")
    account.kind = "consumer"
    auth.login(user.email)
    return user


def details(**overrides) -> dict:
    return {
        "full_name": "Jo Bloggs-Smith",
        "phone": "+44 20 7946 0999",
        "time_zone": "America/New_York",
        "email_notifications": "",
        **overrides,
    }


def address(**overrides) -> dict:
    return {
        "label": "Holiday flat",
        "street": "9 Sea Road",
        "city": "London",
        "postal_code": "se1 9pg",
        "country": "GB",
        **overrides,
    }


def test_the_profile_page_needs_a_log_in(client):
    response = client.get("/profile")

    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"


def test_a_customer_updates_name_phone_time_zone_and_notifications(session, client, customer):
    response = client.post_form("/profile", details(), form_url="/profile")

    assert response.status_code == 302
    user = session.get(User, customer.id)
    assert user.full_name == "Jo Bloggs-Smith"
    assert user.time_zone == "America/New_York"
    assert user.email_notifications is False
    assert user.contact.phone == "+44 20 7946 0999"
    assert user.contact.full_name == "Jo Bloggs-Smith"
    assert user.contact.account.name == "Jo Bloggs-Smith"  # a consumer account follows its person


def test_the_profile_shows_the_saved_details(session, client, customer):
    client.post_form("/profile", details(), form_url="/profile")

    page = client.get("/profile").get_data(as_text=True)

    assert 'value="Jo Bloggs-Smith"' in page
    assert '<option selected value="America/New_York">' in page
    assert "Times are shown in America/New_York" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("time_zone", "Nowhere/Land", "Choose a time zone from the list."),
        ("full_name", "", "Enter your full name."),
        ("phone", "ring ring", "Enter a phone number"),
    ],
)
def test_bad_profile_input_gets_422_and_changes_nothing(
    session, client, customer, field, value, message
):
    response = client.post_form("/profile", details(**{field: value}), form_url="/profile")

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    user = session.get(User, customer.id)
    assert user.full_name != "Jo Bloggs-Smith"
    assert user.time_zone == "Europe/London"


def test_a_customer_adds_an_address_in_a_served_area(session, client, customer):
    response = client.post_form("/profile/locations", address(), form_url="/profile")

    assert response.status_code == 302
    [location] = session.get(User, customer.id).contact.account.locations
    assert (location.label, location.postal_code) == ("Holiday flat", "SE1 9PG")
    assert location.territory is not None


def test_an_address_we_do_not_serve_cannot_be_added_from_the_profile(session, client, customer):
    response = client.post_form(
        "/profile/locations", address(postal_code="M1 1AE"), form_url="/profile"
    )

    assert response.status_code == 422
    assert "We do not serve postcode M1 1AE yet" in response.get_data(as_text=True)
    assert session.get(User, customer.id).contact.account.locations == []


def test_a_malformed_postcode_is_refused(session, client, customer):
    response = client.post_form(
        "/profile/locations", address(postal_code="SE1"), form_url="/profile"
    )

    assert response.status_code == 422
    assert "Enter a postcode like SW1A 1AA." in response.get_data(as_text=True)


def test_a_customer_removes_an_unused_address(session, client, customer):
    location_id = create_location(session, customer.contact.account).id

    response = client.post_form(f"/profile/locations/{location_id}/remove", form_url="/profile")

    assert response.status_code == 302
    assert session.get(ServiceLocation, location_id) is None


def test_removing_an_address_an_open_appointment_uses_is_refused(session, client, customer):
    contact = customer.contact
    location = create_location(session, contact.account, label="Kitchen")
    create_appointment(
        session,
        start=now_utc() + timedelta(days=3),
        contact=contact,
        location=location,
        status="confirmed",
    )

    response = client.post_form(f"/profile/locations/{location.id}/remove", form_url="/profile")

    assert response.status_code == 409
    assert "Kitchen has an appointment that is not finished yet" in response.get_data(as_text=True)
    assert session.get(ServiceLocation, location.id) is not None


def test_removing_an_address_with_only_past_appointments_is_refused_to_keep_the_record(
    session, client, customer
):
    contact = customer.contact
    location = create_location(session, contact.account, label="Old flat")
    create_appointment(
        session,
        start=now_utc() - timedelta(days=30),
        contact=contact,
        location=location,
        status="cancelled",
    ).work_order.status = "cancelled"

    response = client.post_form(f"/profile/locations/{location.id}/remove", form_url="/profile")

    assert response.status_code == 409
    assert "on the record of past appointments" in response.get_data(as_text=True)


def test_removing_another_accounts_address_is_not_found(session, client, customer):
    _, other_account, _ = create_customer(session)
    theirs = create_location(session, other_account)

    response = client.post_form(f"/profile/locations/{theirs.id}/remove", form_url="/profile")

    assert response.status_code == 404
    assert session.get(ServiceLocation, theirs.id) is not None


def test_changing_the_password_needs_the_current_one(session, client, auth, customer):
    response = client.post_form(
        "/profile/password",
        {"current_password": "not it", "password": NEW_PASSWORD},
        form_url="/profile",
    )

    assert response.status_code == 422
    assert "That is not your current password." in response.get_data(as_text=True)
    auth.logout()
    assert auth.login("jo@example.com", "demo").status_code == 302


def test_changing_the_password_keeps_this_session_and_ends_the_others(
    app, session, client, auth, customer
):
    tablet = app.test_client()
    tablet.post_form("/login", {"email": "jo@example.com", "password": "demo"})

    response = client.post_form(
        "/profile/password",
        {"current_password": "demo", "password": NEW_PASSWORD},
        form_url="/profile",
    )

    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    assert tablet.get("/profile").status_code == 302
    auth.logout()
    assert auth.login("jo@example.com", NEW_PASSWORD).status_code == 302


def change_password(client):
    return client.post_form(
        "/profile/password",
        {"current_password": "demo", "password": NEW_PASSWORD},
        form_url="/profile",
        follow_redirects=True,
    )


def test_changing_the_password_revokes_api_tokens(session, client, customer):
    _, secret = create_token(session, customer, "Made with a stolen session")

    change_password(client)

    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401


def test_changing_the_password_stops_the_calendar_link(session, client, customer):
    feed = feeds.reset_feed(session, customer)
    url = f"/calendar/{feeds.feed_token(feed, SECRET_KEY)}.ics"

    change_password(client)

    assert client.get(url).status_code == 404


def test_changing_the_password_says_api_tokens_and_calendar_links_were_revoked(
    session, client, customer
):
    response = change_password(client)

    assert "API tokens and calendar links were revoked" in response.get_data(as_text=True)


def test_guessing_the_current_password_is_rate_limited(app, session, client, customer):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post_form(
            "/profile/password",
            {"current_password": "guess", "password": NEW_PASSWORD},
            form_url="/profile",
        )

    response = client.post_form(
        "/profile/password",
        {"current_password": "demo", "password": NEW_PASSWORD},
        form_url="/profile",
    )

    assert response.status_code == 429
    assert "Too many wrong passwords" in response.get_data(as_text=True)


def test_a_staff_user_sees_a_profile_without_addresses(session, client, auth):
    from tests.factories import create_user

    scheduler = create_user(session, role="scheduler")
    auth.login(scheduler.email)

    page = client.get("/profile")

    assert page.status_code == 200
    assert "Your addresses" not in page.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(ServiceLocation)) == 0
