"""Window suggestions for a move: ranked by the customer's wishes and the agents, explained."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.booking import agent_moves, steps
from portal.booking import lifecycle as lc
from portal.booking.services import BookingRequest, book_window
from portal.booking.suggestions import Preferences, suggest_windows
from portal.workorders.models import WorkOrderTask
from tests.factories import (
    NOW,
    add_time_off,
    build_world,
    create_agent,
    create_user,
)

WINDOW = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)  # Wednesday 08:00-10:00 London


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    world = build_world(session)
    world.appt = book_window(session, BookingRequest(**world.booking_fields(WINDOW)))
    # The second agent joins after the booking, so the first one holds it.
    return world.add(first=world.agent, second=create_agent(session))


def test_a_window_on_the_preferred_day_and_part_of_day_ranks_first(session, world):
    prefs = Preferences(weekdays=frozenset({3}), part_of_day="afternoon")  # Thursdays, p.m.

    best = suggest_windows(session, world["appt"], prefs, now=NOW)[0]

    local = best.window.starts_at.astimezone(ZoneInfo("Europe/London"))
    assert local.weekday() == 3 and local.hour >= 12
    assert best.explanation == "Same technician, Thursday afternoon as preferred"


def test_suggestions_keep_the_same_agent_where_one_is_free(session, world):
    # The first agent is away on Tuesday: Tuesday windows need the second agent.
    add_time_off(
        session,
        world["first"],
        datetime(2026, 6, 2, 0, 0, tzinfo=UTC),
        datetime(2026, 6, 3, 0, 0, tzinfo=UTC),
        "Training",
    )
    prefs = Preferences(weekdays=frozenset({1}))  # Tuesdays

    ranked = suggest_windows(session, world["appt"], prefs, now=NOW, limit=200)

    assert ranked[0].keeps_agents  # a window the same agent can do beats the preferred day
    tuesday = [s for s in ranked if s.window.starts_at.date() == date(2026, 6, 2)]
    assert tuesday and not any(s.keeps_agents for s in tuesday)


def test_the_preferred_technician_is_named(session, world):
    prefs = Preferences(agent_id=world["second"].id)

    best = suggest_windows(session, world["appt"], prefs, now=NOW)[0]

    assert "preferred technician" in best.reasons


def test_no_suggestion_starts_before_the_earliest_date(session, world):
    prefs = Preferences(earliest=date(2026, 6, 8))

    ranked = suggest_windows(session, world["appt"], prefs, now=NOW, limit=20)

    assert ranked and all(
        s.window.starts_at >= datetime(2026, 6, 7, 23, 0, tzinfo=UTC) for s in ranked
    )


def test_every_suggestion_can_actually_be_booked(session, world):
    scheduler = create_user(session, role="scheduler")
    ranked = suggest_windows(session, world["appt"], Preferences(), now=NOW, limit=8)

    assert ranked
    for suggestion in ranked:
        savepoint = session.begin_nested()
        lc.reschedule_appointment(
            session, world["appt"], suggestion.window.starts_at, steps.Actor(scheduler)
        )
        assert world["appt"].window_start == suggestion.window.starts_at
        savepoint.rollback()
        session.expire_all()


def test_the_current_window_is_not_suggested(session, world):
    ranked = suggest_windows(session, world["appt"], Preferences(), now=NOW, limit=50)

    assert WINDOW not in [s.window.starts_at for s in ranked]


def test_a_parked_appointment_gets_suggestions_for_its_former_agent(session, world):
    def task_of(agent):
        return session.scalar(
            sa.select(WorkOrderTask).where(
                WorkOrderTask.appointment_id == world["appt"].id,
                WorkOrderTask.agent_id == agent.id,
            )
        )

    agent_moves.decline_task(session, task_of(world["first"]), world["first"].user)  # to the second
    agent_moves.decline_task(session, task_of(world["second"]), world["second"].user)
    assert world["appt"].status == "needs_reschedule"

    ranked = suggest_windows(session, world["appt"], Preferences(), now=NOW)

    assert ranked and ranked[0].window.agent_ids


def test_unknown_preferences_are_refused():
    with pytest.raises(ValueError):
        Preferences(part_of_day="midnight")
    with pytest.raises(ValueError):
        Preferences(weekdays=frozenset({7}))
