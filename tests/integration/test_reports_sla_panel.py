"""The live SLA panel on "My tasks": a lead sees the open milestones of the queues they
lead, a manager every queue; the fragment htmx refreshes; the home page includes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.reports.sla_panel import due_words, sla_panel, span_words
from tests.factories import create_user
from tests.sla_factories import PANEL_NOW, build_sla_world, create_queue


@pytest.fixture
def world(session, frozen_now):
    frozen_now(PANEL_NOW)
    return build_sla_world(session)


def counts(panel) -> dict[str, tuple[int, int, int]]:
    return {
        q.name: (q.counts["pending"], q.counts["warning"], q.counts["violated"])
        for q in panel.queues
    }


def test_a_lead_sees_only_the_queues_they_lead(session, world):
    panel = sla_panel(session, world.fay, PANEL_NOW)

    # Finance: c4's paused resolution (pending) and WO4's warning; c1 and WO1, WO3 are done.
    assert counts(panel) == {"Finance": (1, 1, 0)}
    assert [item.milestone for item in panel.next_due] == ["Resolution"]
    assert panel.next_due[0].work_order_number == world.work_orders["wo4"].number
    assert not panel.everything


def test_a_manager_sees_every_queue_and_the_cases_a_person_owns(session, world):
    manager = create_user(session, role="manager")

    panel = sla_panel(session, manager, PANEL_NOW)

    assert counts(panel) == {"Finance": (1, 1, 0), "Orders": (1, 0, 1), "No queue": (0, 0, 1)}
    assert panel.totals == {"pending": 2, "warning": 1, "violated": 2}
    assert panel.everything


def test_the_next_due_come_soonest_first_in_words(session, world):
    manager = create_user(session, role="manager")

    items = sla_panel(session, manager, PANEL_NOW).next_due

    assert [(i.case_number, i.queue, i.when) for i in items] == [
        (world.cases["c3"].number, "Orders", "overdue by 3 d 22 h"),  # WO2, due Mon 11:00
        (world.cases["c2"].number, "No queue", "overdue by 23 h"),
        (world.cases["c3"].number, "Orders", "due 12:00 today"),
        (world.cases["c4"].number, "Finance", "due Mon 16 Nov, 10:00"),
    ]
    assert [i.overdue for i in items] == [True, True, False, False]


def test_a_closed_case_and_a_paused_clock_are_not_due(session, world):
    manager = create_user(session, role="manager")

    items = sla_panel(session, manager, PANEL_NOW).next_due

    ids = {i.milestone_id for i in items}
    assert world.milestones["x4"].id not in ids  # violated, but its case is closed
    assert world.milestones["x2"].id not in ids  # paused: no due time


def test_a_lead_of_a_quiet_queue_sees_it_with_nothing_open(session, world):
    lead = create_user(session, role="backoffice")
    create_queue(session, name="Quiet", lead=lead)

    panel = sla_panel(session, lead, PANEL_NOW)

    assert counts(panel) == {"Quiet": (0, 0, 0)} and panel.next_due == []


@pytest.mark.parametrize("role", ["agent", "scheduler", "backoffice"])
def test_team_users_who_lead_nothing_get_no_panel(session, world, role):
    assert sla_panel(session, create_user(session, role=role), PANEL_NOW) is None


def test_due_words_use_the_viewers_zone():
    now = datetime(2026, 11, 13, 9, 0, tzinfo=UTC)

    assert due_words(datetime(2026, 11, 13, 14, 30, tzinfo=UTC), now, "Europe/London") == (
        "due 14:30 today"
    )
    # 23:30 UTC is already Saturday in Kolkata (UTC+5:30): tomorrow, at 05:00.
    assert due_words(datetime(2026, 11, 13, 23, 30, tzinfo=UTC), now, "Asia/Kolkata") == (
        "due tomorrow 05:00"
    )
    assert due_words(now - timedelta(hours=2), now, "Europe/London") == "overdue by 2 h"


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(minutes=25), "25 min"),
        (timedelta(hours=2, minutes=15), "2 h 15 min"),
        (timedelta(hours=14, minutes=5), "14 h"),
        (timedelta(days=3, hours=4), "3 d 4 h"),
        (timedelta(days=2), "2 d"),
    ],
)
def test_span_words(delta, words):
    assert span_words(delta) == words


# --- over HTTP ---------------------------------------------------------------------------------


def test_the_fragment_shows_a_leads_queues_and_asks_again_every_30_seconds(client, auth, world):
    auth.login("fay@example.com")

    page = client.get("/reports/sla-panel", headers={"HX-Request": "true"})

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="sla-panel"' in html and 'hx-trigger="every 30s"' in html
    assert "Finance" in html and "Orders" not in html
    assert "due Mon 16 Nov, 10:00" in html


def test_the_fragment_is_empty_for_a_team_user_who_leads_nothing(client, session, auth, world):
    create_user(session, role="agent", email="agent@example.com")
    auth.login("agent@example.com")

    response = client.get("/reports/sla-panel")

    assert response.status_code == 204 and response.data == b""


def test_customers_do_not_reach_the_fragment(client, session, auth, world):
    create_user(session, role="customer", email="c@example.com")
    auth.login("c@example.com")

    assert client.get("/reports/sla-panel").status_code == 403


def test_my_tasks_includes_the_panel_for_a_manager(client, session, auth, world):
    create_user(session, role="manager", email="mina@example.com")
    auth.login("mina@example.com")

    html = client.get("/staff/").get_data(as_text=True)

    assert 'id="sla-panel"' in html and "No queue" in html and "overdue by 23 h" in html


def test_my_tasks_shows_no_panel_to_an_agent(client, session, auth, world):
    create_user(session, role="agent", email="agent@example.com")
    auth.login("agent@example.com")

    html = client.get("/staff/").get_data(as_text=True)

    assert 'id="sla-panel"' not in html
