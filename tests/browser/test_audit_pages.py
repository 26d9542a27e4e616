"""The audit log in a real browser: an admin renames a skill (and back), then finds both
changes in the log with the keyboard, on a desktop and on a phone; the page passes axe
(artifacts/screenshots/settings-audit-*.png)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from portal.db import get_session
from portal.workforce.models import Skill
from tests.browser.axe import check_accessibility
from tests.browser.pages import PHONE, log_in, screenshots


def _a_skill(live_app) -> tuple[int, str]:
    with live_app.app_context():
        session = get_session()
        skill = session.scalars(sa.select(Skill).order_by(Skill.id)).first()
        found = skill.id, skill.name
        session.rollback()
    return found


def _rename(page: Page, skill_id: int, name: str) -> None:
    page.goto(f"/settings/skills/{skill_id}")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Rename the skill").click()
    expect(page.get_by_text(f"Skill renamed to {name}.")).to_be_visible()


def test_an_admin_finds_a_change_in_the_audit_log_with_the_keyboard(
    browser: Browser, base_url: str, live_app, screenshot_dir
):
    skill_id, original = _a_skill(live_app)
    page = browser.new_context(base_url=base_url).new_page()
    log_in(page, "admin@demo.test")
    _rename(page, skill_id, f"{original} (audited)")
    _rename(page, skill_id, original)

    page.get_by_role("navigation", name="Settings sections").get_by_role(
        "link", name="Audit log"
    ).click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    page.get_by_label("Kind of record").focus()
    page.get_by_label("Kind of record").select_option("skill")
    page.keyboard.press("Tab")  # to "Changed by"
    page.keyboard.press("Tab")  # to the Filter button
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/settings/audit\?type=skill&actor=$"))
    newest = page.locator(".audit-entry").first
    expect(newest).to_contain_text("Update")
    expect(newest).to_contain_text("Alex Admin (admin)")
    expect(newest.get_by_role("row", name=f"name {original} (audited) {original}")).to_be_visible()
    check_accessibility(page, "the audit log")
    screenshots(page, screenshot_dir, "settings-audit")

    phone = browser.new_context(base_url=base_url, viewport=PHONE).new_page()
    log_in(phone, "admin@demo.test")
    phone.goto("/settings/audit")
    expect(phone.get_by_role("heading", name="Audit log")).to_be_visible()
    check_accessibility(phone, "the audit log on a phone")
