"""A scheduler drafts an order for two of a customer's addresses from the customer's
page (products of the demo catalogue), adds both lines and places it; the dry run shows
what approval will make; a manager approves it and sees the work orders, and closing is
refused naming them; the customer sees the order's progress. Every page is checked with
axe and photographed on a phone and a desktop."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from portal.accounts.models import CustomerAccount
from portal.db import get_session
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots

pytestmark = pytest.mark.browser

ACCOUNT = "Harbour Lane Dental"  # the demo customer (customer@demo.test): two addresses
# The demo catalogue (portal/orders/demo_catalogue.py): a field visit, a back-office job.
FIBRE = "Fibre broadband installation"
STATIC_IP = "Static IP address"


def _account_id(live_app) -> int:
    with live_app.app_context():
        session = get_session()
        account_id = session.scalar(
            sa.select(CustomerAccount.id).where(CustomerAccount.name == ACCOUNT)
        )
        session.close()
    return account_id


def test_an_order_for_two_sites_is_placed_approved_and_makes_its_work_orders(
    browser: Browser, base_url: str, live_app, screenshot_dir
):
    account_id = _account_id(live_app)

    scheduler = browser.new_context(base_url=base_url).new_page()
    log_in(scheduler, "scheduler@demo.test")
    scheduler.goto(f"/staff/customers/{account_id}")
    scheduler.get_by_role("link", name="New order").click()
    check_accessibility(scheduler, "the new order form")
    scheduler.get_by_label("Note").fill("Fibre for the surgery and the head office.")
    scheduler.get_by_role("button", name="Draft the order").click()
    expect(scheduler.get_by_text("drafted. Add its lines.")).to_be_visible()
    order_url = scheduler.url
    number = scheduler.locator("h1").inner_text().split(" ·")[0]

    for location, products in (("Surgery", (FIBRE,)), ("Head office", (FIBRE, STATIC_IP))):
        scheduler.get_by_role("link", name="Add a line").click()
        option = scheduler.get_by_label("Location").locator("option", has_text=f"{location}:")
        scheduler.get_by_label("Location").select_option(option.get_attribute("value"))
        for product in products:
            scheduler.get_by_label(product).fill("1")
        if location == "Surgery":
            check_accessibility(scheduler, "the line form")
            screenshots(scheduler, screenshot_dir, "order-line-form")
        scheduler.get_by_role("button", name="Add the line").click()
        expect(scheduler.get_by_text(f"added: {location}.")).to_be_visible()

    scheduler.get_by_role("button", name="Place the order").click()
    expect(scheduler.get_by_text(f"{number} placed")).to_be_visible()
    dry_run = scheduler.locator(
        "section", has=scheduler.get_by_role("heading", name=re.compile("Dry run"))
    )
    expect(dry_run.get_by_role("listitem")).to_have_count(3)
    expect(dry_run.get_by_text("field visit").first).to_be_visible()
    expect(dry_run.get_by_text("back office: Orders")).to_be_visible()
    expect(scheduler.get_by_role("button", name="Approve the order")).to_have_count(0)
    check_accessibility(scheduler, "the placed order with its dry run")
    screenshots(scheduler, screenshot_dir, "order-placed")

    manager = browser.new_context(base_url=base_url).new_page()
    log_in(manager, "manager@demo.test")
    manager.goto(order_url)
    manager.get_by_role("button", name="Approve the order").click()
    expect(manager.get_by_text(f"{number} approved")).to_be_visible()
    rows = manager.locator(".order-line tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("WO-")
    expect(
        manager.get_by_role("button", name=re.compile("Set the point of no return"))
    ).to_have_count(2)
    check_accessibility(manager, "the approved order with its work orders")
    screenshots(manager, screenshot_dir, "order-approved")

    manager.get_by_role("button", name="Close the order").click()
    expect(manager.get_by_role("alert")).to_contain_text("cannot close")
    expect(manager.get_by_role("alert")).to_contain_text("WO-")

    customer = browser.new_context(base_url=base_url).new_page()
    log_in(customer, "customer@demo.test")
    customer.get_by_role("link", name="Orders").click()
    customer.get_by_role("link", name=number).click()
    expect(customer.get_by_role("heading", name="Surgery")).to_be_visible()
    expect(customer.get_by_text("not started yet").first).to_be_visible()
    check_accessibility(customer, "the customer's order")
    screenshots(customer, screenshot_dir, "my-order")
    for page in (scheduler, manager, customer):
        page.context.close()
