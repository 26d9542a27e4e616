"""Booking in a real browser: the demo customer books a window, and another customer
watching the same windows sees it disappear without reloading."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect

from portal import timeutil
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in

NETWORK = "Office network installation (240 min)"  # needs both London network technicians


def _open_windows(page: Page, service_label: str) -> None:
    page.get_by_role("link", name="Book an appointment").first.click()
    page.get_by_label("Service").select_option(label=service_label)
    page.get_by_label("Where is the work?").select_option(index=1)
    page.get_by_role("button", name="Show free windows").click()
    expect(page.locator("#windows")).to_be_visible()


def _to_a_week_with_windows(page: Page) -> None:
    """Demo bookings may fill this week: move on until a week offers something."""
    for _ in range(4):
        if page.locator("a.slot").count():
            return
        page.get_by_role("link", name="Next week →").click()
        expect(page.locator("#windows")).to_be_visible()
    raise AssertionError("no free window in the next four weeks")


def _refresh_seconds(page: Page) -> int:
    trigger = page.locator("#windows").get_attribute("hx-trigger")
    return int(re.search(r"every (\d+)s", trigger).group(1))


def test_the_demo_customer_books_a_window(page: Page, screenshot_dir):
    log_in(page, "customer@demo.test")
    _open_windows(page, "Leak repair (60 min)")
    expect(page.get_by_text("Times in Europe/London")).to_be_visible()
    check_accessibility(page, "the windows page")
    page.screenshot(path=screenshot_dir / "book-windows-desktop.png", full_page=True)

    slot = page.locator("a.slot").first
    slot.click()
    expect(page.get_by_role("heading", name="Confirm your booking")).to_be_visible()
    check_accessibility(page, "the confirm page")
    page.get_by_label("What would you like us to do?").fill("The kitchen tap drips.")
    page.get_by_role("button", name="Book this window").click()

    expect(page.get_by_role("heading", name="Leak repair")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Booked: Leak repair"))).to_be_visible()
    expect(page.get_by_text("The kitchen tap drips.")).to_be_visible()
    check_accessibility(page, "the appointment page")
    page.screenshot(path=screenshot_dir / "book-done-desktop.png", full_page=True)


def test_the_windows_page_works_on_a_phone(browser: Browser, base_url: str, screenshot_dir):
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, "customer@demo.test")
    _open_windows(page, "Boiler service (90 min)")
    check_accessibility(page, "the windows page on a phone")
    page.screenshot(path=screenshot_dir / "book-windows-phone.png", full_page=True)
    context.close()


def test_a_window_taken_by_someone_else_vanishes_without_a_reload(
    browser: Browser, base_url: str, screenshot_dir
):
    watcher = browser.new_context(base_url=base_url).new_page()
    booker = browser.new_context(base_url=base_url).new_page()
    log_in(watcher, "oliver@demo.test")
    log_in(booker, "customer@demo.test")
    _open_windows(watcher, NETWORK)
    _open_windows(booker, NETWORK)
    _to_a_week_with_windows(watcher)
    _to_a_week_with_windows(booker)
    # A two-technician job: every London window has exactly one place.
    start = booker.locator("a.slot").first.get_attribute("data-start")
    watched = watcher.locator(f'a.slot[data-start="{start}"]')
    expect(watched).to_have_count(1)
    watcher.evaluate("window.__notReloaded = true")

    booker.locator(f'a.slot[data-start="{start}"]').click()
    booker.get_by_role("button", name="Book this window").click()
    expect(booker.get_by_text(re.compile(r"Booked: Office network installation"))).to_be_visible()

    expect(watched).to_have_count(0, timeout=(_refresh_seconds(watcher) + 5) * 1000)
    assert watcher.evaluate("window.__notReloaded === true")
    watcher.screenshot(path=screenshot_dir / "book-window-vanished.png", full_page=True)
    watcher.context.close()
    booker.context.close()


def test_on_a_saturday_the_windows_open_at_today_with_the_coming_week_bookable(
    page: Page, screenshot_dir
):
    """The clock the live server reads is pinned to the coming Saturday, 10:00 in London:
    the list starts that day (no passed weekdays) and offers windows without a click."""
    london = ZoneInfo("Europe/London")
    today = timeutil.now_utc().astimezone(london).date()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7)
    timeutil.freeze(datetime.combine(saturday, time(10, 0), tzinfo=london))

    log_in(page, "customer@demo.test")
    _open_windows(page, "Leak repair (60 min)")

    days = page.locator("li.day h3")
    expect(days.first).to_have_text(f"{saturday:%a %-d %b}")
    expect(page.locator("p.week-label")).to_contain_text(f"{saturday:%a %-d %b} –")
    expect(page.get_by_text("This day has passed")).to_have_count(0)
    expect(page.locator("a.slot").first).to_be_visible()
    check_accessibility(page, "the windows page on a Saturday")
    page.screenshot(path=screenshot_dir / "book-windows-saturday.png", full_page=True)
