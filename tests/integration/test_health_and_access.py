"""Health check, security headers, and who may open which page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import (
    create_agent,
    create_appointment,
    create_customer,
    create_service,
    create_task,
    create_user,
    create_work_order,
)

STAFF_ROLES = ["agent", "scheduler", "manager", "admin"]


def _make_user(session, role: str):
    if role == "customer":
        return create_customer(session)[0]
    if role == "agent":
        return create_agent(session).user
    return create_user(session, role=role)


def test_healthz_answers_ok_when_the_database_answers(client, frozen_now):
    frozen_now(datetime(2026, 12, 5, 10, 0, 30, 123456, tzinfo=UTC))
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "database": "ok",
        "now": "2026-12-05T10:00:30+00:00",
    }


def test_pages_carry_the_security_headers(client):
    response = client.get("/login")

    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("url", ["/appointments", "/staff/", "/"])
def test_anonymous_requests_are_sent_to_log_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    location = urlsplit(response.location)
    assert location.path == "/login"
    if url != "/":
        assert parse_qs(location.query)["next"] == [url]


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [("customer", "/appointments", 200), ("customer", "/staff/", 403)]
    + [(role, "/staff/", 200) for role in STAFF_ROLES]
    + [(role, "/appointments", 403) for role in STAFF_ROLES],
)
def test_each_role_opens_only_its_own_pages(session, client, auth, role, url, status):
    user = _make_user(session, role)
    auth.login(user.email)

    assert client.get(url).status_code == status


def test_a_forbidden_page_says_so_politely(session, client, auth):
    user, _, _ = create_customer(session)
    auth.login(user.email)

    response = client.get("/staff/")

    assert response.status_code == 403
    assert "Your account cannot open this page." in response.get_data(as_text=True)


def test_an_unknown_url_gets_the_not_found_page(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Not found" in page
    assert "There is nothing at /no-such-page." in page


@pytest.mark.parametrize(
    "url",
    [
        "/settings/users/2147483648",
        "/reports/runs/99999999999999999999",
        "/staff/appointments/2147483648",
        "/appointments/2147483648",
    ],
)
def test_an_id_too_large_for_any_record_is_not_found(session, client, auth, url):
    auth.login(create_user(session, role="admin").email)

    assert client.get(url).status_code == 404


def test_the_customer_home_shows_only_its_own_accounts_appointments(
    session, client, auth, frozen_now
):
    now = frozen_now(datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
    mine, _, my_contact = create_customer(session)
    _, _, their_contact = create_customer(session)
    create_appointment(
        session,
        contact=my_contact,
        service=create_service(session, name="Boiler service"),
        start=now + timedelta(days=3),
    )
    create_appointment(
        session,
        contact=their_contact,
        service=create_service(session, name="Leak repair"),
        start=now + timedelta(days=3),
    )
    auth.login(mine.email)

    page = client.get("/appointments").get_data(as_text=True)

    assert "Boiler service" in page
    assert "Leak repair" not in page


def test_a_new_customer_home_shows_the_empty_state(session, client, auth):
    user, _, _ = create_customer(session)
    auth.login(user.email)

    page = client.get("/appointments").get_data(as_text=True)

    assert "Your appointments" in page
    assert "You have no upcoming appointments." in page


def test_the_staff_home_shows_a_task_assigned_to_the_agent(session, client, auth):
    agent = create_agent(session)
    someone_else = create_agent(session)
    work_order = create_work_order(session)
    create_task(session, work_order=work_order, agent=agent, title="Replace the valve")
    create_task(session, work_order=work_order, agent=someone_else, title="Not for you")
    auth.login(agent.user.email)

    page = client.get("/staff/").get_data(as_text=True)

    assert "My tasks" in page
    assert "Replace the valve" in page
    assert work_order.number in page
    assert "Not for you" not in page
