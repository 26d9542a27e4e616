"""The reps' routine in a real browser (#15, points 4, 5 and 7): the aging rep finds the
case task on My tasks, completes it and hands the next to the account's owner (sales),
who finds it on its own home page; the customer's reply, sent over SMTP to the inbound
mail listener, appears on the case. The task panel and both homes pass axe."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from portal.accounts.models import User
from portal.cases.inbound import reply_address
from portal.cases.mail_listener import start_listener
from portal.cases.models import Case
from portal.cases.services import close_case
from portal.db import get_session
from portal.timeutil import now_utc, to_local
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots
from tests.case_task_factories import build_aging
from tests.smtp_sink import free_port


@pytest.fixture
def aging(live_app):
    """An aging case with Teri's task; afterwards the case is closed (its tasks done) and
    the two reps switched off, so the shared live data has nothing open of ours."""
    with live_app.app_context():
        session = get_session()
        made = build_aging(session)
        names = {
            "case": made["case"].id,
            "number": made["case"].number,
            "teri": made["teri"].email,
            "sam": made["sam"].email,
            "customer": made["customer"].email,
            "account": made["account"].name,
            "address": reply_address(session, made["case"]),
            "users": [made["teri"].id, made["sam"].id],
        }
        session.commit()
    yield names
    with live_app.app_context():
        session = get_session()
        case = session.get(Case, names["case"])
        if not case.is_closed:
            close_case(session, case, None)
        session.execute(sa.update(User).where(User.id.in_(names["users"])).values(active=False))
        session.commit()


def test_the_aging_rep_hands_the_task_to_sales_and_the_reply_lands(
    browser: Browser, base_url: str, live_app, aging, screenshot_dir
):
    teri = browser.new_context(base_url=base_url).new_page()
    log_in(teri, aging["teri"])
    expect(teri.get_by_text(f"{aging['number']} · {aging['account']}")).to_be_visible()
    check_accessibility(teri, "the aging rep's My tasks")
    teri.get_by_role("link", name="Complete and hand on “Call the contact”").click()
    expect(teri.get_by_role("heading", name="Task", exact=True)).to_be_visible()
    due = to_local(now_utc(), "Europe/London").date() + timedelta(days=2)
    teri.get_by_label("Next task").fill("Chase the bank")
    teri.get_by_label("Due on").fill(due.isoformat())
    teri.get_by_label("Account owner (Sam Sales)").check()
    check_accessibility(teri, "the case page's task panel")
    screenshots(teri, screenshot_dir, "case-task-panel")
    teri.get_by_role("button", name="Complete and create the next task").click()
    expect(teri.get_by_text("“Chase the bank” is for Sam Sales now.")).to_be_visible()

    sam = browser.new_context(base_url=base_url).new_page()
    log_in(sam, aging["sam"])
    expect(sam.get_by_role("link", name="Chase the bank", exact=True)).to_be_visible()
    check_accessibility(sam, "the sales owner's My tasks")
    sam.get_by_role("link", name="Complete “Chase the bank”").click()
    expect(sam.get_by_role("heading", name="Task", exact=True)).to_be_visible()
    sam.locator("#next-task summary").click()
    expect(sam.get_by_label("Back to Teri Aging")).to_be_visible()

    controller = start_listener(live_app, "127.0.0.1", free_port())
    try:
        message = EmailMessage()
        message["From"], message["To"] = aging["customer"], aging["address"]
        message["Subject"] = "Re: confirmations"
        message.set_content("All confirmed now.\n\nOn Mon, Portal wrote:\n> Please confirm.\n")
        with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as smtp:
            smtp.send_message(message)
    finally:
        controller.stop()
    teri.reload()
    expect(teri.get_by_text("All confirmed now.")).to_be_visible()
    expect(teri.get_by_text("Please confirm.")).to_have_count(0)
    teri.context.close()
    sam.context.close()
