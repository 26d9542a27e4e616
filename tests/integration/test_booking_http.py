"""The customer's booking pages over HTTP: what they show, refuse and create."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.accounts.models import ServiceLocation
from portal.booking.models import Appointment
from portal.workforce.models import PostalPrefix, Territory
from tests.factories import (
    NOW,
    build_world,
    create_account,
    create_appointment,
    create_customer,
    create_location,
)

WINDOW = "2026-06-02T07:00:00+00:00"  # Tuesday 08:00-10:00 London


@pytest.fixture
def shop(session, frozen_now, auth):
    frozen_now(NOW)
    world = build_world(
        session,
        customer={"email": "shopper@example.com"},
        location={"label": "Shop"},
        service={"name": "Leak repair"},
    )
    session.commit()
    auth.login("shopper@example.com")
    return world


def confirm_url(shop, start=WINDOW) -> str:
    return (
        f"/book/confirm?service={shop['service'].id}&location={shop['location'].id}"
        f"&start={start.replace('+', '%2B')}"
    )


def test_the_windows_page_lists_windows_by_day_in_the_locations_zone(client, shop):
    response = client.get(f"/book?service={shop['service'].id}&location={shop['location'].id}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Times in Europe/London" in page
    assert f'data-start="{WINDOW}"' in page
    assert "No qualified technician works on this day." in page  # the weekend


def test_the_live_list_partial_polls_itself(client, shop):
    response = client.get(
        f"/book/windows?service={shop['service'].id}&location={shop['location'].id}",
        headers={"HX-Request": "true"},
    )

    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<div id="windows"') or 'id="windows"' in page[:400]
    assert "<html" not in page
    assert re.search(r'hx-trigger="every \d+s', page)


def test_another_accounts_address_gives_404(client, session, shop):
    other = create_location(session, create_account(session))

    response = client.get(f"/book?service={shop['service'].id}&location={other.id}")

    assert response.status_code == 404


def test_a_resubmitted_confirm_form_books_once(client, session, shop):
    token = client.csrf_token(confirm_url(shop))
    page = client.get(confirm_url(shop)).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page).group(1)
    form = {"csrf_token": token, "idempotency_key": key, "note": "Drip under sink"}

    first = client.post(confirm_url(shop), data=form)
    second = client.post(confirm_url(shop), data=form)

    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    assert session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 1


def test_a_taken_window_answers_409_with_the_nearest_windows(client, session, shop):
    def book(note):
        page = client.get(confirm_url(shop)).get_data(as_text=True)
        key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page)
        return client.post_form(
            confirm_url(shop),
            {"idempotency_key": key.group(1), "note": note},
            form_url=confirm_url(shop),
        )

    assert book("first").status_code == 302
    response = book("second")

    assert response.status_code == 409
    assert "this window was just taken" in response.get_data(as_text=True)
    assert response.get_data(as_text=True).count("/book/confirm?") >= 1


def test_a_malformed_start_sends_the_customer_back_to_choose(client, shop):
    response = client.get(confirm_url(shop, start="yesterday"))

    assert response.status_code == 302
    assert response.location.endswith("/book")


def test_a_new_address_in_a_served_area_is_saved(client, session, shop):
    territory = session.scalar(sa.select(Territory))
    session.add(PostalPrefix(territory=territory, prefix="SE"))
    session.commit()

    response = client.post_form(
        "/locations",
        {
            "label": "Depot",
            "street": "5 Rope Walk",
            "city": "London",
            "postal_code": "se16 4ab",
            "country": "GB",
        },
        form_url="/book",
    )

    assert response.status_code == 302
    saved = session.scalar(sa.select(ServiceLocation).where(ServiceLocation.label == "Depot"))
    assert saved.account_id == shop["account"].id
    assert saved.postal_code == "SE16 4AB"


def test_an_address_nobody_serves_is_refused_with_the_reason(client, session, shop):
    response = client.post_form(
        "/locations",
        {
            "label": "Cabin",
            "street": "1 Loch Road",
            "city": "Inverness",
            "postal_code": "IV1 1AA",
            "country": "GB",
        },
        form_url="/book",
    )

    assert response.status_code == 422
    assert "We do not serve postcode IV1 1AA yet" in response.get_data(as_text=True)
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(ServiceLocation)
            .where(ServiceLocation.label == "Cabin")
        )
        == 0
    )


def test_another_accounts_appointment_gives_404(client, session, shop):
    _stranger, _, contact = create_customer(session)
    theirs = create_appointment(session, start=NOW, contact=contact)

    assert client.get(f"/appointments/{theirs.id}").status_code == 404


def test_preferences_given_when_booking_are_kept(client, session, shop):
    page = client.get(confirm_url(shop)).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page).group(1)

    response = client.post_form(
        confirm_url(shop),
        {
            "idempotency_key": key,
            "pref_days": ["1", "3"],
            "pref_part": "morning",
            "pref_earliest": "2026-06-10",
            "pref_agent": "0",
        },
        form_url=confirm_url(shop),
    )

    assert response.status_code == 302
    appt = session.scalar(sa.select(Appointment))
    assert (appt.pref_weekdays, appt.pref_part_of_day) == ("13", "morning")
    assert appt.pref_earliest.isoformat() == "2026-06-10"
