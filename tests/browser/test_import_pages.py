"""The imports pages in a real browser: a manager opens Imports from the navigation,
uploads a file, reads the dry run and applies it; each page passes axe and fits a phone.
(The test kind of tests/import_kinds.py stands in for the account feed.)"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from portal.db import get_session
from portal.imports.models import Import, ImportRow
from portal.workforce.models import Skill
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots
from tests.import_kinds import csv_bytes, skills_kind

CODES = ("browser-oil", "browser-gas", "browser-solar")


@pytest.fixture
def skills_file(live_app, tmp_path):
    """A file of three skills to upload; what the test adds is removed afterwards, for
    the browser tests that follow."""
    skills_kind()
    path = tmp_path / "skills.csv"
    path.write_bytes(csv_bytes(*[(code, code.title()) for code in CODES]))
    yield path
    with live_app.app_context():
        session = get_session()
        session.execute(sa.delete(Skill).where(Skill.code.in_(CODES)))
        session.execute(sa.delete(ImportRow))
        session.execute(sa.delete(Import))
        session.commit()


def test_a_manager_uploads_a_file_reads_the_dry_run_and_applies_it(
    page: Page, screenshot_dir, skills_file
):
    log_in(page, "manager@demo.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", level=1, name="Imports")).to_be_visible()
    check_accessibility(page, "the imports list")

    page.get_by_role("link", name="Upload: Skills (test)").click()
    expect(page.get_by_text("A CSV file with the columns code and name")).to_be_visible()
    page.get_by_role("button", name="Check the file").click()  # no file chosen
    expect(page.get_by_text("Choose the file to upload.")).to_be_visible()
    check_accessibility(page, "the upload form with its error")

    page.get_by_label("File", exact=True).set_input_files(str(skills_file))
    page.get_by_role("button", name="Check the file").click()

    expect(page.locator("#import-summary")).to_have_text(
        "3 rows: 3 new, 0 changed, 0 unchanged, 0 errors"
    )
    expect(page.get_by_role("cell", name="new skill Browser-Gas")).to_be_visible()
    check_accessibility(page, "a dry run")
    screenshots(page, screenshot_dir, "import-dry-run")

    page.get_by_role("button", name="Apply IMP-").click()
    expect(page.locator(".flashes")).to_contain_text("was applied: 3 rows: 3 new")
    expect(page.get_by_role("button", name="Apply IMP-")).to_have_count(0)
    check_accessibility(page, "an applied import")

    page.get_by_role("link", name="← All imports").click()
    expect(page.get_by_role("row").filter(has_text="skills.csv")).to_contain_text("Applied")
    screenshots(page, screenshot_dir, "imports")
