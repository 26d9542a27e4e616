"""Issue #15 end to end, in a real browser on the demo: a manager uploads the sample
feed, reads the dry run and applies it; the rule opens an aging case for Riverside
Bakery (and closes Harbour Lane Dental's); the aging rep finds the task on My tasks and
hands the next one to the account's owner, who finds it on their home page; the
contact's reply to the aging e-mail, sent over SMTP to the inbound mail listener,
appears on the case. Every page passes axe and is photographed on a desktop and a phone."""

from __future__ import annotations

import re
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from portal.accounts.models import CustomerAccount
from portal.cases.mail_listener import start_listener
from portal.cases.models import Case
from portal.cases.types import AGING_ORIGIN, AUTO_CLOSURE
from portal.db import get_session
from portal.feed.changes import set_oldest_aging_days
from portal.feed.watchers import Cause
from portal.notifications.models import OutboxMessage
from portal.timeutil import now_utc, to_local
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots
from tests.smtp_sink import free_port

SAMPLE = Path(__file__).resolve().parents[2] / "static" / "samples" / "account-feed.csv"
# What the demo feeds (portal/feed/demo.py) and the sample changes.
BEFORE = {"Harbour Lane Dental": 7, "Riverside Bakery": 3}


def _aging_case(session, account_name: str, *, closed: bool) -> Case | None:
    return session.scalar(
        sa.select(Case)
        .join(CustomerAccount, CustomerAccount.id == Case.account_id)
        .where(
            CustomerAccount.name == account_name,
            Case.origin == AGING_ORIGIN,
            Case.is_closed.is_(closed),
        )
        .order_by(Case.id.desc())
    )


@pytest.fixture
def demo_feed_restored(live_app):
    """Afterwards the two accounts get their demo values back (through the same path as a
    hand edit), so the browser tests that follow meet the demo as it was."""
    yield
    with live_app.app_context():
        session = get_session()
        for name, days in BEFORE.items():
            account = session.scalar(sa.select(CustomerAccount).where(CustomerAccount.name == name))
            set_oldest_aging_days(session, account, days, Cause("hand_edit", "Test clean-up"))
        session.commit()


def test_the_sample_feed_opens_an_aging_case_that_goes_round_the_reps(
    browser: Browser, base_url: str, live_app, demo_feed_restored, screenshot_dir
):
    manager = browser.new_context(base_url=base_url).new_page()
    log_in(manager, "manager@demo.test")
    manager.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    manager.get_by_role("link", name="Upload: Account feed").click()
    manager.get_by_label("File", exact=True).set_input_files(SAMPLE)
    check_accessibility(manager, "the account feed's upload form")
    manager.get_by_role("button", name="Check the file").click()
    summary = manager.locator("#import-summary")
    expect(summary).to_contain_text("2 changed")
    expect(summary).to_contain_text("0 errors")
    expect(manager.get_by_text("oldest aging days 3 → 6")).to_be_visible()
    check_accessibility(manager, "the feed's dry run")
    screenshots(manager, screenshot_dir, "feed-dry-run")
    manager.get_by_role("button", name=re.compile(r"^Apply IMP-")).click()
    expect(manager.get_by_text("Applied", exact=True).first).to_be_visible()

    with live_app.app_context():
        session = get_session()
        closed = _aging_case(session, "Harbour Lane Dental", closed=True)
        opened = _aging_case(session, "Riverside Bakery", closed=False)
        assert closed is not None and closed.status == AUTO_CLOSURE
        assert opened is not None and opened.contact.full_name == "Oliver Grant"
        number, case_id = opened.number, opened.id
        mail = session.scalar(
            sa.select(OutboxMessage).where(
                OutboxMessage.channel == "email",
                OutboxMessage.subject_type == "case",
                OutboxMessage.subject_id == case_id,
            )
        )
        contact_email, reply_to = mail.recipient, mail.reply_to
        session.close()

    teri = browser.new_context(base_url=base_url).new_page()
    log_in(teri, "aging@demo.test")
    row = teri.get_by_role("listitem").filter(has_text=number)
    expect(row.first).to_be_visible()
    check_accessibility(teri, "the aging rep's My tasks")
    screenshots(teri, screenshot_dir, "aging-rep-home")
    row.first.get_by_role("link", name=re.compile("^Complete and hand on")).click()
    expect(teri.get_by_role("heading", name=re.compile(number))).to_be_visible()
    expect(teri.get_by_role("heading", name="Why this case opened")).to_be_visible()
    due = to_local(now_utc(), "Europe/London").date() + timedelta(days=2)
    teri.get_by_label("Next task").fill("Ask the bank to confirm")
    teri.get_by_label("Due on").fill(due.isoformat())
    teri.get_by_label("Account owner (Sofia Marsh)").check()
    check_accessibility(teri, "the aging case's page")
    screenshots(teri, screenshot_dir, "aging-case")
    teri.get_by_role("button", name="Complete and create the next task").click()
    expect(teri.get_by_text("“Ask the bank to confirm” is for Sofia Marsh now.")).to_be_visible()

    sofia = browser.new_context(base_url=base_url).new_page()
    log_in(sofia, "sales@demo.test")
    expect(sofia.get_by_role("link", name="Ask the bank to confirm", exact=True)).to_be_visible()
    check_accessibility(sofia, "the sales owner's My tasks")
    screenshots(sofia, screenshot_dir, "sales-home")

    controller = start_listener(live_app, "127.0.0.1", free_port())
    try:
        reply = EmailMessage()
        reply["From"], reply["To"] = contact_email, reply_to
        reply["Subject"] = "Re: Aging confirmations"
        reply.set_content(
            "We signed the two confirmations this morning.\n\n"
            "On Sat, Portal wrote:\n> Some confirmations are waiting.\n"
        )
        with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as smtp:
            smtp.send_message(reply)
    finally:
        controller.stop()
    teri.reload()
    expect(teri.get_by_text("We signed the two confirmations this morning.")).to_be_visible()
    for page in (manager, teri, sofia):
        page.context.close()
