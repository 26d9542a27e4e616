"""API tokens in a real browser: from the profile, make a token, see its secret once and
the token listed, revoke it; the page passes axe. The API reference page passes too."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots

SECRET = re.compile(r"^pt_[A-Za-z0-9_\-]{40}$")


def test_a_customer_makes_a_token_sees_it_listed_and_revokes_it(page: Page, screenshot_dir):
    log_in(page, "customer@demo.test")
    page.goto("/profile")
    page.get_by_role("link", name="Manage your API tokens").click()
    expect(page.get_by_role("heading", level=1, name="API tokens")).to_be_visible()
    check_accessibility(page, "the API tokens page")

    page.get_by_label("Token name").fill("Browser test script")
    page.get_by_label("Expires").select_option("30")
    page.get_by_label("Your current password").fill("demo")
    page.get_by_role("button", name="Make the token").click()

    expect(page.get_by_label("Token", exact=True)).to_have_value(SECRET)
    row = page.get_by_role("row").filter(has_text="Browser test script")
    expect(row).to_be_visible()
    check_accessibility(page, "the API tokens page with a new secret")
    screenshots(page, screenshot_dir, "api-tokens")

    page.get_by_role("button", name="Revoke Browser test script").click()

    expect(page.locator(".flashes")).to_contain_text("revoked")
    expect(page.get_by_role("row").filter(has_text="Browser test script")).to_have_count(0)


def test_the_api_reference_page_is_accessible(page: Page, screenshot_dir):
    page.goto("/api/v1/docs")

    expect(page.get_by_role("heading", level=1)).to_contain_text("Portal API")
    expect(
        page.get_by_role("heading", name="POST /api/v1/appointments: Book a window")
    ).to_be_visible()
    check_accessibility(page, "the API reference")
    screenshots(page, screenshot_dir, "api-docs")
