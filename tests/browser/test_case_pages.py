"""A customer asks for help in the portal; the contact centre answers and hands the work
to Finance; a Finance member takes and completes it; the case closes and the customer
sees it closed. Every page is checked with axe and photographed on a phone and a desktop."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from portal.accounts.models import User
from portal.cases.models import Case, CaseWorkOrder
from portal.db import get_session
from portal.queues.models import Queue, QueueMember
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots
from tests.factories import create_user

FINANCE_EMAIL = "finance.browser@demo.test"


def _finance_queue(live_app) -> None:
    """A Finance queue with one back-office member (made once for the live world)."""
    with live_app.app_context():
        session = get_session()
        if session.scalar(sa.select(User.id).where(User.email == FINANCE_EMAIL)) is None:
            person = create_user(
                session, email=FINANCE_EMAIL, full_name="Fay Finance", role="backoffice"
            )
            queue = Queue(slug="finance-browser", name="Finance (browser)")
            session.add(queue)
            session.flush()
            session.add(QueueMember(queue_id=queue.id, user_id=person.id))
            session.commit()
        session.close()


def _ids(live_app, subject: str) -> tuple[int, int | None]:
    with live_app.app_context():
        session = get_session()
        case_id = session.scalar(sa.select(Case.id).where(Case.subject == subject))
        work_order_id = session.scalar(
            sa.select(CaseWorkOrder.work_order_id).where(CaseWorkOrder.case_id == case_id)
        )
        session.close()
    return case_id, work_order_id


def test_a_case_from_the_portal_is_handed_to_finance_and_closes(
    browser: Browser, base_url: str, live_app, screenshot_dir
):
    _finance_queue(live_app)
    subject = "Invoice charged twice (browser)"

    customer = browser.new_context(base_url=base_url).new_page()
    log_in(customer, "customer@demo.test")
    customer.get_by_role("link", name="Support").click()
    check_accessibility(customer, "the Support list")
    customer.get_by_role("link", name="Ask for help").click()
    customer.get_by_label("What do you need help with?").fill(subject)
    customer.get_by_label("Tell us more").fill("Invoice 1042 was taken from our card twice.")
    customer.get_by_label("How urgent is it?").select_option("high")
    check_accessibility(customer, "the new case form")
    customer.get_by_role("button", name="Send").click()
    expect(customer.get_by_text("We opened case")).to_be_visible()
    case_id, _ = _ids(live_app, subject)
    number = f"CS-{case_id:06d}"

    scheduler = browser.new_context(base_url=base_url).new_page()
    log_in(scheduler, "scheduler@demo.test")
    scheduler.get_by_role("link", name="Cases").click()
    scheduler.get_by_label("Number or subject").fill(number)
    scheduler.get_by_role("button", name="Filter").click()
    scheduler.get_by_role("link", name=number).click()
    expect(scheduler.get_by_role("heading", name=f"{number} · {subject}")).to_be_visible()
    scheduler.get_by_label("Comment").fill("Sorry about that: Finance will refund you.")
    scheduler.get_by_label("The customer too").check()
    scheduler.get_by_role("button", name="Add the comment").click()
    expect(scheduler.get_by_text("Comment added.")).to_be_visible()
    scheduler.get_by_label("Queue").select_option(label="Finance (browser)")
    scheduler.get_by_label("What should they do?").fill("Refund the second charge of invoice 1042")
    scheduler.get_by_role("button", name="Send to back office").click()
    expect(scheduler.get_by_text("sent to Finance (browser)")).to_be_visible()
    check_accessibility(scheduler, "the case page")
    screenshots(scheduler, screenshot_dir, "case-page")
    _, work_order_id = _ids(live_app, subject)

    finance = browser.new_context(base_url=base_url).new_page()
    log_in(finance, FINANCE_EMAIL)
    finance.goto(f"/back-office/work-orders/{work_order_id}")
    check_accessibility(finance, "the back-office work order page")
    finance.get_by_role("button", name="Take it").click()
    expect(finance.get_by_text("is yours.")).to_be_visible()
    finance.get_by_role("textbox", name="Work note").fill("Refund issued in the bank portal.")
    finance.get_by_role("button", name="Add the note").click()
    finance.get_by_label("What was done").fill("Refunded £84.00.")
    finance.get_by_role("button", name="Complete the work").click()
    expect(finance.get_by_text("completed; the case is told.")).to_be_visible()
    screenshots(finance, screenshot_dir, "case-back-office-work-order")

    scheduler.reload()
    expect(scheduler.locator("#case-work").get_by_text("Completed")).to_be_visible()
    expect(scheduler.locator(".page-head").get_by_text("Closed")).to_be_visible()

    customer.goto(f"/support/{case_id}")
    expect(customer.locator(".page-head").get_by_text("Closed")).to_be_visible()
    expect(customer.get_by_text("Sorry about that: Finance will refund you.")).to_be_visible()
    expect(customer.get_by_text("This case is closed.")).to_be_visible()
    check_accessibility(customer, "the customer's closed case")
    screenshots(customer, screenshot_dir, "support-case")
    customer.goto("/support")
    screenshots(customer, screenshot_dir, "support-list")
    for page in (customer, scheduler, finance):
        page.context.close()
