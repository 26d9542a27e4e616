"""A manager edits an account's oldest aging days in the customer page's "Confirmation
feed" panel in a real browser: a wrong value is explained on the field, a right one is
saved. The panel passes axe and fits a phone. (Ana Silva's days stay under the threshold,
so no rule fires on the shared demo data; the value is put back afterwards.)"""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from portal.accounts.models import CustomerAccount
from portal.db import get_session
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots


def _account(live_app, name: str) -> tuple[int, int | None, bool]:
    with live_app.app_context():
        session = get_session()
        row = session.execute(
            sa.select(
                CustomerAccount.id,
                CustomerAccount.oldest_aging_days,
                CustomerAccount.has_aging_confirmations,
            ).where(CustomerAccount.name == name)
        ).one()
        session.rollback()
    return tuple(row)


def _put_back(live_app, account_id: int, days: int | None, flag: bool) -> None:
    with live_app.app_context():
        session = get_session()
        session.execute(
            sa.update(CustomerAccount)
            .where(CustomerAccount.id == account_id)
            .values(oldest_aging_days=days, has_aging_confirmations=flag)
        )
        session.commit()


def test_a_manager_edits_oldest_aging_days_on_the_customer_page(
    browser: Browser, base_url: str, live_app, screenshot_dir
):
    account_id, days, flag = _account(live_app, "Ana Silva")
    page = browser.new_context(base_url=base_url).new_page()
    log_in(page, "manager@demo.test")
    try:
        page.goto(f"/staff/customers/{account_id}")
        panel = page.locator("#feed")
        expect(panel.get_by_role("heading", name="Confirmation feed")).to_be_visible()
        check_accessibility(page, "the customer page with the feed panel's forms")

        panel.get_by_label("Oldest aging (days)").fill("-2")
        panel.get_by_role("button", name="Save oldest aging").click()
        expect(page.get_by_text("Enter a whole number of days, 0 or more")).to_be_visible()
        check_accessibility(page, "the feed panel with an error")

        page.locator("#feed").get_by_label("Oldest aging (days)").fill("3")
        page.locator("#feed").get_by_role("button", name="Save oldest aging").click()
        expect(page.get_by_text("Oldest aging days saved.")).to_be_visible()
        expect(page.locator("#feed dd").nth(2)).to_have_text("3")
        expect(page.locator("#feed dd").nth(3)).to_have_text("No")
        screenshots(page, screenshot_dir, "feed-panel")
    finally:
        page.context.close()
        _put_back(live_app, account_id, days, flag)
