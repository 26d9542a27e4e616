"""Business-time arithmetic (portal/calendars/business.py), one behaviour each.

The examples use a back office open Monday to Friday 09:00-12:30 and 13:30-17:30 unless a
test says otherwise; 1 June 2026 is a Monday. The property tests at the end check every
function against a minute-by-minute reference written straight from the definition.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.calendars.business import (
    Calendar,
    Holiday,
    Interval,
    add_business_time,
    business_time_between,
    is_open,
    next_close,
    next_open,
)

MONDAY = date(2026, 6, 1)
LONDON, NEW_YORK = "Europe/London", "America/New_York"
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
H = timedelta(hours=1)


def at(day: date, hour: int, minute: int = 0, tz: str = "UTC", fold: int = 0) -> datetime:
    """The instant of a wall time in a zone."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz), fold=fold)


def hm(hour: int, minute: int = 0) -> int:
    return hour * 60 + minute


def weekdays(*spans: tuple[int, int], days: range = range(MON, SAT)) -> tuple[Interval, ...]:
    return tuple(Interval(day, start, end) for day in days for start, end in spans)


OFFICE_HOURS = weekdays((hm(9), hm(12, 30)), (hm(13, 30), hm(17, 30)))


def office(tz: str = "UTC", holidays: tuple[Holiday, ...] = ()) -> Calendar:
    return Calendar(tz, OFFICE_HOURS, holidays)


def around_the_clock(tz: str, holidays: tuple[Holiday, ...] = ()) -> Calendar:
    return Calendar(tz, tuple(Interval(day, 0, 1440) for day in range(7)), holidays)


def on(tz: str, weekday: int, start: int, end: int) -> Calendar:
    return Calendar(tz, (Interval(weekday, start, end),))


# --- lunch breaks, split shifts, nights ---------------------------------------------------


def test_lunch_break_is_not_business_time():
    assert business_time_between(office(), at(MONDAY, 12), at(MONDAY, 14)) == H


def test_adding_across_the_lunch_break_skips_it():
    assert add_business_time(office(), at(MONDAY, 10), 4 * H) == at(MONDAY, 15)


def test_split_shift_counts_both_parts():
    cal = Calendar("UTC", weekdays((hm(7), hm(11)), (hm(16), hm(20))))
    assert business_time_between(cal, at(MONDAY, 0), at(MONDAY + timedelta(1), 0)) == 8 * H


def test_a_deadline_lands_at_the_close_not_at_the_next_opening():
    cal = Calendar("UTC", weekdays((hm(7), hm(11)), (hm(16), hm(20))))
    assert add_business_time(cal, at(MONDAY, 9), 6 * H) == at(MONDAY, 20)


def test_window_past_midnight_belongs_to_its_start_weekday():
    cal = on("UTC", FRI, hm(22), hm(2))
    friday, saturday = MONDAY + timedelta(4), MONDAY + timedelta(5)
    assert add_business_time(cal, at(friday, 23), 2 * H) == at(saturday, 1)
    assert is_open(cal, at(saturday, 1, 59))
    assert not is_open(cal, at(saturday, 2))
    assert not is_open(cal, at(friday, 21, 59))
    assert not is_open(cal, at(MONDAY, 1))  # Sunday night's tail is not Friday's


def test_a_holiday_closes_the_tail_past_midnight_on_its_own_date_only():
    friday, saturday = MONDAY + timedelta(4), MONDAY + timedelta(5)
    closed_saturday = Calendar("UTC", (Interval(FRI, hm(22), hm(2)),), (Holiday(saturday),))
    closed_friday = Calendar("UTC", (Interval(FRI, hm(22), hm(2)),), (Holiday(friday),))
    assert business_time_between(closed_saturday, at(friday, 0), at(saturday, 12)) == 2 * H
    assert business_time_between(closed_friday, at(friday, 0), at(saturday, 12)) == 2 * H
    assert is_open(closed_friday, at(saturday, 1))
    assert not is_open(closed_friday, at(friday, 23))


def test_touching_intervals_join_into_one_stretch():
    cal = Calendar("UTC", (Interval(FRI, hm(22), hm(2)), Interval(SAT, hm(2), hm(6))))
    friday = MONDAY + timedelta(4)
    assert next_close(cal, at(friday, 23)) == at(friday + timedelta(1), 6)


# --- holidays -----------------------------------------------------------------------------


def test_part_day_holiday_closes_only_its_hours():
    cal = office(holidays=(Holiday(MONDAY, hm(13, 30), hm(17, 30), "Staff training"),))
    assert add_business_time(cal, at(MONDAY, 10), 4 * H) == at(MONDAY + timedelta(1), 10, 30)


def test_forty_hours_cross_a_weekend_and_two_holidays():
    christmas, boxing_day_observed = date(2026, 12, 25), date(2026, 12, 28)
    cal = office(LONDON, (Holiday(christmas), Holiday(boxing_day_observed)))
    start = at(date(2026, 12, 23), 15, tz=LONDON)  # a Wednesday: 2.5 h left that day
    due = add_business_time(cal, start, 40 * H)
    assert due == at(date(2027, 1, 1), 17, 30, tz=LONDON)
    assert business_time_between(cal, start, due) == 40 * H


def test_holiday_is_placed_on_its_local_date_not_a_day_early():
    # 25 December 01:00 UTC is still Christmas Eve in New York and already Christmas
    # morning in Auckland (zammad #3706 closed the day before).
    hours = tuple(Interval(day, 0, 1440) for day in range(7))
    christmas = (Holiday(date(2026, 12, 25)),)
    new_york, auckland = (
        Calendar(NEW_YORK, hours, christmas),
        Calendar("Pacific/Auckland", hours, christmas),
    )
    instant = datetime(2026, 12, 25, 1, tzinfo=UTC)
    assert is_open(new_york, instant)
    assert not is_open(auckland, instant)
    assert not is_open(new_york, at(date(2026, 12, 25), 0, tz=NEW_YORK))
    assert is_open(auckland, at(date(2026, 12, 26), 0, tz="Pacific/Auckland"))


# --- clock changes and unusual offsets ---------------------------------------------------


def test_london_spring_forward_day_has_23_hours():
    cal = around_the_clock(LONDON)
    day = date(2026, 3, 29)
    assert (
        business_time_between(cal, at(day, 0, tz=LONDON), at(day + timedelta(1), 0, tz=LONDON))
        == 23 * H
    )


def test_london_skipped_hour_counts_nothing():
    assert business_time_between(
        on(LONDON, SUN, hm(1), hm(2)), at(date(2026, 3, 28), 0), at(date(2026, 3, 30), 0)
    ) == timedelta(0)


def test_london_repeated_hour_counts_twice():
    cal = on(LONDON, SUN, hm(1), hm(2))
    assert business_time_between(cal, at(date(2026, 10, 24), 0), at(date(2026, 10, 26), 0)) == 2 * H
    assert add_business_time(cal, at(date(2026, 10, 25), 1, tz=LONDON), H) == datetime(
        2026, 10, 25, 1, tzinfo=UTC
    )


def test_new_york_clock_changes():
    spring, fall = date(2026, 3, 8), date(2026, 11, 1)
    early_sunday = on(NEW_YORK, SUN, hm(0), hm(3))
    assert (
        business_time_between(early_sunday, at(spring, 0, tz=NEW_YORK), at(spring, 12, tz=NEW_YORK))
        == 2 * H
    )
    assert (
        business_time_between(early_sunday, at(fall, 0, tz=NEW_YORK), at(fall, 12, tz=NEW_YORK))
        == 4 * H
    )


def test_new_york_deadline_over_the_spring_change_keeps_wall_clock_hours():
    cal = office(NEW_YORK)
    friday = date(2026, 3, 6)
    assert add_business_time(cal, at(friday, 16, 30, tz=NEW_YORK), 2 * H) == at(
        date(2026, 3, 9), 10, tz=NEW_YORK
    )


def test_kolkata_half_hour_offset():
    cal = office("Asia/Kolkata")
    assert next_open(cal, at(MONDAY, 0)) == at(MONDAY, 3, 30)  # 09:00 IST
    assert add_business_time(cal, at(MONDAY, 0), 7.5 * H) == at(MONDAY, 12)  # 17:30 IST


def test_kathmandu_quarter_hour_offset():
    cal = office("Asia/Kathmandu")
    assert next_open(cal, at(MONDAY, 0)) == at(MONDAY, 3, 15)  # 09:00 NPT


def test_lord_howe_half_hour_clock_changes():
    cal = on("Australia/Lord_Howe", SUN, hm(1), hm(3))
    back, forward = date(2026, 4, 5), date(2026, 10, 4)
    tz = "Australia/Lord_Howe"
    assert business_time_between(cal, at(back, 0, tz=tz), at(back, 12, tz=tz)) == timedelta(
        hours=2.5
    )
    assert business_time_between(cal, at(forward, 0, tz=tz), at(forward, 12, tz=tz)) == timedelta(
        hours=1.5
    )


def test_santiago_repeats_the_last_hour_of_the_day():
    # Chile turns 24:00 back to 23:00 on 4 April 2026: Saturday 23:00-24:00 happens twice.
    cal = on("America/Santiago", SAT, hm(23), hm(24))
    day = date(2026, 4, 4)
    assert business_time_between(cal, at(day, 0), at(day + timedelta(2), 0)) == 2 * H


def test_a_change_after_midnight_goes_back_into_the_day_before():
    # St John's turned 00:01 back to 23:01 on 1 November 2009: its first Sunday minute came
    # before Saturday's second 23:01-24:00.
    cal = on("America/St_Johns", SAT, hm(23, 30), hm(24))
    first_pass = datetime(2009, 11, 1, 2, tzinfo=UTC)  # Saturday 23:30 NDT
    assert business_time_between(cal, first_pass, first_pass + 2 * H) == H
    assert not is_open(cal, datetime(2009, 11, 1, 2, 30, 30, tzinfo=UTC))  # Sunday 00:00 NDT
    due = add_business_time(cal, first_pass, timedelta(minutes=45))
    assert due == datetime(2009, 11, 1, 3, 15, tzinfo=UTC)  # Saturday 23:45 NST


# --- the ERPNext regressions (frappe/erpnext #47029, #49414) -----------------------------


def test_time_on_hold_over_a_weekend_counts_only_business_time():
    cal = office(LONDON)
    paused, resumed = at(date(2026, 6, 5), 16, tz=LONDON), at(date(2026, 6, 8), 10, tz=LONDON)
    assert business_time_between(cal, paused, resumed) == timedelta(hours=2.5)


def test_a_deadline_after_a_hold_lands_in_business_hours():
    cal = office(LONDON)
    resumed_at_night = at(date(2026, 6, 5), 22, tz=LONDON)  # Friday night
    due = add_business_time(cal, resumed_at_night, 3 * H)
    assert due == at(date(2026, 6, 8), 12, tz=LONDON)
    assert is_open(cal, due - timedelta(microseconds=1))


# --- edges and bad input ------------------------------------------------------------------


def test_zero_amount_returns_the_start_even_when_closed():
    assert add_business_time(office(), at(MONDAY, 3), timedelta(0)) == at(MONDAY, 3)


def test_results_are_utc():
    due = add_business_time(office(LONDON), at(MONDAY, 10, tz=LONDON), H)
    assert due.tzinfo is UTC


def test_between_is_negative_backwards():
    assert business_time_between(office(), at(MONDAY, 14), at(MONDAY, 12)) == -H


def test_between_counts_seconds_exactly():
    start = at(MONDAY, 12, 29) + timedelta(seconds=30, microseconds=5)
    assert business_time_between(office(), start, at(MONDAY, 13, 31)) == timedelta(
        seconds=90, microseconds=-5
    )


def test_negative_amount_is_refused():
    with pytest.raises(ValueError, match="must not be negative"):
        add_business_time(office(), at(MONDAY, 10), -H)


def test_calendar_without_hours():
    empty = Calendar("UTC", ())
    with pytest.raises(ValueError, match="This calendar has no working hours"):
        add_business_time(empty, at(MONDAY, 10), H)
    assert business_time_between(empty, at(MONDAY, 0), at(MONDAY, 23)) == timedelta(0)
    assert next_open(empty, at(MONDAY, 10)) is None
    assert not is_open(empty, at(MONDAY, 10))


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(office(), datetime(2026, 6, 1, 10))


def test_unknown_zone_is_refused():
    with pytest.raises(ValueError, match="Unknown time zone"):
        Calendar("Mars/Olympus_Mons", OFFICE_HOURS)


def test_adding_past_the_year_9999_is_refused():
    with pytest.raises(ValueError, match="9999"):
        add_business_time(office(), datetime(9999, 12, 1, tzinfo=UTC), timedelta(days=100))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Interval(7, 0, 60),
        lambda: Interval(0, 1440, 60),
        lambda: Interval(0, 60, 0),
        lambda: Holiday(MONDAY, 600, 600),
        lambda: Holiday(MONDAY, 0, 1441),
        lambda: Holiday(datetime(2026, 6, 1, tzinfo=UTC)),
    ],
)
def test_bad_intervals_and_holidays_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_lists_are_accepted_and_kept_as_tuples():
    cal = Calendar("UTC", list(OFFICE_HOURS), [Holiday(MONDAY)])
    assert cal == office(holidays=(Holiday(MONDAY),))
    assert hash(cal) == hash(office(holidays=(Holiday(MONDAY),)))


def test_next_open_and_close():
    cal = office()
    assert next_open(cal, at(MONDAY, 10)) == at(MONDAY, 10)
    assert next_open(cal, at(MONDAY, 12, 45)) == at(MONDAY, 13, 30)
    assert next_open(cal, at(MONDAY + timedelta(5), 10)) == at(MONDAY + timedelta(7), 9)
    assert next_close(cal, at(MONDAY, 10)) == at(MONDAY, 12, 30)
    assert next_close(cal, at(MONDAY, 12, 45)) == at(MONDAY, 12, 45)


def test_next_close_around_the_clock():
    assert next_close(around_the_clock(LONDON), at(MONDAY, 10)) is None
    with_holiday = around_the_clock(LONDON, (Holiday(date(2026, 6, 20)),))
    assert next_close(with_holiday, at(MONDAY, 10)) == at(date(2026, 6, 20), 0, tz=LONDON)


# --- properties against a minute-by-minute reference --------------------------------------

# Zones and the year whose offset changes the walks start near.
ZONES = (
    ("UTC", 2026),
    (LONDON, 2026),
    (NEW_YORK, 2026),
    ("America/Santiago", 2026),  # changes at midnight
    ("Australia/Lord_Howe", 2026),  # 30-minute DST
    ("Pacific/Chatham", 2026),  # +12:45 / +13:45
    ("Asia/Kolkata", 2026),
    ("Asia/Kathmandu", 2026),
    # Changed at 00:01, so Sunday's first minute came before Saturday's repeated hour, on a
    # half-hour offset; and a two-hour "double daylight" change.
    ("America/St_Johns", 2009),
    ("America/Goose_Bay", 1988),
)


def _offset_changes(zone: str, year: int) -> list[datetime]:
    """The instants (to the half hour) of the zone's offset changes in a year; noon mid-year
    if none."""
    tz, t, found = ZoneInfo(zone), datetime(year, 1, 1, tzinfo=UTC), []
    previous = t.astimezone(tz).utcoffset()
    while t.year == year:
        offset = t.astimezone(tz).utcoffset()
        if offset != previous:
            found.append(t)
        previous, t = offset, t + timedelta(minutes=30)
    return found or [datetime(year, 7, 1, 12, tzinfo=UTC)]


CHANGES = {zone: _offset_changes(zone, year) for zone, year in ZONES}
HORIZON = 6 * 1440  # minutes the reference covers


def reference_open(cal: Calendar, instant: datetime) -> bool:
    """The definition, word for word."""
    local = instant.astimezone(ZoneInfo(cal.zone))
    d, m = local.date(), local.hour * 60 + local.minute
    if any(h.day == d and h.start <= m < h.end for h in cal.holidays):
        return False
    yesterday = (d - timedelta(days=1)).weekday()
    return any(
        (iv.weekday == d.weekday() and iv.start <= m < (iv.end if iv.end > iv.start else 1440))
        or (iv.weekday == yesterday and iv.end <= iv.start and m < iv.end)
        for iv in cal.hours
    )


class Reference:
    """Open minutes from t0 on, stepping UTC minutes, and their running sum."""

    def __init__(self, cal: Calendar, t0: datetime) -> None:
        self.t0 = t0
        self.open = [reference_open(cal, t0 + timedelta(minutes=i)) for i in range(HORIZON)]
        self.cum = [0, *accumulate(self.open)]  # cum[i]: open minutes in [t0, t0 + i min)

    def used(self, seconds: int) -> int:
        """Business seconds in [t0, t0 + seconds)."""
        minute, rest = divmod(seconds, 60)
        return self.cum[minute] * 60 + (rest if rest and self.open[minute] else 0)

    def earliest(self, start: int, amount: int) -> int | None:
        """Seconds after t0 of the earliest t >= start with used(t) - used(start) == amount."""
        if amount == 0:
            return start
        target = self.used(start) + amount
        minute = bisect_left(self.cum, -(-target // 60)) - 1  # first minute reaching it
        if minute >= HORIZON:
            return None
        return max(start, minute * 60 + target - self.cum[minute] * 60)


minute_of_day = st.one_of(
    st.integers(0, 1439), st.integers(0, 95).map(lambda q: q * 15), st.integers(0, 240)
)


@st.composite
def calendars(draw: st.DrawFn) -> tuple[Calendar, datetime]:
    """A random calendar and a reference start within two weeks of one of its zone's changes."""
    zone = draw(st.sampled_from([zone for zone, _ in ZONES]))
    change = draw(st.sampled_from(CHANGES[zone]))
    t0 = change + timedelta(
        minutes=draw(st.one_of(st.integers(-20160, 20160), st.integers(-5 * 1440, 0)))
    )
    t0 = t0.replace(second=0, microsecond=0)
    hours = []
    for weekday in range(7):
        for _ in range(draw(st.sampled_from([0, 1, 1, 2, 3]))):
            start = draw(minute_of_day)
            end = draw(
                st.one_of(
                    st.integers(start + 1, 1440) if start < 1439 else st.just(1440),
                    st.integers(1, 1440),
                )
            )
            hours.append(Interval(weekday, start, end))
    if not hours:
        hours.append(Interval(draw(st.integers(0, 6)), 540, 1020))
    first_day = t0.astimezone(ZoneInfo(zone)).date()
    holidays = []
    for _ in range(draw(st.integers(0, 3))):
        day = first_day + timedelta(days=draw(st.integers(-1, 7)))
        if draw(st.booleans()):
            holidays.append(Holiday(day))
        else:
            start = draw(minute_of_day)
            holidays.append(
                Holiday(day, start, draw(st.integers(start + 1, 1440)) if start < 1439 else 1440)
            )
    return Calendar(zone, tuple(hours), tuple(holidays)), t0


offsets = st.integers(0, HORIZON * 60 - 1)  # seconds after t0


@settings(max_examples=60, deadline=None)
@given(calendars(), st.lists(st.tuples(offsets, offsets), min_size=1, max_size=20))
def test_between_matches_the_reference(setup, pairs):
    cal, t0 = setup
    ref = Reference(cal, t0)
    for a, b in pairs:
        expected = timedelta(seconds=ref.used(b) - ref.used(a))
        got = business_time_between(cal, t0 + timedelta(seconds=a), t0 + timedelta(seconds=b))
        assert got == expected, (a, b)


@settings(max_examples=60, deadline=None)
@given(
    calendars(),
    st.lists(st.tuples(offsets, st.integers(0, 3 * 1440 * 60)), min_size=1, max_size=20),
)
def test_add_lands_at_the_earliest_instant_that_uses_the_amount(setup, requests):
    cal, t0 = setup
    ref = Reference(cal, t0)
    for start, amount in requests:
        begin = t0 + timedelta(seconds=start)
        due = add_business_time(cal, begin, timedelta(seconds=amount))
        expected = ref.earliest(start, amount)
        if expected is None:  # beyond what the reference covers
            assert due > t0 + timedelta(minutes=HORIZON), (start, amount)
        else:
            assert due == t0 + timedelta(seconds=expected), (start, amount)
        assert business_time_between(cal, begin, due) == timedelta(seconds=amount)
        if amount:  # never at night or on a weekend: the instant before is business time
            assert is_open(cal, due - timedelta(microseconds=1))


@settings(max_examples=40, deadline=None)
@given(calendars(), st.lists(st.integers(0, HORIZON - 1), min_size=1, max_size=30))
def test_open_next_open_and_next_close_match_the_reference(setup, minutes):
    cal, t0 = setup
    ref = Reference(cal, t0)
    for i in minutes:
        instant = t0 + timedelta(minutes=i)
        assert is_open(cal, instant) == ref.open[i], i
        opening = next((j for j in range(i, HORIZON) if ref.open[j]), None)
        if opening is not None:
            assert next_open(cal, instant) == t0 + timedelta(minutes=opening), i
        closing = next((j for j in range(i, HORIZON) if not ref.open[j]), None)
        if closing is not None:
            assert next_close(cal, instant) == t0 + timedelta(minutes=closing), i
