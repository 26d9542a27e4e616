"""Property tests: the availability engine against a brute-force model and direct checks.

Setups are small (1-4 agents, 2-4 days) but deliberately awkward: agents and customers in
different zones, ranges that cross the 2026 DST changes in London and New York, shifts split
into adjacent rules, and bookings and leave at arbitrary minutes. Crowds (5-10 agents who
share a few zones and weekly hours, and often the same booked times) reach what the engine
does for an organisation: working time worked out once per shared set of hours, many
agents' start ranges beginning and ending at the same minutes on one sweep line.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine_reference import reference_grid, reference_reasons, reference_windows
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.availability.engine import (
    REASONS,
    AgentInput,
    Grid,
    Query,
    ServiceSpec,
    WorkingHours,
    explain_days,
    find_windows,
)

ZONES = ("UTC", "Europe/London", "America/New_York")

# Ordinary starting days, and each zone's 2026 DST changes with the day before them, so that
# half of the ranges cross a change on the customer's own clock.
ORDINARY_DAYS = (date(2026, 6, 16), date(2026, 1, 20), date(2026, 3, 28), date(2026, 10, 31))
DST_CHANGES = (
    ("America/New_York", date(2026, 3, 7)),
    ("America/New_York", date(2026, 10, 31)),
    ("Europe/London", date(2026, 3, 28)),
    ("Europe/London", date(2026, 10, 24)),
)


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@st.composite
def weekly_hours(draw: st.DrawFn) -> tuple[WorkingHours, ...]:
    """Shifts on most weekdays, on quarter hours, sometimes split into two back-to-back rules.

    Starts are mostly daytime, so that agents overlap, but also any time and often at night,
    where the DST changes happen; some shifts run to the end of the day.
    """
    any_time, daytime, night = st.integers(0, 88), st.integers(24, 48), st.integers(0, 12)
    rules = []
    for weekday in range(7):
        if not draw(st.sampled_from([True, True, True, False])):
            continue  # a day off
        start = draw(st.one_of(daytime, any_time, night)) * 15
        end = min(start + draw(st.one_of(st.integers(2, 48), st.just(96))) * 15, 23 * 60 + 45)
        if draw(st.booleans()) and end - start >= 30:
            middle = start + (end - start) // 30 * 15
            rules.append(WorkingHours(weekday, _clock(start), _clock(middle)))
            rules.append(WorkingHours(weekday, _clock(middle), _clock(end)))
        else:
            rules.append(WorkingHours(weekday, _clock(start), _clock(end)))
    return tuple(rules)


def intervals(
    anchor: datetime, days: int, *, max_size: int, longest: int
) -> st.SearchStrategy[tuple[tuple[datetime, datetime], ...]]:
    """Whole-minute [start, end) pairs at any minute around the query."""
    pair = st.tuples(
        st.integers(-180, days * 1440 + 180),  # start, in minutes from the anchor
        st.integers(1, longest),  # length in minutes
    ).map(
        lambda p: (
            anchor + timedelta(minutes=p[0]),
            anchor + timedelta(minutes=p[0] + p[1]),
        )
    )
    return st.lists(pair, max_size=max_size).map(tuple)


@st.composite
def scenarios(
    draw: st.DrawFn, crowd: bool = False
) -> tuple[ServiceSpec, list[AgentInput], Grid, Query]:
    if draw(st.booleans()):
        location_tz, first_day = draw(st.sampled_from(DST_CHANGES))
    else:
        location_tz, first_day = draw(st.sampled_from(ZONES)), draw(st.sampled_from(ORDINARY_DAYS))
    days = draw(st.integers(2, 4))
    shift = timedelta(minutes=30 * draw(st.integers(-12, 12)) * draw(st.booleans()))
    range_start = datetime.combine(first_day, time(), tzinfo=ZoneInfo(location_tz)) + shift
    range_end = range_start + timedelta(days=days)
    anchor = range_start.astimezone(UTC)

    if crowd:
        agents = draw(crowd_agents(anchor, days))
    else:
        agents = [
            AgentInput(
                id=agent_id,
                tz=draw(st.sampled_from(ZONES)),
                hours=draw(weekly_hours()),
                skills=draw(
                    st.sampled_from([frozenset({"gas"}), frozenset({"gas", "oil"}), frozenset()])
                ),
                territories=draw(
                    st.sampled_from([frozenset({1, 2}), frozenset({1}), frozenset({2})])
                ),
                time_off=draw(intervals(anchor, days, max_size=1, longest=720)),
                busy=draw(intervals(anchor, days, max_size=5, longest=240)),
            )
            # Ids in shuffled order, so that sorting agent_ids is tested.
            for agent_id in draw(st.permutations(range(1, 1 + draw(st.sampled_from([3, 1, 2, 4])))))
        ]
    service = ServiceSpec(
        duration_minutes=draw(st.integers(15, 180)),
        buffer_minutes=draw(st.integers(0, 60)),
        agents_needed=draw(st.integers(1, 3 if crowd else 2)),
        required_skill=draw(st.sampled_from([None, "gas"])),
    )
    window = draw(st.sampled_from([120, 60, 0]))
    step = draw(st.sampled_from([15, 30, 60] if window == 0 else [0, 30, 60]))
    before_range = st.integers(-192, 0)  # in quarter hours from the range start
    within_range = st.integers(0, days * 96)
    local_days = [first_day + timedelta(days=n) for n in range(-1, days + 1)]
    query = Query(
        location_tz=location_tz,
        territory_id=draw(st.sampled_from([None, 1])),
        range_start=range_start,
        range_end=range_end,
        now=anchor
        + timedelta(minutes=15 * draw(st.one_of(before_range, before_range, within_range))),
        min_notice_minutes=30 * draw(st.integers(0, 24)),
        horizon_days=draw(st.sampled_from([28, 1, 2, 3])),
        holidays=frozenset(draw(st.lists(st.sampled_from(local_days), max_size=1))),
    )
    return service, agents, Grid(window, step), query


@st.composite
def crowd_agents(draw: st.DrawFn, anchor: datetime, days: int) -> list[AgentInput]:
    """5-10 agents on 1-3 shared (zone, weekly hours) rotas, booked from a shared pool of
    times (so many agents are busy at exactly the same minutes), often away together."""
    rotas = draw(
        st.lists(st.tuples(st.sampled_from(ZONES), weekly_hours()), min_size=1, max_size=3)
    )
    pool = draw(intervals(anchor, days, max_size=8, longest=240))
    bookings = st.lists(st.sampled_from(pool), max_size=5) if pool else st.just([])
    # Days away for the whole crew or some of it: 36 hours around a day of the range cover
    # that day's shifts on every clock we test.
    away = [
        (anchor + timedelta(days=day, hours=-12), anchor + timedelta(days=day, hours=36))
        for day in draw(st.lists(st.integers(-1, days), max_size=2))
    ]
    some_away = st.lists(st.sampled_from(away), max_size=2) if away else st.just([])
    agents = []
    for agent_id in draw(st.permutations(range(1, 1 + draw(st.integers(5, 10))))):
        tz, hours = draw(st.sampled_from(rotas))
        agents.append(
            AgentInput(
                id=agent_id,
                tz=tz,
                hours=hours,
                skills=draw(st.sampled_from([frozenset({"gas"}), frozenset()])),
                territories=draw(st.sampled_from([frozenset({1}), frozenset({1, 2})])),
                time_off=(
                    *draw(st.one_of(st.just(away), some_away)),
                    *draw(intervals(anchor, days, max_size=1, longest=720)),
                ),
                busy=tuple(draw(bookings)),
            )
        )
    return agents


@settings(max_examples=120, deadline=None)
@given(scenarios())
def test_engine_offers_exactly_the_windows_the_brute_force_model_finds(scenario):
    service, agents, grid, query = scenario
    assert find_windows(service, agents, grid, query) == reference_windows(
        service, agents, grid, query
    )


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_planned_jobs_avoid_bookings_leave_and_off_hours(scenario):
    service, agents, grid, query = scenario
    by_id = {agent.id: agent for agent in agents}
    need = timedelta(minutes=service.duration_minutes + service.buffer_minutes)
    for window in find_windows(service, agents, grid, query):
        assert window.capacity >= 1
        assert len(window.agent_ids) >= service.agents_needed
        assert window.starts_at <= window.planned_start <= window.ends_at
        assert window.planned_start < window.ends_at or window.starts_at == window.ends_at
        job = (window.planned_start, window.planned_start + need)
        for agent_id in window.agent_ids:
            agent = by_id[agent_id]
            assert service.required_skill in (None, *agent.skills)
            assert query.territory_id in (None, *agent.territories)
            for start, end in (*agent.time_off, *agent.busy):
                assert not (start < job[1] and job[0] < end), (agent_id, job, (start, end))
            assert _within_hours(agent, *job), (agent_id, job)


@settings(max_examples=120, deadline=None)
@given(scenarios())
def test_every_range_day_either_offers_a_window_or_has_a_reason(scenario):
    service, agents, grid, query = scenario
    zone = ZoneInfo(query.location_tz)
    offered = {
        w.starts_at.astimezone(zone).date() for w in find_windows(service, agents, grid, query)
    }
    explained = explain_days(service, agents, grid, query)
    assert set(REASONS) >= set(explained.values())
    assert not offered & set(explained)
    assert offered | set(explained) == {day for day, _, _ in reference_grid(grid, query)}


@settings(max_examples=120, deadline=None)
@given(scenarios())
def test_engine_explains_empty_days_as_the_brute_force_model_does(scenario):
    assert explain_days(*scenario) == reference_reasons(*scenario)


@settings(max_examples=60, deadline=None)
@given(scenarios(crowd=True))
def test_crowds_get_exactly_the_windows_and_reasons_of_the_brute_force_model(scenario):
    assert find_windows(*scenario) == reference_windows(*scenario)
    assert explain_days(*scenario) == reference_reasons(*scenario)


def _within_hours(agent: AgentInput, start: datetime, end: datetime) -> bool:
    """Is [start, end) covered by the agent's shifts (adjacent shifts may be chained)?"""
    zone = ZoneInfo(agent.tz)
    first = start.astimezone(zone).date() - timedelta(days=1)
    shifts = sorted(
        (
            datetime.combine(first + timedelta(days=n), rule.start, tzinfo=zone),
            datetime.combine(first + timedelta(days=n), rule.end, tzinfo=zone),
        )
        for n in range(4)
        for rule in agent.hours
        if rule.weekday == (first + timedelta(days=n)).weekday()
    )
    reached = start
    for shift_start, shift_end in shifts:
        if shift_start <= reached < shift_end:
            reached = shift_end
    return reached >= end
