"""Webhook settings in a real browser: a manager reaches them from the settings
navigation, adds an endpoint, copies its secret, sees it listed, pings and removes it;
each page passes axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from portal.db import get_session
from portal.webhooks import services as webhooks
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots

RECEIVER = "http://127.0.0.1:9/hooks/portal"  # nothing listens: the ping waits to retry
SECRET = re.compile(r"^whsec_[A-Za-z0-9_\-]{40,}$")


@pytest.fixture
def loopback_allowed(live_app):
    """The live app refuses loopback receivers, as in production; this test's is one.
    Whatever the test leaves behind is removed, for the browser tests that follow."""
    live_app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    yield
    live_app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    with live_app.app_context():
        session = get_session()
        for endpoint in webhooks.list_endpoints(session):
            webhooks.delete_endpoint(session, endpoint)
        session.commit()


def test_a_manager_adds_an_endpoint_sees_it_listed_and_removes_it(
    page: Page, screenshot_dir, loopback_allowed
):
    log_in(page, "manager@demo.test")
    page.goto("/settings/")
    page.get_by_role("navigation", name="Settings sections").get_by_role(
        "link", name="Webhooks"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Webhooks")).to_be_visible()
    check_accessibility(page, "the webhooks page")

    page.get_by_role("button", name="Add the endpoint").click()  # nothing filled in
    expect(page.get_by_text("Enter the URL to send events to.")).to_be_visible()
    expect(page.get_by_text("Choose at least one event to send.")).to_be_visible()
    check_accessibility(page, "the webhooks page with errors")

    page.get_by_label("URL", exact=True).fill(RECEIVER)
    page.get_by_label("Description (optional)").fill("Browser test receiver")
    page.get_by_label("Appointment booked").check()
    page.get_by_label("Work order closed").check()
    page.get_by_role("button", name="Add the endpoint").click()

    expect(page.get_by_role("heading", level=1, name="Webhook endpoint")).to_be_visible()
    expect(page.get_by_label("Signing secret", exact=True)).to_have_value(SECRET)
    check_accessibility(page, "a new endpoint with its secret")
    screenshots(page, screenshot_dir, "webhook-endpoint")

    page.get_by_role("button", name="Send a test ping").click()
    expect(page.locator(".flashes")).to_contain_text("A test ping is queued")
    expect(page.get_by_label("Signing secret", exact=True)).to_have_count(0)  # shown only once
    expect(page.locator(".deliveries")).to_contain_text("ping")

    page.get_by_role("link", name="← All webhooks").click()
    listed = page.locator(".plain-list li").filter(has_text=RECEIVER)
    expect(listed).to_contain_text("Browser test receiver")
    expect(listed).to_contain_text("Active")
    check_accessibility(page, "the webhooks page with an endpoint")
    screenshots(page, screenshot_dir, "webhooks")

    listed.get_by_role("link", name=RECEIVER).click()
    page.get_by_text("Remove this endpoint").click()
    page.get_by_role("button", name="Remove the endpoint").click()
    expect(page.locator(".flashes")).to_contain_text("was removed")
    expect(page.locator(".plain-list li").filter(has_text=RECEIVER)).to_have_count(0)
