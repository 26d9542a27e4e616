"""Reports in a real browser: the manager makes an operations report on the demo data and
downloads the PDF; a customer who asks for a report's address is refused."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

from playwright.sync_api import Browser, Page, expect

from portal import timeutil
from portal.db import get_session
from portal.reports import services
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots


def test_a_manager_downloads_the_operations_report_as_pdf(page: Page, screenshot_dir):
    log_in(page, "manager@demo.test")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1, name="Reports")).to_be_visible()
    check_accessibility(page, "the reports page")
    screenshots(page, screenshot_dir, "reports")

    page.get_by_label("Operations:").check()
    page.get_by_label("PDF").check()
    page.get_by_role("button", name="Make the report").click()

    expect(page.get_by_role("heading", level=1, name="Operations report")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Ready")).to_be_visible()
    check_accessibility(page, "a finished report's page")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert re.fullmatch(
        r"operations-\d{4}-\d\d-01-to-\d{4}-\d\d-\d\d\.pdf", download.suggested_filename
    )
    saved = screenshot_dir / "report-operations.pdf"
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", str(saved), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Operations report" in text and "Booked" in text
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(saved), str(screenshot_dir / "report-operations")],
        check=True,
    )
    screenshots(page, screenshot_dir, "report-ready")

    page.goto("/reports/")
    expect(page.get_by_role("link", name=re.compile(r"^Download"))).not_to_have_count(0)


def test_a_long_report_shows_its_progress_then_offers_the_file(
    page: Page, live_app, screenshot_dir
):
    log_in(page, "manager@demo.test")
    page.goto("/reports/")
    page.get_by_label("Agent utilisation:").check()
    # Longer than 31 days (so it is made in the background) and well inside a year of
    # whatever today is.
    first = (timeutil.now_utc() - timedelta(days=90)).date().isoformat()
    page.get_by_label("First day").fill(first)
    page.get_by_label("CSV").check()
    page.get_by_role("button", name="Make the report").click()

    expect(page.get_by_text("Waiting for its turn: 0 %")).to_be_visible()
    expect(page.locator("progress#run-progress")).to_have_attribute("value", "0")
    check_accessibility(page, "a queued report's page")
    screenshots(page, screenshot_dir, "report-queued")

    with live_app.app_context():  # what the scheduler process's run-reports job does
        services.run_queued(get_session(), live_app.config["ORG_TIME_ZONE"])

    expect(page.get_by_role("link", name="Download CSV")).to_be_visible(timeout=5000)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    assert download_info.value.suggested_filename.startswith(f"utilisation-{first}-to-")


def test_a_customer_asking_for_a_report_is_refused(browser: Browser, base_url: str):
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    try:
        log_in(page, "customer@demo.test")
        for url in ("/reports/", "/reports/runs/1", "/reports/runs/1/download"):
            response = page.goto(url)
            assert response is not None and response.status == 403, url
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_role("link", name="Reports")).to_have_count(0)
    finally:
        context.close()
