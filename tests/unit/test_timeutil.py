"""The one clock (which tests freeze) and local days in a zone, DST days included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal import timeutil

LONDON = "Europe/London"


def test_now_utc_is_aware_utc():
    now = timeutil.now_utc()

    assert now.tzinfo is UTC


def test_freeze_pins_now_utc(frozen_now):
    frozen_now(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))

    assert timeutil.now_utc() == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


def test_freeze_converts_the_instant_to_utc(frozen_now):
    frozen_now(datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo(LONDON)))

    assert timeutil.now_utc() == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    assert timeutil.now_utc().tzinfo is UTC


def test_freeze_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="aware"):
        timeutil.freeze(datetime(2026, 3, 29, 0, 30))


def test_freezing_none_lets_the_clock_run_again(frozen_now):
    frozen_now(datetime(2020, 1, 1, tzinfo=UTC))
    timeutil.freeze(None)

    assert timeutil.now_utc().year > 2020


def test_a_local_day_is_24_hours_on_an_ordinary_day():
    start, end = timeutil.local_day_bounds(date(2026, 6, 15), LONDON)

    assert start == datetime(2026, 6, 14, 23, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=24)


def test_the_day_the_clocks_go_forward_in_london_lasts_23_hours():
    start, end = timeutil.local_day_bounds(date(2026, 3, 29), LONDON)

    assert start == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=23)


def test_the_day_the_clocks_go_back_in_london_lasts_25_hours():
    start, end = timeutil.local_day_bounds(date(2026, 10, 25), LONDON)

    assert start == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 10, 26, 0, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=25)


def test_day_bounds_are_utc():
    start, end = timeutil.local_day_bounds(date(2026, 10, 25), "America/New_York")

    assert start.tzinfo is UTC and end.tzinfo is UTC


def test_the_clock_offset_is_read_in_seconds_from_the_environment(monkeypatch):
    monkeypatch.setenv("PORTAL_CLOCK_OFFSET", "-90.5")

    assert timeutil._offset_from_environment() == timedelta(seconds=-90.5)


def test_without_a_clock_offset_the_clock_is_the_machines(monkeypatch):
    monkeypatch.delenv("PORTAL_CLOCK_OFFSET", raising=False)

    assert timeutil._offset_from_environment() == timedelta(0)


def test_the_clock_offset_moves_now_utc_and_a_freeze_still_wins(monkeypatch, frozen_now):
    monkeypatch.setattr(timeutil, "_offset", timedelta(days=7))
    before = datetime.now(UTC)

    moved = timeutil.now_utc()

    assert before + timedelta(days=7) <= moved <= datetime.now(UTC) + timedelta(days=7)
    pinned = frozen_now(datetime(2026, 12, 5, 10, 0, tzinfo=UTC))
    assert timeutil.now_utc() == pinned
