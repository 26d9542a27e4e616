"""How an arrival window reads, clock changes included: each end in its own zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.formatting import fmt_slot, fmt_window

LONDON = "Europe/London"
NEW_YORK = "America/New_York"


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_window_on_an_ordinary_day_names_its_zone_once():
    label = fmt_window(at(2027, 3, 2, 8), at(2027, 3, 2, 10), LONDON)

    assert label == "Tue 2 Mar, 08:00–10:00 GMT"


def test_a_window_wholly_after_the_change_keeps_one_zone_name():
    # Sunday 28 March 2027, London: 02:00-04:00 BST, both ends in summer time.
    label = fmt_window(at(2027, 3, 28, 1), at(2027, 3, 28, 3), LONDON)

    assert label == "Sun 28 Mar, 02:00–04:00 BST"


def test_a_window_across_spring_forward_names_each_end_in_its_own_zone():
    # 00:00 GMT to 02:00 BST: one hour of elapsed time, two hours on the wall clock.
    label = fmt_window(at(2027, 3, 28, 0), at(2027, 3, 28, 1), LONDON)

    assert label == "Sun 28 Mar, 00:00 GMT–02:00 BST"


def test_a_window_across_fall_back_names_each_end_in_its_own_zone():
    # Sunday 31 October 2027, London: 01:00 BST (the first 01:00) to 03:00 GMT.
    label = fmt_window(at(2027, 10, 31, 0), at(2027, 10, 31, 3), LONDON)

    assert label == "Sun 31 Oct, 01:00 BST–03:00 GMT"


def test_the_repeated_hour_is_told_apart_by_its_zone():
    # 01:00 BST to 01:30 GMT: without the names both ends would read as 01:xx.
    label = fmt_window(at(2027, 10, 31, 0), at(2027, 10, 31, 1, 30), LONDON)

    assert label == "Sun 31 Oct, 01:00 BST–01:30 GMT"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Sunday 14 March 2027: New York springs forward at 02:00.
        (at(2027, 3, 14, 5), at(2027, 3, 14, 7), "Sun 14 Mar, 00:00 EST–03:00 EDT"),
        (at(2027, 3, 14, 8), at(2027, 3, 14, 10), "Sun 14 Mar, 04:00–06:00 EDT"),
        # Sunday 7 November 2027: New York falls back at 02:00.
        (at(2027, 11, 7, 5), at(2027, 11, 7, 7), "Sun 7 Nov, 01:00 EDT–02:00 EST"),
        (at(2027, 11, 7, 8), at(2027, 11, 7, 10), "Sun 7 Nov, 03:00–05:00 EST"),
    ],
)
def test_new_york_windows_around_its_2027_changes(start, end, expected):
    assert fmt_window(start, end, NEW_YORK) == expected


def test_ends_that_share_an_abbreviation_but_not_an_offset_show_their_offsets():
    # Moscow, 27 March 2011: "MSK" moved from UTC+3 to UTC+4 at 02:00 local.
    label = fmt_window(at(2011, 3, 26, 22), at(2011, 3, 26, 23), "Europe/Moscow")

    assert label == "Sun 27 Mar, 01:00 MSK (UTC+03:00)–03:00 MSK (UTC+04:00)"


def test_an_exact_start_time_is_shown_alone():
    label = fmt_window(at(2027, 3, 28, 0), at(2027, 3, 28, 0), LONDON)

    assert label == "Sun 28 Mar, 00:00 GMT"


def test_a_slot_in_the_days_list_shows_bare_times_on_an_ordinary_day():
    assert fmt_slot(at(2027, 3, 2, 8), at(2027, 3, 2, 10), LONDON) == "08:00–10:00"


def test_a_slot_across_spring_forward_names_each_end_in_its_own_zone():
    # Sunday 28 March 2027, London: 00:00 GMT is 00:00 UTC; two wall-clock hours later is
    # 02:00 BST, 01:00 UTC.
    assert fmt_slot(at(2027, 3, 28, 0), at(2027, 3, 28, 1), LONDON) == "00:00 GMT–02:00 BST"
