"""Products and the decision table in a real browser: a manager adds a product, starts a
draft, adds a row for it (the row lands above the default row, if the demo's table has
one), publishes the draft and reads the new version. Each page passes axe and is
photographed on desktop and phone (artifacts/screenshots/settings-products-*.png,
settings-decision-*.png).

What it leaves behind changes nothing for anybody else: the new version holds the rows it
was drafted from plus one that matches only the product made here, and that product is
deactivated at the end."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots

CODE = "BROWSER-TEST"
NAME = "Browser test fibre"
OUTCOME = "work order 'Install {product} at {location}', field visit: Office network installation"


def _open_settings_section(page: Page, name: str) -> None:
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("navigation", name="Settings sections").get_by_role(
        "link", name=name, exact=True
    ).click()


def test_a_manager_adds_a_product_and_publishes_a_row_for_it(page: Page, screenshot_dir):
    log_in(page, "manager@demo.test")
    _open_settings_section(page, "Products")
    expect(page.get_by_role("heading", name="Products", level=1)).to_be_visible()
    page.get_by_role("link", name="Add a product").click()
    page.get_by_label("Code").fill(CODE.lower())
    page.get_by_label("Name", exact=True).fill(NAME)
    page.get_by_label("Needs a site visit").check()
    page.get_by_label("Service the visit books").select_option(label="Office network installation")
    page.get_by_label("Attributes").fill("category=broadband\nmanaged=true")
    check_accessibility(page, "the new product form")
    screenshots(page, screenshot_dir, "settings-products-form")
    page.get_by_role("button", name="Add the product").click()
    expect(page.get_by_text(f"{NAME} ({CODE}) was added.")).to_be_visible()
    expect(page.get_by_role("link", name=CODE)).to_be_visible()
    check_accessibility(page, "the products list")
    screenshots(page, screenshot_dir, "settings-products-list")

    _open_settings_section(page, "Decision table")
    page.get_by_role("button", name="Start a draft").click()
    draft = page.get_by_role("heading", name=re.compile(r"^Draft: version \d+$"))
    expect(draft).to_be_visible()
    version = draft.inner_text().rsplit(" ", 1)[1]

    page.get_by_role("link", name="Add a row").click()
    page.get_by_label("Label").fill("Browser fibre")
    page.get_by_label("Product", exact=True).select_option(label=f"{NAME} ({CODE})")
    page.get_by_label("Postcode starts with").fill("sw1a")
    page.get_by_label("Work order summary").fill("Install {product} at {location}")
    page.get_by_label("Service for a field visit").select_option(
        label="Office network installation"
    )
    page.get_by_label("Needs a field appointment").check()
    check_accessibility(page, "the row form")
    screenshots(page, screenshot_dir, "settings-decision-row")
    page.get_by_role("button", name="Add the row").click()
    expect(page.get_by_text("The row was added to the draft.")).to_be_visible()
    row = page.locator("li", has_text=f"{NAME} ({CODE}) at postcode SW1A…")
    expect(row).to_contain_text(OUTCOME)
    check_accessibility(page, "the draft editor")
    screenshots(page, screenshot_dir, "settings-decision-draft")

    page.get_by_role("button", name=f"Publish as version {version}").click()
    expect(page.get_by_text(f"Version {version} is published")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Published: version {version}")).to_be_visible()

    page.get_by_role("link", name="All versions").click()
    page.get_by_role("link", name=f"Version {version}", exact=True).click()
    expect(page.locator("li", has_text=f"{NAME} ({CODE})")).to_contain_text(OUTCOME)
    check_accessibility(page, "a version, read-only")
    screenshots(page, screenshot_dir, "settings-decision-version")

    _open_settings_section(page, "Products")
    page.get_by_role("link", name=CODE).click()
    page.get_by_role("button", name=f"Deactivate {CODE}").click()
    expect(page.get_by_text(f"{NAME} is no longer sold")).to_be_visible()
