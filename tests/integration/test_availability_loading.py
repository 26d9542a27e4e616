"""The availability loader reads holds only where a window can be offered (after the
notice, before the horizon, a day's margin each side), and that never changes an answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.availability import engine
from portal.booking.windows import (
    LOOKBACK,
    get_availability,
    get_policy,
    grid_for,
    holidays_between,
    load_agents,
    service_spec,
)
from tests.factories import (
    create_agent,
    create_appointment,
    create_customer,
    create_location,
    create_service,
    ensure_policy,
)

# Monday 1 June 2026, 11:00 UTC. Agents work 09:00-17:00 London (08:00-16:00 UTC). With no
# notice and a one-day horizon, Tuesday's last offered window is 10:00-12:00 London
# (09:00-11:00 UTC): its jobs may start until 10:59 UTC and run past the horizon.
NOW = datetime(2026, 6, 1, 11, 0, tzinfo=UTC)
TUESDAY_10_TO_12 = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(session):
    ensure_policy(session, window_minutes=120, step_minutes=0, min_notice_minutes=0, horizon_days=1)
    _, account, contact = create_customer(session)
    location = create_location(session, account)
    service = create_service(session, duration_minutes=60, buffer_minutes=30)
    early, late = create_agent(session), create_agent(session)
    # `late` is held until 10:15 UTC, then again from 11:30 UTC, after the horizon: a job
    # from 10:15 would run into that second hold, so only `early` can take the window.
    create_appointment(
        session,
        start=datetime(2026, 6, 2, 8, 45, tzinfo=UTC),
        contact=contact,
        service=service,
        location=location,
        agents=[late],
    )
    create_appointment(
        session,
        start=datetime(2026, 6, 2, 11, 30, tzinfo=UTC),
        contact=contact,
        service=service,
        location=location,
        agents=[late],
    )
    session.flush()
    return {"service": service, "location": location, "early": early, "late": late}


def _with_every_hold(session, service, location, start, end, now):
    """The engine's answer when the loader reads every hold touching the range."""
    policy = get_policy(session)
    agents = load_agents(session, service, location.territory_id, start, end)
    query = engine.Query(
        location_tz=location.territory.time_zone,
        territory_id=location.territory_id,
        range_start=start,
        range_end=end,
        now=now,
        min_notice_minutes=policy.min_notice_minutes,
        horizon_days=policy.horizon_days,
        holidays=holidays_between(session, (start - LOOKBACK).date(), (end + LOOKBACK).date()),
    )
    return engine.find_windows_explained(service_spec(service), agents, grid_for(policy), query)


def test_a_hold_after_the_horizon_still_shapes_the_last_window(session, world):
    service, location = world["service"], world["location"]
    end = NOW + timedelta(days=7)

    found = get_availability(session, service, location, range_start=NOW, range_end=end, now=NOW)

    last = found.windows[-1]
    assert last.starts_at == TUESDAY_10_TO_12
    assert (last.capacity, last.agent_ids) == (1, (world["early"].id,))
    assert (found.windows, found.reasons) == _with_every_hold(
        session, service, location, NOW, end, NOW
    )


def test_a_hold_across_the_notice_limit_still_blocks_the_first_window(session, world):
    service, location = world["service"], world["location"]
    # The notice ends at 09:00 UTC on Tuesday, inside `late`'s hold from 08:45 to 10:15.
    ensure_policy(session, min_notice_minutes=22 * 60, horizon_days=28)
    end = NOW + timedelta(days=7)

    found = get_availability(session, service, location, range_start=NOW, range_end=end, now=NOW)

    # The first window we may offer, 10:00-12:00 London, could plan both agents at 09:00 UTC
    # but for that hold.
    first = found.windows[0]
    assert first.starts_at == TUESDAY_10_TO_12
    assert first.agent_ids == (world["early"].id,)
    assert (found.windows, found.reasons) == _with_every_hold(
        session, service, location, NOW, end, NOW
    )


def test_a_week_past_the_horizon_reads_no_holds(app, session, world):
    start = NOW + timedelta(days=14)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    database = app.extensions["portal.engine"]
    sa.event.listen(database, "before_cursor_execute", record)
    try:
        found = get_availability(
            session,
            world["service"],
            world["location"],
            range_start=start,
            range_end=start + timedelta(days=7),
            now=NOW,
        )
    finally:
        sa.event.remove(database, "before_cursor_execute", record)

    assert not found.windows
    assert set(found.reasons.values()) == {"horizon"}
    assert statements
    assert not [s for s in statements if "appointment_holds" in s]
