"""The profile's sessions in a real browser (issue #12, point 9): a phone and a laptop are
logged in as one customer; the laptop's profile lists both, itself first and marked,
and "Log out everywhere" ends both. The section passes axe and is photographed."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.axe import check_accessibility
from tests.browser.pages import PHONE, log_in, screenshots

# leo@ is used by no other browser test: the list shows this test's sessions only.
EMAIL = "leo@demo.test"
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def test_the_profile_lists_the_sessions_and_logs_out_everywhere(
    page: Page, browser, base_url, screenshot_dir
):
    phone_context = browser.new_context(
        base_url=base_url, viewport=PHONE, user_agent=SAFARI_ON_IPHONE
    )
    try:
        phone = phone_context.new_page()
        log_in(phone, EMAIL)
        log_in(page, EMAIL)

        page.goto("/profile")
        section = page.get_by_role("region", name="Where you are logged in")
        expect(section).to_be_visible()
        sessions = section.get_by_role("listitem")
        expect(sessions.first).to_contain_text("This device")
        expect(sessions.first).to_contain_text(re.compile(r"Chrome on Linux"))
        phone_entry = sessions.filter(has_text="Safari on an iPhone")
        expect(phone_entry).to_have_count(1)
        expect(phone_entry).to_contain_text("Address 127.0.0.1")
        expect(
            phone_entry.get_by_role("button", name=re.compile("^Log out Safari"))
        ).to_be_visible()
        section.scroll_into_view_if_needed()
        check_accessibility(page, "the profile with its sessions")
        screenshots(page, screenshot_dir, "profile-sessions")

        section.get_by_role("button", name="Log out everywhere").click()

        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        expect(page.locator(".flashes")).to_contain_text("logged out on every device")
        phone.goto("/profile")
        expect(phone).to_have_url(re.compile(r"/login"))
        expect(phone.get_by_role("heading", name="Log in")).to_be_visible()
        expect(phone.locator(".flashes")).to_contain_text("logged out on every device")
    finally:
        phone_context.close()
