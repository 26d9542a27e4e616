"""Unit tests for the availability engine, one behaviour each.

Most cases use a customer and an agent in UTC on the week of Monday 15 June 2026, an agent
who works 09:00-17:00 on weekdays, a one-hour job and two-hour arrival windows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.availability.engine import (
    REASONS,
    AgentInput,
    Grid,
    Query,
    ServiceSpec,
    Window,
    WorkingHours,
    explain_days,
    find_windows,
    qualified,
)

MONDAY = date(2026, 6, 15)
TUESDAY = MONDAY + timedelta(days=1)
SATURDAY = MONDAY + timedelta(days=5)
NEW_YORK = "America/New_York"
LONDON = "Europe/London"

ONE_HOUR_JOB = ServiceSpec(duration_minutes=60)
TWO_HOUR_WINDOWS = Grid(window_minutes=120)
EXACT_HALF_HOURS = Grid(window_minutes=0, step_minutes=30)
EXACT_HOURS = Grid(window_minutes=0, step_minutes=60)


def at(day: date, hour: int, minute: int = 0, tz: str = "UTC") -> datetime:
    """The instant of a wall time in a zone."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(tz))


def weekdays(start: int = 9, end: int = 17) -> tuple[WorkingHours, ...]:
    return tuple(WorkingHours(day, time(start), time(end)) for day in range(5))


def agent(agent_id: int = 1, *, tz: str = "UTC", hours=None, **fields) -> AgentInput:
    return AgentInput(id=agent_id, tz=tz, hours=weekdays() if hours is None else hours, **fields)


def query(first_day: date = MONDAY, days: int = 1, *, tz: str = "UTC", **fields) -> Query:
    """A query for whole local days; `now` defaults to well before the range."""
    fields = {
        "territory_id": None,
        "range_start": at(first_day, 0, tz=tz),
        "range_end": at(first_day + timedelta(days=days), 0, tz=tz),
        "now": at(first_day - timedelta(days=7), 0, tz=tz),
        **fields,
    }
    return Query(location_tz=tz, **fields)


def starts(windows: list[Window]) -> list[datetime]:
    return [window.starts_at for window in windows]


def hours_of(windows: list[Window], tz: str = "UTC") -> list[str]:
    """Window starts as local "HH:MM" strings, for readable assertions."""
    return [window.starts_at.astimezone(ZoneInfo(tz)).strftime("%H:%M") for window in windows]


def only(windows: list[Window], start: datetime) -> Window:
    [window] = [window for window in windows if window.starts_at == start]
    return window


# --- working hours --------------------------------------------------------------------------


def test_windows_are_offered_wherever_the_job_fits_in_working_hours():
    windows = find_windows(ONE_HOUR_JOB, [agent()], TWO_HOUR_WINDOWS, query())
    assert hours_of(windows) == ["08:00", "10:00", "12:00", "14:00", "16:00"]


def test_window_outside_working_hours_is_not_offered():
    windows = find_windows(ONE_HOUR_JOB, [agent(hours=weekdays(9, 12))], TWO_HOUR_WINDOWS, query())
    assert at(MONDAY, 12) not in starts(windows)


def test_day_without_working_hours_offers_no_windows():
    assert find_windows(ONE_HOUR_JOB, [agent()], TWO_HOUR_WINDOWS, query(SATURDAY)) == []


def test_last_minute_of_a_window_is_a_candidate_start():
    booked = agent(busy=((at(MONDAY, 9), at(MONDAY, 11, 59)),))
    windows = find_windows(ONE_HOUR_JOB, [booked], TWO_HOUR_WINDOWS, query())
    assert only(windows, at(MONDAY, 10)).planned_start == at(MONDAY, 11, 59)


def test_working_hours_starting_mid_minute_start_at_the_next_minute():
    late = tuple(WorkingHours(day, time(9, 0, 30), time(17)) for day in range(5))
    windows = find_windows(ONE_HOUR_JOB, [agent(hours=late)], EXACT_HALF_HOURS, query())
    assert hours_of(windows)[0] == "09:30"


def test_job_must_finish_within_working_hours():
    three_hours = ServiceSpec(duration_minutes=180)
    windows = find_windows(three_hours, [agent()], TWO_HOUR_WINDOWS, query())
    assert hours_of(windows)[-1] == "14:00"


def test_window_opening_before_the_shift_plans_the_job_at_shift_start():
    windows = find_windows(ONE_HOUR_JOB, [agent()], TWO_HOUR_WINDOWS, query())
    assert only(windows, at(MONDAY, 8)).planned_start == at(MONDAY, 9)


def test_back_to_back_working_hours_rules_form_one_shift():
    split = (WorkingHours(0, time(9), time(12)), WorkingHours(0, time(12), time(15)))
    three_hours = ServiceSpec(duration_minutes=180)
    windows = find_windows(three_hours, [agent(hours=split)], EXACT_HOURS, query())
    assert hours_of(windows) == ["09:00", "10:00", "11:00", "12:00"]


# --- time off -------------------------------------------------------------------------------


def test_time_off_removes_the_windows_it_covers():
    on_leave = agent(time_off=((at(MONDAY, 12), at(MONDAY, 14)),))
    windows = find_windows(ONE_HOUR_JOB, [on_leave], TWO_HOUR_WINDOWS, query())
    assert hours_of(windows) == ["08:00", "10:00", "14:00", "16:00"]


def test_time_off_covering_the_whole_day_removes_the_day():
    on_leave = agent(time_off=((at(MONDAY, 0), at(TUESDAY, 0)),))
    assert find_windows(ONE_HOUR_JOB, [on_leave], TWO_HOUR_WINDOWS, query()) == []


# --- travel buffer --------------------------------------------------------------------------


def test_booking_travel_buffer_blocks_a_start_right_after_the_booking():
    # A 09:00-10:00 booking with a 30-minute travel buffer holds the agent until 10:30.
    booked = agent(busy=((at(MONDAY, 9), at(MONDAY, 10, 30)),))
    windows = find_windows(ONE_HOUR_JOB, [booked], EXACT_HALF_HOURS, query())
    assert hours_of(windows)[:2] == ["10:30", "11:00"]


def test_booking_ending_mid_minute_blocks_that_whole_minute():
    booked = agent(busy=((at(MONDAY, 9), at(MONDAY, 10) + timedelta(seconds=30)),))
    windows = find_windows(ONE_HOUR_JOB, [booked], EXACT_HALF_HOURS, query())
    assert hours_of(windows)[0] == "10:30"


def test_job_may_not_overlap_the_next_booking_by_a_single_minute():
    booked = agent(busy=((at(MONDAY, 10, 59), at(MONDAY, 12)),))
    windows = find_windows(ONE_HOUR_JOB, [booked], EXACT_HALF_HOURS, query())
    assert hours_of(windows)[:3] == ["09:00", "09:30", "12:00"]


def test_new_jobs_own_buffer_must_fit_before_the_next_booking():
    with_buffer = ServiceSpec(duration_minutes=60, buffer_minutes=30)
    booked = agent(busy=((at(MONDAY, 13), at(MONDAY, 14)),))
    windows = find_windows(with_buffer, [booked], EXACT_HALF_HOURS, query())
    assert "11:30" in hours_of(windows)
    assert "12:00" not in hours_of(windows)


def test_new_jobs_own_buffer_must_fit_inside_working_hours():
    with_buffer = ServiceSpec(duration_minutes=60, buffer_minutes=30)
    windows = find_windows(with_buffer, [agent()], EXACT_HALF_HOURS, query())
    assert hours_of(windows)[-1] == "15:30"


# --- notice and horizon ---------------------------------------------------------------------


def test_windows_starting_before_the_minimum_notice_are_not_offered():
    soon = query(now=at(MONDAY, 7, 30), min_notice_minutes=120)
    windows = find_windows(ONE_HOUR_JOB, [agent()], TWO_HOUR_WINDOWS, soon)
    assert hours_of(windows)[0] == "10:00"


def test_window_starting_exactly_at_the_notice_limit_is_offered():
    soon = query(now=at(MONDAY, 8), min_notice_minutes=120)
    windows = find_windows(ONE_HOUR_JOB, [agent()], TWO_HOUR_WINDOWS, soon)
    assert hours_of(windows)[0] == "10:00"


def test_windows_starting_at_or_after_the_horizon_are_not_offered():
    three_days = query(days=3, now=at(MONDAY, 0), horizon_days=2)
    windows = find_windows(ONE_HOUR_JOB, [agent()], TWO_HOUR_WINDOWS, three_days)
    assert {window.starts_at.date() for window in windows} == {MONDAY, TUESDAY}


def test_window_starting_exactly_at_the_horizon_is_not_offered():
    two_days = query(days=2, now=at(MONDAY, 10), horizon_days=1)
    windows = find_windows(ONE_HOUR_JOB, [agent()], TWO_HOUR_WINDOWS, two_days)
    assert starts(windows)[-1] == at(TUESDAY, 8)


def test_horizon_counts_from_now_not_from_midnight():
    two_days = query(days=2, now=at(MONDAY, 11), horizon_days=1)
    windows = find_windows(ONE_HOUR_JOB, [agent()], TWO_HOUR_WINDOWS, two_days)
    assert starts(windows)[-1] == at(TUESDAY, 10)


# --- range ----------------------------------------------------------------------------------


def test_only_windows_starting_inside_the_range_are_listed():
    part_day = query(range_start=at(MONDAY, 9), range_end=at(MONDAY, 15))
    windows = find_windows(ONE_HOUR_JOB, [agent()], TWO_HOUR_WINDOWS, part_day)
    assert hours_of(windows) == ["10:00", "12:00", "14:00"]


def test_job_in_the_last_window_of_the_range_may_run_past_the_range_end():
    part_day = query(range_start=at(MONDAY, 9), range_end=at(MONDAY, 16))
    ninety_minutes = ServiceSpec(duration_minutes=90)
    windows = find_windows(ninety_minutes, [agent()], EXACT_HALF_HOURS, part_day)
    assert hours_of(windows)[-1] == "15:30"


def test_empty_range_offers_nothing():
    empty = query(range_start=at(MONDAY, 9), range_end=at(MONDAY, 9))
    assert find_windows(ONE_HOUR_JOB, [agent()], TWO_HOUR_WINDOWS, empty) == []


# --- multi-agent services -------------------------------------------------------------------


def test_two_agent_service_is_offered_only_where_two_agents_are_free_together():
    pair_job = ServiceSpec(duration_minutes=60, agents_needed=2)
    early, late = agent(1, hours=weekdays(9, 13)), agent(2, hours=weekdays(11, 17))
    windows = find_windows(pair_job, [early, late], TWO_HOUR_WINDOWS, query())
    assert hours_of(windows) == ["10:00", "12:00"]
    assert windows[0].planned_start == at(MONDAY, 11)


def test_two_agent_service_needs_two_qualified_agents():
    pair_job = ServiceSpec(duration_minutes=60, agents_needed=2)
    assert find_windows(pair_job, [agent()], TWO_HOUR_WINDOWS, query()) == []


def test_two_agent_capacity_counts_whole_pairs():
    pair_job = ServiceSpec(duration_minutes=60, agents_needed=2)
    five = [agent(agent_id) for agent_id in range(1, 6)]
    windows = find_windows(pair_job, five, TWO_HOUR_WINDOWS, query())
    assert {window.capacity for window in windows} == {2}


# --- skills and territories -----------------------------------------------------------------


def test_agent_without_the_required_skill_is_not_qualified():
    gas_job = ServiceSpec(duration_minutes=60, required_skill="gas")
    agents = [agent(1, skills=frozenset({"electric"})), agent(2, skills=frozenset({"gas"}))]
    assert [a.id for a in qualified(gas_job, agents, None)] == [2]


def test_agent_outside_the_territory_is_not_qualified():
    agents = [agent(1, territories=frozenset({7})), agent(2, territories=frozenset({8}))]
    assert [a.id for a in qualified(ONE_HOUR_JOB, agents, 8)] == [2]


def test_location_without_territory_accepts_agents_from_any_territory():
    agents = [agent(1, territories=frozenset({7})), agent(2)]
    assert [a.id for a in qualified(ONE_HOUR_JOB, agents, None)] == [1, 2]


def test_unqualified_agents_do_not_make_windows_bookable():
    gas_job = ServiceSpec(duration_minutes=60, required_skill="gas")
    fitter = agent(1, hours=weekdays(9, 11), skills=frozenset({"gas"}))
    always_free = agent(2, hours=weekdays(0, 23))
    windows = find_windows(gas_job, [fitter, always_free], TWO_HOUR_WINDOWS, query())
    assert hours_of(windows) == ["08:00", "10:00"]
    assert {window.agent_ids for window in windows} == {(1,)}


def test_territory_filter_applies_to_windows():
    local, remote = agent(1, territories=frozenset({3})), agent(2, territories=frozenset({4}))
    windows = find_windows(ONE_HOUR_JOB, [local, remote], TWO_HOUR_WINDOWS, query(territory_id=4))
    assert {window.agent_ids for window in windows} == {(2,)}


# --- holidays -------------------------------------------------------------------------------


def test_holiday_offers_no_windows():
    closed_monday = query(days=2, holidays=frozenset({MONDAY}))
    windows = find_windows(ONE_HOUR_JOB, [agent()], TWO_HOUR_WINDOWS, closed_monday)
    assert {window.starts_at.date() for window in windows} == {TUESDAY}


def test_holiday_is_a_date_on_the_locations_clock():
    # Monday 22:00 in New York is Tuesday 02:00 UTC: still Monday for a New York customer.
    round_the_clock = tuple(WorkingHours(day, time(0), time(23, 59)) for day in range(7))
    closed_tuesday = query(days=2, tz=NEW_YORK, holidays=frozenset({TUESDAY}))
    windows = find_windows(
        ONE_HOUR_JOB, [agent(hours=round_the_clock)], TWO_HOUR_WINDOWS, closed_tuesday
    )
    assert hours_of(windows, NEW_YORK)[-1] == "22:00"
    assert windows[-1].starts_at == at(TUESDAY, 2)


# --- exact start times ----------------------------------------------------------------------


def test_exact_start_grid_offers_every_step_where_the_job_fits():
    windows = find_windows(ONE_HOUR_JOB, [agent(hours=weekdays(9, 12))], EXACT_HALF_HOURS, query())
    assert hours_of(windows) == ["09:00", "09:30", "10:00", "10:30", "11:00"]


def test_exact_start_windows_start_end_and_plan_at_the_same_instant():
    windows = find_windows(ONE_HOUR_JOB, [agent()], EXACT_HALF_HOURS, query())
    assert all(w.starts_at == w.ends_at == w.planned_start for w in windows)


def test_exact_start_capacity_counts_every_agent_free_at_that_time():
    three = [agent(1), agent(2), agent(3, busy=((at(MONDAY, 9), at(MONDAY, 10)),))]
    windows = find_windows(ONE_HOUR_JOB, three, EXACT_HALF_HOURS, query())
    assert [(w.capacity, w.agent_ids) for w in windows[:3]] == [
        (2, (1, 2)),
        (2, (1, 2)),
        (3, (1, 2, 3)),
    ]


# --- capacity, planned start and agents -----------------------------------------------------


def three_agents_busy_at_ten() -> list[AgentInput]:
    """Agent 1 is free all morning, 2 is busy 10-11 and 3 is busy 10-12."""
    return [
        agent(1),
        agent(2, busy=((at(MONDAY, 10), at(MONDAY, 11)),)),
        agent(3, busy=((at(MONDAY, 10), at(MONDAY, 12)),)),
    ]


def test_capacity_is_the_most_agents_free_at_one_start():
    windows = find_windows(ONE_HOUR_JOB, three_agents_busy_at_ten(), TWO_HOUR_WINDOWS, query())
    assert only(windows, at(MONDAY, 10)).capacity == 2


def test_capacity_counts_agents_free_at_the_same_start_not_across_the_window():
    morning = agent(1, busy=((at(MONDAY, 11), at(MONDAY, 12)),))
    late_morning = agent(2, busy=((at(MONDAY, 9), at(MONDAY, 11)),))
    windows = find_windows(ONE_HOUR_JOB, [morning, late_morning], TWO_HOUR_WINDOWS, query())
    assert only(windows, at(MONDAY, 10)).capacity == 1


def test_planned_start_is_the_earliest_start_with_the_most_free_agents():
    windows = find_windows(ONE_HOUR_JOB, three_agents_busy_at_ten(), TWO_HOUR_WINDOWS, query())
    assert only(windows, at(MONDAY, 10)).planned_start == at(MONDAY, 11)


def test_planned_start_prefers_the_earliest_of_equally_good_starts():
    # Agent 1 can only start at 10:00-10:15 and agent 2 only from 11:00: one agent either way.
    early = agent(1, busy=((at(MONDAY, 11, 15), at(MONDAY, 13)),))
    late = agent(2, busy=((at(MONDAY, 10), at(MONDAY, 11)),))
    windows = find_windows(ONE_HOUR_JOB, [late, early], TWO_HOUR_WINDOWS, query())
    assert only(windows, at(MONDAY, 10)).planned_start == at(MONDAY, 10)


def test_agent_ids_are_the_sorted_agents_free_at_the_planned_start():
    # At 10:00 agents 0 and 1 are free; agent 2 only becomes free at 11:00.
    agents = [*three_agents_busy_at_ten(), agent(0, busy=((at(MONDAY, 11), at(MONDAY, 13)),))]
    windows = find_windows(ONE_HOUR_JOB, agents, TWO_HOUR_WINDOWS, query())
    assert only(windows, at(MONDAY, 10)).agent_ids == (0, 1)


# --- daylight saving time -------------------------------------------------------------------


def new_york_agent(**fields) -> AgentInput:
    return agent(tz=NEW_YORK, hours=weekdays(8, 17), **fields)


def first_start(first_day: date, tz: str = NEW_YORK) -> datetime:
    windows = find_windows(
        ONE_HOUR_JOB, [new_york_agent()], TWO_HOUR_WINDOWS, query(first_day, tz=tz)
    )
    return windows[0].starts_at


def test_new_york_morning_is_an_hour_earlier_in_utc_after_spring_forward():
    assert first_start(date(2026, 3, 2)) == datetime(2026, 3, 2, 13, tzinfo=UTC)
    assert first_start(date(2026, 3, 9)) == datetime(2026, 3, 9, 12, tzinfo=UTC)


def test_new_york_morning_is_an_hour_later_in_utc_after_fall_back():
    assert first_start(date(2026, 10, 26)) == datetime(2026, 10, 26, 12, tzinfo=UTC)
    assert first_start(date(2026, 11, 2)) == datetime(2026, 11, 2, 13, tzinfo=UTC)


def test_london_customer_is_offered_the_same_instants_as_a_new_york_customer():
    # Two weeks around New York's spring forward; London stays on GMT throughout.
    def offered(tz: str) -> list[tuple[datetime, datetime]]:
        two_weeks = query(date(2026, 3, 2), days=14, tz=tz)
        windows = find_windows(ONE_HOUR_JOB, [new_york_agent()], EXACT_HOURS, two_weeks)
        return [(window.starts_at, window.planned_start) for window in windows]

    assert offered(LONDON) == offered(NEW_YORK)
    assert len(offered(LONDON)) == 10 * 9  # ten weekdays, starts 08:00-16:00


def test_london_windows_follow_londons_clock_and_new_york_availability():
    # On 9 March New York (EDT) is 4 hours behind London (GMT): 08:00-17:00 there is
    # 12:00-21:00 here, so two-hour London windows run from 12:00 to 20:00.
    windows = find_windows(
        ONE_HOUR_JOB, [new_york_agent()], TWO_HOUR_WINDOWS, query(date(2026, 3, 9), tz=LONDON)
    )
    assert hours_of(windows, LONDON) == ["12:00", "14:00", "16:00", "18:00", "20:00"]


def test_nonexistent_wall_time_window_is_skipped_on_spring_forward_night():
    nights = (WorkingHours(6, time(0), time(6)),)  # Sunday 00:00-06:00
    windows = find_windows(
        ONE_HOUR_JOB,
        [agent(tz=NEW_YORK, hours=nights)],
        Grid(window_minutes=120, step_minutes=60),
        query(date(2026, 3, 8), tz=NEW_YORK),
    )
    assert hours_of(windows, NEW_YORK) == ["00:00", "01:00", "03:00", "04:00", "05:00"]


def test_repeated_wall_time_window_is_offered_once_on_fall_back_night():
    nights = (WorkingHours(6, time(0), time(6)),)  # Sunday 00:00-06:00
    windows = find_windows(
        ONE_HOUR_JOB,
        [agent(tz=NEW_YORK, hours=nights)],
        Grid(window_minutes=60),
        query(date(2026, 11, 1), tz=NEW_YORK),
    )
    assert hours_of(windows, NEW_YORK) == ["00:00", "01:00", "02:00", "03:00", "04:00", "05:00"]
    one_am = windows[1]  # 01:00 EDT to 02:00 EST: two real hours
    assert one_am.ends_at - one_am.starts_at == timedelta(hours=2)


@pytest.mark.parametrize(
    ("day", "tz"),
    [
        (date(2027, 3, 28), LONDON),
        (date(2027, 10, 31), LONDON),
        (date(2027, 3, 14), NEW_YORK),
        (date(2027, 11, 7), NEW_YORK),
    ],
)
def test_grid_window_end_is_where_every_offered_window_ends_on_change_nights(day, tz):
    nights = (WorkingHours(6, time(0), time(8)),)  # Sunday 00:00-08:00
    grid = Grid(window_minutes=120, step_minutes=60)
    windows = find_windows(ONE_HOUR_JOB, [agent(tz=tz, hours=nights)], grid, query(day, tz=tz))

    assert len(windows) >= 5
    assert [grid.window_end(w.starts_at, tz) for w in windows] == [w.ends_at for w in windows]
    # Two hours on the wall clock: a window across the change lasts one or three real hours.
    assert any(w.ends_at - w.starts_at != timedelta(hours=2) for w in windows)


def test_grid_window_end_of_exact_start_times_is_the_start():
    start = at(date(2027, 3, 28), 0, tz=LONDON)

    assert EXACT_HOURS.window_end(start, LONDON) == start


def test_shift_ending_in_the_spring_forward_gap_uses_the_offset_before_the_change():
    # 02:30 does not exist on 8 March in New York; fold=0 reads it as 02:30 EST = 03:30 EDT.
    short_night = (WorkingHours(6, time(0), time(2, 30)),)
    windows = find_windows(
        ServiceSpec(duration_minutes=30),
        [agent(tz=NEW_YORK, hours=short_night)],
        EXACT_HALF_HOURS,
        query(date(2026, 3, 8), tz=NEW_YORK),
    )
    assert hours_of(windows, NEW_YORK)[-1] == "03:00"


# --- explaining days without windows --------------------------------------------------------


def explain(*agents: AgentInput, service: ServiceSpec = ONE_HOUR_JOB, **query_fields):
    return explain_days(service, list(agents), TWO_HOUR_WINDOWS, query(**query_fields))


def test_every_reason_code_has_customer_text():
    assert set(REASONS) == {
        "past",
        "holiday",
        "notice",
        "horizon",
        "no_agent",
        "time_off",
        "fully_booked",
    }


def test_days_with_windows_are_not_explained():
    assert explain(agent()) == {}


def test_day_entirely_before_now_is_past():
    assert explain(agent(), days=2, now=at(TUESDAY, 10)) == {MONDAY: "past"}


def test_holiday_is_explained_as_holiday():
    assert explain(agent(), holidays=frozenset({MONDAY})) == {MONDAY: "holiday"}


def test_past_outranks_holiday():
    reasons = explain(agent(), days=2, now=at(TUESDAY, 10), holidays=frozenset({MONDAY}))
    assert reasons[MONDAY] == "past"


def test_holiday_outranks_no_agent():
    assert explain(agent(), first_day=SATURDAY, holidays=frozenset({SATURDAY})) == {
        SATURDAY: "holiday"
    }


def test_day_whose_windows_all_start_within_the_notice_is_notice():
    assert explain(agent(), now=at(MONDAY, 0, 30), min_notice_minutes=24 * 60) == {MONDAY: "notice"}


def test_day_whose_windows_all_start_beyond_the_horizon_is_horizon():
    reasons = explain(agent(), days=2, now=at(MONDAY, 0), horizon_days=1)
    assert reasons == {TUESDAY: "horizon"}


def test_day_without_qualified_working_agents_is_no_agent():
    assert explain(agent(), first_day=SATURDAY) == {SATURDAY: "no_agent"}


def test_day_with_fewer_working_agents_than_the_job_needs_is_no_agent():
    pair_job = ServiceSpec(duration_minutes=60, agents_needed=2)
    assert explain(agent(1), agent(2, hours=()), service=pair_job) == {MONDAY: "no_agent"}


def test_day_whose_working_agents_are_on_leave_is_time_off():
    on_leave = agent(time_off=((at(MONDAY, 0), at(TUESDAY, 0)),))
    assert explain(on_leave) == {MONDAY: "time_off"}


def test_day_with_every_window_taken_is_fully_booked():
    booked = agent(busy=((at(MONDAY, 9), at(MONDAY, 17)),))
    assert explain(booked) == {MONDAY: "fully_booked"}


def test_day_partly_within_notice_and_booked_for_the_rest_is_fully_booked():
    booked = agent(busy=((at(MONDAY, 11), at(MONDAY, 17)),))
    assert explain(booked, now=at(MONDAY, 10), min_notice_minutes=60) == {MONDAY: "fully_booked"}


# --- input validation -----------------------------------------------------------------------


def test_exact_start_grid_needs_a_step():
    with pytest.raises(ValueError, match="step_minutes"):
        Grid(window_minutes=0)


def test_query_rejects_naive_datetimes():
    with pytest.raises(ValueError, match="aware"):
        query(range_start=datetime(2026, 6, 15))


def test_duplicate_agent_ids_are_rejected():
    with pytest.raises(ValueError, match="unique"):
        find_windows(ONE_HOUR_JOB, [agent(1), agent(1)], TWO_HOUR_WINDOWS, query())


def test_working_hours_must_end_after_they_start():
    with pytest.raises(ValueError, match="end after"):
        WorkingHours(0, time(17), time(9))
