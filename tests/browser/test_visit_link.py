"""An order's site contact books its visit from the "Book your visit" e-mail in a real
browser, without logging in: the link from the outbox opens the work order's windows,
a window is picked and confirmed, and the link then shows the booking."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from portal.accounts.models import Contact, User
from portal.booking import lifecycle
from portal.booking.models import Service
from portal.booking.services import current_appointment
from portal.booking.steps import Actor
from portal.booking.visit_links import send_visit_link
from portal.db import get_session
from portal.notifications.models import OutboxMessage
from portal.workorders.models import WorkOrder
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots


@pytest.fixture
def waiting_work_order(live_app):
    """An order's work order of the demo customer, waiting for its visit, and the path
    of the link its e-mail carries; afterwards its booking is cancelled (the demo world
    is shared by the browser tests)."""
    with live_app.app_context():
        session = get_session()
        contact = session.scalar(sa.select(Contact).where(Contact.email == "customer@demo.test"))
        scheduler = session.scalar(sa.select(User).where(User.email == "scheduler@demo.test"))
        service = session.scalar(sa.select(Service).where(Service.name == "Leak repair"))
        location = contact.account.locations[0]
        work_order = WorkOrder(
            account_id=contact.account_id,
            contact_id=contact.id,
            location_id=location.id,
            owner_kind="order",
            status="new",
            summary="Water meter for the new kitchen",
        )
        session.add(work_order)
        session.flush()
        send_visit_link(session, work_order, contact, service, by=scheduler)
        session.commit()
        body = session.scalar(
            sa.select(OutboxMessage.body_text)
            .where(
                OutboxMessage.subject_type == "WorkOrder", OutboxMessage.subject_id == work_order.id
            )
            .order_by(OutboxMessage.id.desc())
        )
        work_order_id = work_order.id
    path = urlsplit(re.search(r"https?://\S+/visit/\S+", body).group(0)).path
    yield work_order_id, path
    with live_app.app_context():
        session = get_session()
        work_order = session.get(WorkOrder, work_order_id)
        booked = current_appointment(session, work_order)
        if booked is not None:
            lifecycle.cancel_appointment(
                session, booked, Actor(scheduler_of(session)), "Browser test done"
            )
        session.commit()


def scheduler_of(session) -> User:
    return session.scalar(sa.select(User).where(User.email == "scheduler@demo.test"))


def test_the_site_contact_books_its_visit_from_the_e_mails_link(
    page: Page, waiting_work_order, screenshot_dir
):
    _work_order_id, path = waiting_work_order

    page.goto(path)
    expect(page.get_by_role("heading", name="Book your visit")).to_be_visible()
    expect(page.get_by_text("Water meter for the new kitchen")).to_be_visible()
    expect(page.get_by_text("Times in Europe/London")).to_be_visible()
    for _ in range(4):  # demo bookings may fill a week: move on until one offers a window
        if page.locator("a.slot").count():
            break
        page.get_by_role("link", name="Next week →").click()
    check_accessibility(page, "the visit link's windows")
    screenshots(page, screenshot_dir, "visit-link-windows")

    page.locator("a.slot").first.click()
    expect(page.get_by_role("heading", name="Confirm your visit")).to_be_visible()
    check_accessibility(page, "the visit link's confirm step")
    screenshots(page, screenshot_dir, "visit-link-confirm")
    page.get_by_label("Anything the technician should know?").fill("The side gate is open.")
    page.get_by_role("button", name="Book this window").click()

    expect(page.get_by_role("heading", name="Your visit is booked")).to_be_visible()
    expect(page.get_by_text(re.compile(r"This visit is booked: \w{3} \d+ \w{3}, "))).to_be_visible()
    check_accessibility(page, "the booked visit")
    screenshots(page, screenshot_dir, "visit-link-booked")


def test_a_scheduler_books_the_waiting_work_order_on_the_contacts_behalf(
    page: Page, waiting_work_order, screenshot_dir
):
    work_order_id, _path = waiting_work_order
    log_in(page, "scheduler@demo.test")

    page.goto(f"/staff/work-orders/{work_order_id}/book")
    expect(page.get_by_role("heading", name=f"Book WO-{work_order_id:06d}")).to_be_visible()
    for _ in range(4):
        if page.locator("a.slot").count():
            break
        page.get_by_role("link", name="Next week →").click()
    check_accessibility(page, "the scheduler's work-order booking page")
    screenshots(page, screenshot_dir, "work-order-book")
    page.locator("a.slot").first.click()
    page.get_by_role("button", name="Book on their behalf").click()

    expect(page.get_by_text(re.compile(r"Booked SA-\d+ for "))).to_be_visible()
