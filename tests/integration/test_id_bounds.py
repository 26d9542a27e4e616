"""Ids and page numbers from query strings and forms are bounded like the URL's: a number
past our 32-bit keys, a Unicode digit or a thousand-digit number finds nothing (404, or
an empty list, or the first page), never a 500 from the database or from int()."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.ids import MAX_ID
from tests.factories import (
    NOW,
    build_world,
    create_task,
)

PAST_64_BITS = "9" * 20
PAST_32_BITS = str(MAX_ID + 1)
# Past 64 bits (SQLite's OverflowError), past our 32-bit keys, a superscript two (isdigit()
# says yes, int() says no) and more digits than int() converts.
TOO_BIG = [PAST_64_BITS, PAST_32_BITS, "\u00b2", "9" * 5000]


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    return build_world(
        session,
        policy={"min_notice_minutes": 24 * 60},
        customer={"email": "cust@example.com"},
        scheduler={"email": "sched@example.com"},
        manager={"email": "boss@example.com"},
        appointment_at=datetime(2026, 6, 3, 7, 0, tzinfo=UTC),
    )


def _fine(response) -> None:
    """The id was taken for no record: the page as without it, or sent back to /book."""
    assert response.status_code in (200, 302, 404), response.status_code


@pytest.mark.parametrize("big", TOO_BIG, ids=["64bit", "32bit", "superscript", "5000digits"])
@pytest.mark.parametrize("name", ["location", "service"])
def test_a_customer_asking_to_book_with_a_huge_id_gets_no_500(client, auth, world, name, big):
    auth.login("cust@example.com")

    for url in ("/book", "/book/windows", "/book/confirm"):
        _fine(client.get(f"{url}?{name}={big}"))


@pytest.mark.parametrize("big", TOO_BIG, ids=["64bit", "32bit", "superscript", "5000digits"])
@pytest.mark.parametrize("name", ["contact", "service", "location"])
def test_booking_for_a_customer_with_a_huge_id_is_404(client, auth, world, name, big):
    auth.login("sched@example.com")
    ids = {
        "contact": world["contact"].id,
        "service": world["service"].id,
        "location": world["location"].id,
    }
    query = "&".join(f"{k}={big if k == name else v}" for k, v in ids.items())
    base = f"/staff/customers/{world['account'].id}/book"

    assert client.get(f"{base}?{query}").status_code == 404
    assert client.get(f"{base}/confirm?{query}").status_code == 404


@pytest.mark.parametrize("prefix", ["SA-", "WO-", "sa", "WO-000"])
def test_searching_customers_for_a_huge_number_finds_nothing(client, auth, world, prefix):
    auth.login("sched@example.com")

    response = client.get(f"/staff/customers?q={prefix}{PAST_64_BITS}")

    assert response.status_code == 200
    assert world["account"].name not in response.get_data(as_text=True)


@pytest.mark.parametrize("big", TOO_BIG, ids=["64bit", "32bit", "superscript", "5000digits"])
@pytest.mark.parametrize("name", ["skill", "territory"])
def test_the_agent_list_filtered_by_a_huge_id_lists_nobody(client, auth, world, name, big):
    auth.login("boss@example.com")

    response = client.get(f"/settings/agents?{name}={big}")

    assert response.status_code == 200


@pytest.mark.parametrize("big", TOO_BIG, ids=["64bit", "32bit", "superscript", "5000digits"])
@pytest.mark.parametrize(
    "url",
    [
        "/staff/customers",
        "/staff/appointments",
        "/staff/work-orders",
        "/settings/agents",
        "/settings/users",
        "/appointments",
        "/staff/customers/{account}",
    ],
)
def test_a_huge_page_number_shows_a_page(client, auth, world, url, big):
    auth.login("boss@example.com")

    response = client.get(url.format(account=world["account"].id) + f"?page={big}")

    assert response.status_code in (200, 403)


@pytest.mark.parametrize("big", [PAST_64_BITS, PAST_32_BITS])
def test_reassigning_a_task_to_a_huge_agent_id_is_refused(client, auth, session, world, big):
    task = create_task(session, agent=world["agent"], appointment=world["appt"])
    auth.login("sched@example.com")

    response = client.post_form(
        f"/dispatch/tasks/{task.id}/reassign", {"agent_id": big}, form_url="/dispatch/"
    )

    assert response.status_code in (404, 422)


@pytest.mark.parametrize("big", [PAST_64_BITS, PAST_32_BITS])
def test_assigning_from_the_queue_to_a_huge_agent_id_is_refused(client, auth, world, big):
    auth.login("sched@example.com")

    response = client.post_form(
        f"/dispatch/appointments/{world['appt'].id}/assign",
        {"agent_id": big},
        form_url="/dispatch/",
    )

    assert response.status_code in (404, 409, 422)


@pytest.mark.parametrize("big", [PAST_64_BITS, PAST_32_BITS])
def test_moving_a_huge_appointment_id_in_bulk_moves_nothing(client, auth, world, big):
    auth.login("sched@example.com")

    response = client.post_form(
        "/settings/disruptions/move", {f"pick_{big}": "y"}, form_url="/settings/disruptions"
    )

    assert response.status_code in (200, 302, 422)
