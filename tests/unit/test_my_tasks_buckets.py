"""My tasks sorts what a user holds by the viewer's own day (#14, point 1): the same due
time is "today" in New York and "upcoming" in London."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from portal.staff.home import bucket_held
from tests.factories import NOW  # 2026-06-01 06:00 UTC: 02:00 in New York, 07:00 in London

LATE_EVENING_IN_NEW_YORK = NOW + timedelta(hours=20)  # 22:00 New York, 03:00 next day London


def task(due):
    return SimpleNamespace(due_at=due)


def test_a_task_due_late_tonight_in_new_york_is_due_today_there():
    held = bucket_held([task(LATE_EVENING_IN_NEW_YORK)], "America/New_York", NOW)
    assert (len(held.today), len(held.upcoming)) == (1, 0)


def test_the_same_task_is_upcoming_for_a_viewer_in_london():
    held = bucket_held([task(LATE_EVENING_IN_NEW_YORK)], "Europe/London", NOW)
    assert (len(held.today), len(held.upcoming)) == (0, 1)


def test_a_task_due_a_minute_ago_is_overdue_and_one_without_a_due_time_is_undated():
    held = bucket_held([task(NOW - timedelta(minutes=1)), task(None)], "Asia/Kolkata", NOW)
    assert (len(held.overdue), len(held.undated)) == (1, 1)
    assert [key for key, _, _ in held.sections()] == ["overdue", "undated"]
