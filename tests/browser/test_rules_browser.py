"""The rule pages in a real browser: a manager opens Rules from the settings, sets up the
built-in rules when the demo has not, reads the aging rule in words, simulates it, reads
its firings and the e-mail template. Each page passes axe and is photographed on desktop
and phone (artifacts/screenshots/settings-rules-*.png). Nothing is changed but the
built-in rules being made (as the first fed value would make them)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots


def test_a_manager_reads_simulates_and_checks_the_aging_rule(page: Page, screenshot_dir):
    log_in(page, "manager@demo.test")
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("navigation", name="Settings sections").get_by_role(
        "link", name="Rules"
    ).click()
    setup = page.get_by_role("button", name="Set up the built-in rules")
    if setup.count():
        setup.click()
    expect(page.get_by_role("heading", name="Rules", level=1)).to_be_visible()
    check_accessibility(page, "the rules list")
    screenshots(page, screenshot_dir, "settings-rules-list")

    page.get_by_role("link", name="Aging confirmations: open").click()
    expect(page.get_by_role("heading", name="Aging confirmations: open", level=1)).to_be_visible()
    expect(page.get_by_label("Task due after (days)")).to_be_visible()
    check_accessibility(page, "a rule's page")
    screenshots(page, screenshot_dir, "settings-rules-rule")

    page.get_by_role("link", name="Simulate it over today's records").click()
    expect(
        page.get_by_role("heading", name="Simulation: Aging confirmations: open")
    ).to_be_visible()
    check_accessibility(page, "a rule's simulation")
    screenshots(page, screenshot_dir, "settings-rules-simulation")

    page.get_by_role("link", name="← Aging confirmations: open").click()
    page.get_by_role("link", name="Its firings").click()
    expect(page.get_by_role("heading", name="Firings: Aging confirmations: open")).to_be_visible()
    check_accessibility(page, "a rule's firings")

    page.get_by_role("link", name="Rules", exact=True).first.click()
    page.get_by_role("link", name="Aging confirmations", exact=True).click()
    expect(page.get_by_label("Subject")).to_be_visible()
    check_accessibility(page, "an e-mail template")
    screenshots(page, screenshot_dir, "settings-rules-template")
