"""The scheduler moves a customer's appointment to a suggested window in a real browser;
the customer sees the new time and a notification about it."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from portal.booking.models import Appointment
from portal.db import get_session
from portal.timeutil import now_utc
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in


def _movable_appointment(live_app) -> int:
    """An upcoming appointment of the demo customer that staff may move."""
    with live_app.app_context():
        session = get_session()
        appointment_id = session.scalar(
            sa.select(Appointment.id)
            .join(Appointment.contact)
            .where(
                Appointment.status.in_(("requested", "accepted", "confirmed")),
                Appointment.window_start > now_utc() + timedelta(days=1),
                sa.text("contacts.email = 'customer@demo.test'"),
            )
            .order_by(Appointment.window_start)
        )
        session.rollback()
    assert appointment_id is not None, "the demo customer has an upcoming appointment"
    return appointment_id


def test_a_scheduler_moves_an_appointment_from_a_suggestion_and_the_customer_sees_it(
    browser: Browser, base_url: str, live_app, screenshot_dir
):
    appointment_id = _movable_appointment(live_app)
    number = f"SA-{appointment_id:06d}"
    scheduler = browser.new_context(base_url=base_url).new_page()
    log_in(scheduler, "scheduler@demo.test")

    scheduler.get_by_role("link", name="Customers").click()
    scheduler.get_by_label("Find a customer").fill("harbour")
    scheduler.get_by_role("button", name="Search").click()
    scheduler.get_by_role("link", name="Harbour Lane Dental").click()
    expect(scheduler.get_by_role("heading", name="Harbour Lane Dental")).to_be_visible()
    check_accessibility(scheduler, "the customer page")
    scheduler.goto(f"/staff/appointments/{appointment_id}")
    expect(scheduler.get_by_role("heading", name="Move: suggested windows")).to_be_visible()
    check_accessibility(scheduler, "the staff appointment page")
    scheduler.screenshot(path=screenshot_dir / "console-appointment.png", full_page=True)
    first = scheduler.locator("form.suggestion").first
    new_window = first.locator("strong").inner_text()
    first.get_by_label("Reason for this move").fill("Technician's van in for repair")
    first.get_by_role("button", name="Move here").click()
    expect(scheduler.get_by_text("Moved; the customer and the agents are told.")).to_be_visible()

    customer = browser.new_context(base_url=base_url).new_page()
    log_in(customer, "customer@demo.test")
    customer.get_by_role("link", name=re.compile(r"Notifications")).click()
    expect(customer.get_by_text(f"{number} moved to")).to_be_visible()
    customer.goto(f"/appointments/{appointment_id}")
    expect(customer.get_by_text(new_window.split(",")[0]).first).to_be_visible()
    expect(customer.get_by_text(re.compile(r"Moved from .* to "))).to_be_visible()
    customer.screenshot(path=screenshot_dir / "console-customer-sees-move.png", full_page=True)
    scheduler.context.close()
    customer.context.close()
