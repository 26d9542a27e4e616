"""The e-mailed manage link (issue #12, finding 3): a new password ends the links sent
before it, like API tokens and calendar feeds, and its pages are never cached."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from portal.accounts.emails import SUBJECT_RESET
from portal.booking.links import manage_url
from portal.notifications.models import OutboxMessage
from tests.factories import NOW, build_world, create_appointment, create_customer

WINDOW = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)
NEW_PASSWORD = "staple tide lantern"


@pytest.fixture
def booked(app, session, frozen_now):
    frozen_now(NOW)
    world = build_world(
        session,
        policy={"min_notice_minutes": 24 * 60},
        customer={"email": "jo@example.com"},
        appointment_at=WINDOW,
    )
    session.commit()
    return world


def link_for(app, appointment) -> str:
    """The path of a manage link made now (as an e-mail sent now would carry)."""
    with app.test_request_context():
        return urlsplit(manage_url(appointment.id)).path


def reset_password(client, session, email: str = "jo@example.com"):
    client.post_form("/reset", {"email": email})
    body = session.scalars(
        sa.select(OutboxMessage.body_text)
        .where(OutboxMessage.recipient == email, OutboxMessage.subject == SUBJECT_RESET)
        .order_by(OutboxMessage.id.desc())
    ).first()
    path = urlsplit(re.search(r"https?://\S+/reset/[A-Za-z0-9_.\-]+", body).group(0)).path
    return client.post_form(path, {"password": NEW_PASSWORD})


def test_a_reset_stops_the_manage_links_sent_before_it(app, session, client, booked, frozen_now):
    link = link_for(app, booked["appt"])
    assert client.get(link).status_code == 200
    frozen_now(NOW + timedelta(minutes=5))

    assert reset_password(client, session).status_code == 302

    assert client.get(link).status_code == 404
    assert client.post_form(f"{link}/do/confirm", form_url="/login").status_code == 404


def test_a_password_change_stops_the_manage_links_too(app, session, client, auth, booked):
    link = link_for(app, booked["appt"])
    auth.login("jo@example.com")

    client.post_form(
        "/profile/password",
        {"current_password": "demo", "password": NEW_PASSWORD},
        form_url="/profile",
    )

    assert client.get(link).status_code == 404


def test_a_manage_link_sent_after_the_reset_works(app, session, client, booked, frozen_now):
    frozen_now(NOW + timedelta(minutes=5))
    reset_password(client, session)
    frozen_now(NOW + timedelta(minutes=6))

    link = link_for(app, booked["appt"])

    assert client.get(link).status_code == 200


def test_the_manage_links_of_other_customers_keep_working(app, session, client, booked):
    _, _, other = create_customer(session, email="other@example.com")
    theirs = create_appointment(session, start=WINDOW + timedelta(days=1), contact=other)
    session.commit()
    link = link_for(app, theirs)

    reset_password(client, session)

    assert client.get(link).status_code == 200


@pytest.mark.parametrize("suffix", ["", "/move"])
def test_manage_pages_are_never_stored_by_a_cache(app, client, booked, suffix):
    link = link_for(app, booked["appt"])

    response = client.get(f"{link}{suffix}")

    assert response.status_code == 200
    assert response.headers.get("Cache-Control") == "no-store"


def test_a_manage_link_that_opens_nothing_is_not_stored_either(client, booked):
    response = client.get("/manage/not-a-token")

    assert response.status_code == 404
    assert response.headers.get("Cache-Control") == "no-store"
