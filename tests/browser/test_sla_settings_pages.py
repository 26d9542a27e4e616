"""Business-hours calendars and SLA processes in a real browser: a manager types a week
with a lunch break and a night window (the preview totals it while typing), adds a part-day
holiday, then builds a process with a milestone and an action, and the list's preview
says a high-priority case gets it. Each page passes axe and is
photographed on desktop and phone (artifacts/screenshots/settings-calendar-*.png,
settings-process-*.png). What the test adds it deletes again, through the pages.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots

NAME = "Browser test desk"


def _open_settings_section(page: Page, name: str) -> None:
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("navigation", name="Settings sections").get_by_role("link", name=name).click()


def test_a_manager_sets_up_business_hours_and_an_sla_process(page: Page, screenshot_dir):
    log_in(page, "manager@demo.test")
    _open_settings_section(page, "Business hours")
    check_accessibility(page, "the calendars list")
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Time zone").select_option("Europe/London")
    page.get_by_role("button", name="Add the calendar").click()
    expect(page.get_by_role("heading", name=NAME, level=1)).to_be_visible()

    for day in ("Monday", "Tuesday", "Wednesday", "Thursday"):
        page.get_by_label(day, exact=True).fill("09:00-12:30, 13:30-17:30")
    page.get_by_label("Friday", exact=True).fill("09:00-12:30, 22:00-02:00")
    expect(page.locator("#week-preview")).to_have_text("Open 37 h 30 min a week")
    page.get_by_label("Saturday", exact=True).fill("10:00-10:00")
    expect(page.locator("#week-preview")).to_contain_text("Saturday: 10:00–10:00 is empty")
    page.get_by_label("Saturday", exact=True).fill("")
    page.get_by_role("button", name="Save the week").click()
    expect(page.get_by_text("Hours saved: Open 37 h 30 min a week.")).to_be_visible()
    expect(page.get_by_role("cell", name="37 h 30 min")).to_be_visible()

    page.get_by_label("Date").fill("2026-12-24")
    page.get_by_label("Name of the holiday").fill("Christmas Eve afternoon")
    page.get_by_label("The whole day").uncheck()
    page.get_by_label("Closed from").fill("13:00")
    page.get_by_label("Closed until").fill("00:00")
    page.get_by_role("button", name="Add the holiday").click()
    expect(page.get_by_text("13:00–24:00")).to_be_visible()
    check_accessibility(page, "the calendar editor")
    screenshots(page, screenshot_dir, "settings-calendar")

    _open_settings_section(page, "SLA processes")
    check_accessibility(page, "the SLA processes list")
    page.get_by_role("link", name="New process").click()
    page.get_by_label("Name").fill("Browser test support")
    page.get_by_label("Business hours").select_option(label=NAME)
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Rank").fill("1")  # before the demo's processes
    page.get_by_role("button", name="Add the process").click()
    expect(page.get_by_role("heading", name="Browser test support", level=1)).to_be_visible()

    adding = page.get_by_role("form", name="Add a milestone")
    adding.get_by_label("Milestone", exact=True).select_option("first_response")
    adding.get_by_label("Low").fill("16 h")
    adding.get_by_label("Medium").fill("8 h")
    adding.get_by_label("High").fill("1 h 30 min")
    adding.get_by_label("Urgent").fill("30")
    adding.get_by_role("button", name="Add the milestone").click()
    expect(page.get_by_role("cell", name="1 h 30 min")).to_be_visible()

    page.get_by_text("Add an action").click()
    page.get_by_label("When").select_option("violation")
    page.get_by_label("Action", exact=True).select_option("set_priority")
    page.get_by_label("Value to set").select_option("urgent")
    page.get_by_role("button", name="Add the action").click()
    expect(page.get_by_text("On violation: set the priority to urgent").first).to_be_visible()
    check_accessibility(page, "the process editor")
    screenshots(page, screenshot_dir, "settings-process")

    _open_settings_section(page, "SLA processes")
    preview = page.get_by_role("region", name="Which process applies?")
    preview.get_by_label("Priority").select_option("high")
    preview.get_by_role("button", name="Show the process").click()
    expect(page.locator("#process-preview")).to_contain_text("It gets Browser test support")
    expect(page.locator("#process-preview")).to_contain_text("1 h 30 min of business time")
    check_accessibility(page, "the SLA processes list with a preview")
    screenshots(page, screenshot_dir, "settings-processes")
    page.get_by_role("link", name="Browser test support").first.click()

    page.get_by_role("button", name="Delete Browser test support").click()
    expect(page.get_by_text("Process Browser test support deleted.")).to_be_visible()
    _open_settings_section(page, "Business hours")
    page.get_by_role("link", name=NAME).click()
    page.get_by_role("button", name=f"Delete {NAME}").click()
    expect(page.get_by_text(f"Calendar {NAME} deleted.")).to_be_visible()
