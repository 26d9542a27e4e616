"""Calendar links in a real browser: a customer makes one on the profile, the address
serves an .ics a calendar app can read, and resetting it kills the old one; an agent
finds the same panel on My tasks. The pages pass axe."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from icalendar import Calendar
from playwright.sync_api import Page, expect

from portal.calendar_feeds.models import CalendarFeed
from portal.db import get_session
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots

FEED_URL = re.compile(r"^http://127\.0\.0\.1:5000/calendar/[A-Za-z0-9_\-.]+\.ics$")


@pytest.fixture
def no_feeds_left(live_app):
    """Browser tests share the live app's data: remove the links this test makes."""
    yield
    with live_app.app_context():
        session = get_session()
        session.execute(sa.delete(CalendarFeed))
        session.commit()


def feed_path(page: Page) -> str:
    return urlsplit(page.get_by_label("Calendar address").input_value()).path


def test_a_customer_makes_a_calendar_link_uses_it_and_resets_it(
    page: Page, screenshot_dir, no_feeds_left
):
    log_in(page, "customer@demo.test")
    page.goto("/profile")
    page.get_by_role("button", name="Make a calendar link").click()

    expect(page.locator(".flashes")).to_contain_text("Your calendar link is ready")
    expect(page.get_by_label("Calendar address")).to_have_value(FEED_URL)
    check_accessibility(page, "the profile with a calendar link")
    page.get_by_role(
        "heading", name="Your appointments in your calendar"
    ).scroll_into_view_if_needed()
    screenshots(page, screenshot_dir, "profile-calendar")

    old = feed_path(page)
    answer = page.request.get(old)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    assert Calendar.from_ical(answer.body()).walk("VEVENT")  # the demo customer has bookings

    page.get_by_role("button", name="Reset the link").click()

    expect(page.locator(".flashes")).to_contain_text("the old one no longer works")
    assert feed_path(page) != old
    assert page.request.get(old).status == 404
    assert page.request.get(feed_path(page)).status == 200


def test_an_agent_finds_the_calendar_link_on_my_tasks(page: Page, screenshot_dir, no_feeds_left):
    log_in(page, "agent@demo.test")
    page.goto("/staff/")
    page.get_by_role("button", name="Make a calendar link").click()

    expect(page.get_by_label("Calendar address")).to_have_value(FEED_URL)
    check_accessibility(page, "My tasks with a calendar link")
    answer = page.request.get(feed_path(page))
    assert Calendar.from_ical(answer.body()).walk("VEVENT")
