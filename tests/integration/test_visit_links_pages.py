"""The visit link's pages (no log-in) and the scheduler's "book this work order" page:
windows, confirm, book, and the pages a link that no longer books gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from portal.booking.models import Appointment
from portal.booking.visit_links import issue_visit_link
from portal.notifications.models import OutboxMessage
from portal.workorders.models import WorkOrder
from tests.factories import NOW, build_world, create_appointment, create_work_order

WINDOW = datetime(2026, 6, 2, 7, 0, tzinfo=UTC)  # Tuesday 08:00-10:00 London


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    world = build_world(
        session,
        service={"name": "Fibre install", "duration_minutes": 60, "buffer_minutes": 30},
        scheduler={},
    )
    work_order = create_work_order(
        session,
        account=world.account,
        contact=world.contact,
        location=world.location,
        owner_kind="order",
        summary="Fibre line installation",
    )
    path = issue_visit_link(session, work_order, world.contact, world.service, by=world.scheduler)
    session.commit()
    return world.add(work_order=work_order, path=path)


def confirm_url(path: str, start: datetime = WINDOW) -> str:
    return f"{path}/confirm?start={quote(start.isoformat())}"


def book(client, path: str, start: datetime = WINDOW, **data):
    url = confirm_url(path, start)
    return client.post_form(url, {"idempotency_key": "key-1", **data})


def test_the_link_shows_the_work_and_its_free_windows_without_a_log_in(client, world):
    response = client.get(world["path"])

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Fibre line installation" in page and world.location.one_line in page
    assert "Times in Europe/London" in page
    assert f'href="{world["path"]}/confirm?start=' in page
    assert response.headers["Cache-Control"] == "no-store"


def test_the_windows_list_refreshes_itself_through_the_link(client, world):
    response = client.get(f"{world['path']}/windows")

    assert response.status_code == 200
    assert 'id="windows"' in response.get_data(as_text=True)


def test_confirming_books_the_work_order_and_the_link_then_shows_the_booking(
    client, session, world
):
    assert client.get(confirm_url(world["path"])).status_code == 200

    response = book(client, world["path"], note="Gate code 1234")

    assert response.status_code == 302 and response.location.endswith(world["path"])
    work_order = session.get(WorkOrder, world["work_order"].id)
    (appt,) = work_order.appointments
    assert work_order.status == "scheduled" and appt.note == "Gate code 1234"
    again = client.get(world["path"]).get_data(as_text=True)
    assert "This visit is booked: Tue 2 Jun, 08:00–10:00 BST." in again


def test_a_second_submit_books_once_and_shows_the_booking(client, session, world):
    url = confirm_url(world["path"])
    form = {"idempotency_key": "key-1", "csrf_token": client.csrf_token(url)}
    client.post(url, data=form)

    response = client.post(url, data=form)

    assert response.status_code == 200
    assert "This visit is booked" in response.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 1


def test_the_post_needs_its_csrf_token(client, session, world):
    response = client.post(confirm_url(world["path"]), data={"idempotency_key": "k"})

    assert response.status_code == 400
    assert session.get(WorkOrder, world["work_order"].id).status == "new"


def test_an_unknown_link_says_so(client, world):
    response = client.get("/visit/not-a-real-token-but-long-enough")

    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)


def test_an_expired_link_says_so(client, world, frozen_now):
    frozen_now(NOW + timedelta(days=31))

    response = client.get(world["path"])

    assert response.status_code == 410
    assert "This link has expired." in response.get_data(as_text=True)


def test_a_revoked_link_says_a_newer_one_was_sent(client, session, world):
    issue_visit_link(session, world["work_order"], world.contact, world.service, by=world.scheduler)

    response = client.get(world["path"])

    assert response.status_code == 410
    assert "A newer link was sent" in response.get_data(as_text=True)


def test_a_window_taken_meanwhile_says_so_and_offers_the_nearest(client, session, world):
    create_appointment(
        session,
        start=datetime(2026, 6, 2, 8, 0, tzinfo=UTC),
        contact=world.contact,
        agents=[world.agent],
        work_order=create_work_order(session, account=world.account),
    )

    response = book(client, world["path"])

    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "this window was just taken" in page
    assert 'class="alternatives"' in page and f"{world['path']}/confirm?start=" in page
    assert session.get(WorkOrder, world["work_order"].id).status == "new"
    assert client.get(world["path"]).status_code == 200  # the link still books


def test_too_many_wrong_links_from_one_address_are_refused(app, client, world):
    app.config["VISIT_LINK_REFUSAL_LIMIT"] = 2
    for _ in range(2):
        assert client.get("/visit/wrong-token-number-one-that-is-long").status_code == 404

    response = client.get(world["path"])

    assert response.status_code == 429
    assert "Retry-After" in response.headers


# --- the scheduler's page ----------------------------------------------------------------------


def test_a_scheduler_sees_the_windows_for_the_links_service(client, auth, world):
    auth.login(world.scheduler.email)

    response = client.get(f"/staff/work-orders/{world['work_order'].id}/book")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Free windows for Fibre install" in page
    assert f"/staff/work-orders/{world['work_order'].id}/book/confirm?" in page


def test_a_scheduler_books_on_the_contacts_behalf_and_the_link_shows_it(
    client, auth, session, world
):
    auth.login(world.scheduler.email)
    url = (
        f"/staff/work-orders/{world['work_order'].id}/book/confirm"
        f"?service={world.service.id}&start={quote(WINDOW.isoformat())}"
    )

    response = client.post_form(url, {"idempotency_key": "s-1", "note": "Called the site"})

    work_order = session.get(WorkOrder, world["work_order"].id)
    (appt,) = work_order.appointments
    assert response.status_code == 302
    assert response.location.endswith(f"/staff/appointments/{appt.id}")
    assert work_order.status == "scheduled" and appt.created_by_id == world.scheduler.id
    assert "This visit is booked" in client.get(world["path"]).get_data(as_text=True)


def test_the_work_orders_list_offers_to_book_a_waiting_work_order(client, auth, world):
    auth.login(world.scheduler.email)

    page = client.get("/staff/work-orders").get_data(as_text=True)

    assert f'href="/staff/work-orders/{world["work_order"].id}/book"' in page


def test_a_customer_cannot_open_the_scheduler_page(client, auth, world):
    auth.login(world.customer.email)

    assert client.get(f"/staff/work-orders/{world['work_order'].id}/book").status_code == 403


def test_the_windows_list_of_a_link_booked_elsewhere_stops_and_says_so(client, world):
    book(client, world["path"])

    response = client.get(f"{world['path']}/windows")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This visit is booked" in page and "hx-get" not in page


def test_a_scheduler_sends_a_new_link_and_the_old_one_stops(client, auth, session, world):
    auth.login(world.scheduler.email)
    page = f"/staff/work-orders/{world['work_order'].id}/book"
    url = f"/staff/work-orders/{world['work_order'].id}/visit-link?service={world.service.id}"

    response = client.post_form(url, form_url=page)

    assert response.status_code == 302
    assert "A newer link was sent" in client.get(world["path"]).get_data(as_text=True)
    sent = session.scalars(
        sa.select(OutboxMessage.body_text).where(OutboxMessage.recipient == world.contact.email)
    ).all()
    assert any("/visit/" in body for body in sent)
