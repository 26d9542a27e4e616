"""Log-in in a real browser (Debian's chromium): demo users reach their home pages, the
pages pass axe's WCAG 2.1 AA checks, and the keyboard finds the skip link first."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots


def test_the_login_page_is_accessible(page: Page, screenshot_dir):
    page.goto("/login")

    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    check_accessibility(page, "the log-in page")
    screenshots(page, screenshot_dir, "login")


def test_a_failed_login_is_announced_and_accessible(page: Page, screenshot_dir):
    log_in(page, "customer@demo.test", "wrong password", succeed=False)

    expect(page.get_by_role("alert")).to_contain_text("do not match")
    check_accessibility(page, "the log-in page after a failed log-in")
    screenshots(page, screenshot_dir, "login-failed")


def test_the_demo_customer_logs_in_and_sees_their_appointments(page: Page, screenshot_dir):
    log_in(page, "customer@demo.test")

    expect(page).to_have_url(re.compile(r"/appointments$"))
    expect(page.get_by_role("heading", level=1, name="Your appointments")).to_be_visible()
    check_accessibility(page, "the customer's appointments")
    screenshots(page, screenshot_dir, "customer-home")


def test_the_scheduler_logs_in_and_sees_their_tasks(page: Page, screenshot_dir):
    log_in(page, "scheduler@demo.test")

    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("heading", level=1, name="My tasks")).to_be_visible()
    check_accessibility(page, "the scheduler's tasks")
    screenshots(page, screenshot_dir, "scheduler-home")


@pytest.mark.parametrize("path", ["/login", "/no-such-page"])
def test_the_first_tab_reaches_the_skip_link(page: Page, path):
    page.goto(path)

    page.keyboard.press("Tab")

    focused = page.locator(":focus")
    expect(focused).to_have_text("Skip to content")
    expect(focused).to_have_attribute("href", "#main")
    expect(focused).to_be_in_viewport()


def test_the_not_found_page_is_accessible(page: Page):
    page.goto("/no-such-page")

    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    check_accessibility(page, "the not-found page")
