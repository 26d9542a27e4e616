"""Where the list of windows opens: today, or the next free window when the week is empty."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.booking.queries import week_view
from tests.factories import (
    add_time_off,
    build_world,
)

# Saturday 5 December 2026, 10:00 in London (GMT). Agents work Monday to Friday.
SATURDAY = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
# Wednesday 2 December 2026, 07:00 in London.
WEDNESDAY = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)


@pytest.fixture
def world(session):
    # No clock pinned: each test says which moment it looks from.
    return build_world(session, service={"duration_minutes": 60, "buffer_minutes": 30})


def _view(session, world, now, asked=None):
    return week_view(
        session, world["service"], world["location"], asked, now, org_zone="Europe/London"
    )


def test_the_first_view_starts_today_not_at_a_monday_that_has_passed(session, world, frozen_now):
    frozen_now(WEDNESDAY)

    week = _view(session, world, WEDNESDAY)

    assert week.week == date(2026, 12, 2)
    assert [d.day for d in week.days][0] == date(2026, 12, 2)
    assert [d.day for d in week.days][-1] == date(2026, 12, 8)
    assert week.prev_week is None
    assert week.jumped_over is None


def test_a_saturday_view_shows_the_coming_weeks_windows_without_a_click(session, world, frozen_now):
    frozen_now(SATURDAY)

    week = _view(session, world, SATURDAY)

    assert week.week == date(2026, 12, 5)
    assert not week.days[0].windows  # Saturday: nobody works
    assert week.days[2].day == date(2026, 12, 7) and week.days[2].windows
    assert week.next_free is None


def test_a_week_asked_for_in_the_past_starts_today(session, world, frozen_now):
    frozen_now(WEDNESDAY)

    week = _view(session, world, WEDNESDAY, asked=date(2026, 11, 30))

    assert week.week == date(2026, 12, 2)
    assert all(d.day >= date(2026, 12, 2) for d in week.days)


def test_an_empty_first_week_opens_at_the_next_free_window_and_says_so(session, world, frozen_now):
    frozen_now(SATURDAY)
    # On leave until Thursday 17 December, 00:00 UTC: the first free day is that Thursday.
    add_time_off(session, world["agent"], SATURDAY, datetime(2026, 12, 17, 0, 0, tzinfo=UTC), "")

    week = _view(session, world, SATURDAY)

    assert week.jumped_over == date(2026, 12, 5)
    assert week.week == date(2026, 12, 17)
    assert week.days[0].windows
    assert week.next_free is None
    assert week.prev_week == date(2026, 12, 10)


def test_an_empty_week_asked_for_keeps_its_days_and_points_to_the_next_window(
    session, world, frozen_now
):
    frozen_now(SATURDAY)
    add_time_off(session, world["agent"], SATURDAY, datetime(2026, 12, 17, 0, 0, tzinfo=UTC), "")

    week = _view(session, world, SATURDAY, asked=date(2026, 12, 7))

    assert week.week == date(2026, 12, 7)
    assert week.jumped_over is None
    assert not any(d.windows for d in week.days)
    assert week.next_free.starts_at.date() == date(2026, 12, 17)


def test_the_windows_page_names_the_jump(client, auth, session, world, frozen_now):
    frozen_now(SATURDAY)
    add_time_off(session, world["agent"], SATURDAY, datetime(2026, 12, 17, 0, 0, tzinfo=UTC), "")
    auth.login(world["customer"].email)

    page = client.get(
        f"/book?service={world['service'].id}&location={world['location'].id}"
    ).get_data(as_text=True)

    assert "Nothing is free until Thu 17 Dec; showing that week." in page
    assert "Thu 17 Dec – Wed 23 Dec" in page
    assert 'class="slot"' in page
