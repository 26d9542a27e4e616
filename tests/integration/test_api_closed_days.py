"""The API's closed days when `tz` is not the address's zone: each is one of the address's
own dates from `from` to `to`, judged on its whole day there. Windows stay listed by the
days of `tz`.

The address is in London; the agent works 09:00-17:00 London on weekdays. The asked days
span London's change to summer time (Sunday 28 March 2027).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.api.tokens import create_token
from tests.factories import (
    build_world,
    create_appointment,
    create_service,
)

# Not the suite's NOW: Monday 22 March 2027, 12:00 GMT, the week before the change to
# summer time that the asked days span.
NOW = datetime(2027, 3, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def shop(session, frozen_now):
    frozen_now(NOW)
    world = build_world(
        session,
        customer={"email": "ada@example.com"},
        location={"label": "Shop"},
        service={"name": "Leak repair"},
    )
    secret = create_token(session, world.customer, "tests")[1]
    session.commit()
    return world.add(headers={"Authorization": f"Bearer {secret}"})


def windows(client, shop, **params) -> dict:
    query = {"location": shop["location"].id, "from": "2027-03-25", "to": "2027-03-30", **params}
    args = "&".join(f"{k}={v}" for k, v in query.items())
    response = client.get(
        f"/api/v1/services/{shop['service'].id}/windows?{args}", headers=shop["headers"]
    )
    assert response.status_code == 200
    return response.get_json()


def closed(body: dict) -> dict[str, str]:
    return {day["date"]: day["reason"] for day in body["closed_days"]}


def test_closed_days_are_the_addresss_dates_inside_the_range_whatever_tz(client, shop):
    # New York's 25-30 March reaches into London's 31 March (its first five hours),
    # a day with five free windows that used to be reported as fully booked.
    asked = windows(client, shop, tz="America/New_York")
    own = windows(client, shop)

    assert closed(asked) == {"2027-03-27": "no_agent", "2027-03-28": "no_agent"}
    assert asked["closed_days"] == own["closed_days"]


def test_a_day_is_judged_on_all_of_it_not_the_part_inside_tzs_days(client, session, shop):
    # Tuesday 30 March, London: the agent is busy 09:00-16:00 BST, so its one free window
    # starts at 16:00 BST, which is already Wednesday 31 March in Tokyo.
    create_appointment(
        session,
        start=datetime(2027, 3, 30, 8, 0, tzinfo=UTC),
        contact=shop["contact"],
        location=shop["location"],
        service=create_service(session, duration_minutes=7 * 60),
        agents=[shop["agent"]],
    )

    body = windows(client, shop, tz="Asia/Tokyo")

    assert "2027-03-30" not in closed(body)
    own = windows(client, shop)
    assert [w["start"] for w in own["windows"] if w["start"].startswith("2027-03-30")] == [
        "2027-03-30T15:00:00Z"
    ]


def test_windows_are_still_those_that_start_on_tzs_days(client, shop):
    body = windows(client, shop, tz="Asia/Tokyo")

    local_days = {date.fromisoformat(w["local_start"][:10]) for w in body["windows"]}
    assert min(local_days) == date(2027, 3, 25) and max(local_days) == date(2027, 3, 30)
    # London's Wednesday 24 March, 16:00 GMT, is 01:00 on Thursday 25 March in Tokyo.
    assert body["windows"][0]["start"] == "2027-03-24T16:00:00Z"
    assert body["windows"][0]["local_start"] == "2027-03-25T01:00:00+09:00"
