"""Reading typed business hours and targets: times, intervals past midnight, overlaps
anywhere in the week (Sunday night into Monday too), totals, and "8 h" style targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from portal.calendars.business import Calendar, Interval, business_time_between
from portal.calendars.editing import (
    check_zone,
    clock_text,
    format_minutes,
    interval_minutes,
    parse_clock,
    parse_intervals,
    parse_week,
    week_summary,
)
from portal.errors import Invalid
from portal.sla.settings import parse_minutes

MON, TUE, SUN = 0, 1, 6


@pytest.mark.parametrize(
    ("text", "minute"),
    [("09:00", 540), ("9:30", 570), ("0930", 570), ("17", 1020), ("24:00", 1440), ("00:00", 0)],
)
def test_a_time_of_day_is_read_in_the_usual_spellings(text, minute):
    assert parse_clock(text) == minute


@pytest.mark.parametrize("text", ["25:00", "12:60", "24:30", "noon", ""])
def test_a_time_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError, match="not a time of day"):
        parse_clock(text)


def test_a_lunch_break_is_two_intervals():
    assert parse_intervals("09:00-12:30, 13:30-17:00", MON) == [(540, 750), (810, 1020)]


def test_a_window_past_midnight_keeps_its_end_before_its_start():
    assert parse_intervals("22:00-02:00", MON) == [(1320, 120)]
    assert interval_minutes(1320, 120) == 240


def test_midnight_as_an_end_is_the_end_of_the_day():
    assert parse_intervals("18:00-00:00", MON) == [(1080, 1440)]


def test_an_empty_interval_is_refused_naming_the_day():
    with pytest.raises(Invalid, match="Monday: 09:00–09:00 is empty") as refused:
        parse_intervals("09:00-09:00", MON)
    assert refused.value.field == "mon"


def test_a_bad_time_in_an_interval_is_refused_naming_the_day():
    with pytest.raises(Invalid, match="Tuesday: “25:00” is not a time of day"):
        parse_intervals("09:00-25:00", TUE)


def test_text_that_is_not_an_interval_is_refused():
    with pytest.raises(Invalid, match="is not an interval"):
        parse_intervals("all day", MON)


def test_overlapping_intervals_on_one_day_are_refused_naming_both():
    with pytest.raises(Invalid, match="Monday 12:00–14:00 overlaps Monday 09:00–12:30") as refused:
        parse_week({MON: "09:00-12:30, 12:00-14:00"})
    assert refused.value.field == "mon"


def test_a_night_shift_overlapping_next_mornings_hours_is_refused():
    with pytest.raises(Invalid, match="Monday 22:00–03:00"):
        parse_week({MON: "22:00-03:00", TUE: "02:00-06:00"})


def test_sunday_night_running_into_mondays_hours_is_refused():
    with pytest.raises(Invalid, match="overlaps"):
        parse_week({MON: "00:00-08:00", SUN: "23:00-01:00"})


def test_touching_intervals_are_not_an_overlap():
    assert len(parse_week({MON: "09:00-12:00, 12:00-17:00"})) == 2


def test_the_week_total_reads_in_hours_and_minutes():
    weekdays = {day: "09:00-12:30, 13:30-17:30" for day in range(5)}
    summary = week_summary(parse_week(weekdays))

    assert summary.line == "Open 37 h 30 min a week"
    assert summary.days[0].text == "09:00-12:30, 13:30-17:30"
    assert summary.days[6].minutes == 0


def test_a_closed_week_says_so():
    assert week_summary([]).line.startswith("Closed all week")


@pytest.mark.parametrize(("minutes", "text"), [(480, "8 h"), (90, "1 h 30 min"), (45, "45 min")])
def test_durations_read_as_people_say_them(minutes, text):
    assert format_minutes(minutes) == text


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("90", 90), ("8 h", 480), ("1 h 30 min", 90), ("1h30", 90), ("1:30", 90), ("1.5 h", 90)],
)
def test_a_target_is_read_as_hours_and_minutes_or_minutes(text, minutes):
    assert parse_minutes(text) == minutes


@pytest.mark.parametrize("text", ["soon", "2 days", "1:5", "0", "1.25 min", ""])
def test_a_target_that_is_not_a_length_of_time_is_refused(text):
    with pytest.raises(Invalid):
        parse_minutes(text, field="target_low")


def test_an_unknown_zone_is_refused():
    with pytest.raises(Invalid, match="not a time zone we know") as refused:
        check_zone("Mars/Olympus_Mons")
    assert refused.value.field == "time_zone"


def test_a_half_hour_zone_is_a_zone():
    assert check_zone("Asia/Kolkata") == "Asia/Kolkata"


# --- what is saved is what the arithmetic counts ----------------------------------------

clock_minutes = st.integers(min_value=0, max_value=1439).map(lambda m: m - m % 15)
typed_interval = st.tuples(st.integers(0, 6), clock_minutes, clock_minutes).filter(
    lambda t: t[1] != t[2]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(typed_interval, max_size=8))
def test_the_weeks_total_is_what_business_time_counts_over_a_week(intervals):
    texts: dict[int, list[str]] = {}
    for weekday, start, end in intervals:
        texts.setdefault(weekday, []).append(f"{clock_text(start)}-{clock_text(end)}")
    try:
        week = parse_week({day: ", ".join(parts) for day, parts in texts.items()})
    except Invalid:
        assume(False)  # an overlap: refused, nothing to count
    calendar = Calendar(zone="UTC", hours=tuple(Interval(*row) for row in week))
    monday = datetime(2026, 6, 1, tzinfo=UTC)

    counted = business_time_between(calendar, monday, monday + timedelta(days=7))

    assert counted == timedelta(minutes=week_summary(week).minutes)
