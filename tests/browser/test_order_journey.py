"""Issue #16 end to end on the demo: a scheduler places an order for two of a customer's
addresses (a fibre installation that needs a visit, a static IP the Orders queue sets
up); a manager approves it and sees its work orders; the site contact books the visit
from the e-mail's link without logging in; the technician does the work and the contact
signs it off; closing the order is refused naming the work still open; the Orders queue
takes and finishes it; the order is ready to close and the manager closes it. Every page
passes axe; the key pages are photographed on a desktop and a phone."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from portal.accounts.models import CustomerAccount, User
from portal.booking.agent_moves import accept_task, complete_task, start_task
from portal.booking.lifecycle import sign_off
from portal.booking.models import Appointment
from portal.booking.steps import Actor
from portal.db import get_session
from portal.notifications.models import OutboxMessage
from portal.orders.models import Order, OrderWorkOrder
from portal.workorders.models import WorkOrderTask
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots

pytestmark = pytest.mark.browser

ACCOUNT = "Harbour Lane Dental"  # the demo customer: a surgery and a head office
FIBRE = "Fibre broadband installation"  # the demo catalogue: a field visit
STATIC_IP = "Static IP address"  # a task for the Orders queue
VISIT_LINK = re.compile(r"/visit/[A-Za-z0-9_-]{20,}")


def _account_id(live_app) -> int:
    with live_app.app_context():
        session = get_session()
        found = session.scalar(sa.select(CustomerAccount.id).where(CustomerAccount.name == ACCOUNT))
        session.close()
    return found


def _visit_path(live_app, order_number: str) -> str:
    """The link in the "Book your visit" e-mail the approval queued for the order's field
    work order (read from the outbox, as the contact's mailbox would show it)."""
    order_id = int(order_number.split("-")[1])
    with live_app.app_context():
        session = get_session()
        work_order_ids = session.scalars(
            sa.select(OrderWorkOrder.work_order_id).where(OrderWorkOrder.order_id == order_id)
        ).all()
        bodies = session.scalars(
            sa.select(OutboxMessage.body_text).where(
                OutboxMessage.channel == "email",
                OutboxMessage.subject_type == "WorkOrder",
                OutboxMessage.subject_id.in_(work_order_ids),
            )
        ).all()
        session.close()
    (path,) = {m.group(0) for body in bodies if (m := VISIT_LINK.search(body or ""))}
    return path


def _back_office_number(live_app, order_number: str) -> str:
    """The number of the order's work order that has no visit (the Orders queue's)."""
    order_id = int(order_number.split("-")[1])
    with live_app.app_context():
        session = get_session()
        work_order_id = session.scalar(
            sa.select(OrderWorkOrder.work_order_id)
            .outerjoin(Appointment, Appointment.work_order_id == OrderWorkOrder.work_order_id)
            .where(OrderWorkOrder.order_id == order_id, Appointment.id.is_(None))
        )
        session.close()
    return f"WO-{work_order_id:06d}"


def _technician_does_the_work_and_the_contact_signs(live_app, order_number: str) -> None:
    """The field visit as it happens on the day (the technician's app and the sign-off
    pad are tested in their own browser tests): accepted, started, completed, signed."""
    order_id = int(order_number.split("-")[1])
    with live_app.app_context():
        session = get_session()
        appointment = session.scalar(
            sa.select(Appointment)
            .join(OrderWorkOrder, OrderWorkOrder.work_order_id == Appointment.work_order_id)
            .where(OrderWorkOrder.order_id == order_id)
        )
        tasks = session.scalars(
            sa.select(WorkOrderTask).where(WorkOrderTask.appointment_id == appointment.id)
        ).all()
        for task in tasks:
            agent_user = session.get(User, task.agent.user_id)
            accept_task(session, task, agent_user)
        for task in tasks:
            start_task(session, task, session.get(User, task.agent.user_id))
        for task in tasks:
            complete_task(session, task, session.get(User, task.agent.user_id))
        sign_off(
            session,
            appointment,
            Actor(None, via_link=True),
            full_name="Chloe Martin",
            consent=True,
            remote_addr="127.0.0.1",
            user_agent="browser test",
        )
        session.commit()
        session.close()


def test_an_order_goes_from_placed_to_closed_with_a_visit_booked_from_the_email(
    browser: Browser, base_url: str, live_app, screenshot_dir
):
    scheduler = browser.new_context(base_url=base_url).new_page()
    log_in(scheduler, "scheduler@demo.test")
    scheduler.goto(f"/staff/customers/{_account_id(live_app)}")
    scheduler.get_by_role("link", name="New order").click()
    scheduler.get_by_label("Note").fill("Fibre for the surgery, a fixed address for the office.")
    scheduler.get_by_role("button", name="Draft the order").click()
    number = scheduler.locator("h1").inner_text().split(" ·")[0]
    order_url = scheduler.url
    for location, product in (("Surgery", FIBRE), ("Head office", STATIC_IP)):
        scheduler.get_by_role("link", name="Add a line").click()
        option = scheduler.get_by_label("Location").locator("option", has_text=f"{location}:")
        scheduler.get_by_label("Location").select_option(option.get_attribute("value"))
        scheduler.get_by_label(product).fill("1")
        scheduler.get_by_role("button", name="Add the line").click()
        expect(scheduler.get_by_text(f"added: {location}.")).to_be_visible()
    scheduler.get_by_role("button", name="Place the order").click()
    expect(scheduler.get_by_text(f"{number} placed")).to_be_visible()

    manager = browser.new_context(base_url=base_url).new_page()
    log_in(manager, "manager@demo.test")
    manager.goto(order_url)
    manager.get_by_role("button", name="Approve the order").click()
    expect(manager.get_by_text(f"{number} approved")).to_be_visible()
    expect(manager.locator(".order-line tbody tr")).to_have_count(2)

    # The site contact books the visit from the e-mail, without logging in.
    contact = browser.new_context(base_url=base_url).new_page()
    contact.goto(_visit_path(live_app, number))
    expect(contact.get_by_role("heading", name="Book your visit")).to_be_visible()
    for _ in range(4):
        if contact.locator("a.slot").count():
            break
        contact.get_by_role("link", name="Next week →").click()
    contact.locator("a.slot").first.click()
    check_accessibility(contact, "the visit's confirm step")
    contact.get_by_role("button", name="Book this window").click()
    expect(contact.get_by_role("heading", name="Your visit is booked")).to_be_visible()
    screenshots(contact, screenshot_dir, "order-visit-booked")

    _technician_does_the_work_and_the_contact_signs(live_app, number)
    manager.reload()
    manager.get_by_role("button", name="Close the order").click()
    refusal = manager.get_by_role("alert")
    expect(refusal).to_contain_text("cannot close")
    expect(refusal).to_contain_text("WO-")

    # The Orders queue sets up the static IP: its work order waits in the queue.
    olu = browser.new_context(base_url=base_url).new_page()
    log_in(olu, "orders@demo.test")
    office_work = _back_office_number(live_app, number)
    waiting = olu.get_by_role("listitem").filter(has_text=office_work).first
    expect(waiting).to_be_visible()
    waiting.get_by_role("link").first.click()
    expect(olu.get_by_role("heading", name=re.compile(office_work))).to_be_visible()
    olu.get_by_role("button", name="Take this work").click()
    check_accessibility(olu, "the order's back-office work order")
    olu.get_by_label("What was done").fill("Static IP 203.0.113.40 assigned and tested.")
    olu.get_by_role("button", name="Mark the work done").click()
    expect(olu.get_by_text("Closed", exact=True).first).to_be_visible()
    screenshots(olu, screenshot_dir, "order-back-office-done")

    manager.goto(order_url)
    expect(manager.get_by_text("Ready to close").first).to_be_visible()
    manager.get_by_role("button", name="Close the order").click()
    expect(manager.get_by_text(f"{number} closed").first).to_be_visible()
    check_accessibility(manager, "the closed order")
    screenshots(manager, screenshot_dir, "order-closed")
    with live_app.app_context():
        session = get_session()
        assert session.get(Order, int(number.split("-")[1])).status == "closed"
        session.close()
    for page in (scheduler, manager, contact, olu):
        page.context.close()
