"""The whole journey in a real browser: the customer books, the agent accepts, the
customer confirms and moves it, the agent completes, the customer signs off; and a move
past the cut-off is refused with the reason."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from portal.booking.models import Appointment, BookingPolicy
from portal.db import get_session
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in

AGENT_EMAILS = {"Sarah Okafor": "agent@demo.test", "Amara Mensah": "amara@demo.test"}


def _book_leak_repair(page: Page) -> str:
    page.goto("/book")
    page.get_by_label("Service").select_option(label="Leak repair (60 min)")
    page.get_by_label("Where is the work?").select_option(index=1)
    page.get_by_role("button", name="Show free windows").click()
    for _ in range(4):
        if page.locator("a.slot").count():
            break
        page.get_by_role("link", name="Next week →").click()
    page.locator("a.slot").first.click()
    page.get_by_role("button", name="Book this window").click()
    expect(page.get_by_text(re.compile(r"Booked: Leak repair, appointment SA-\d+"))).to_be_visible()
    return re.search(r"/appointments/(\d+)", page.url).group(1)


def _agent_email(live_app, appointment_id: str) -> str:
    with live_app.app_context():
        appt = get_session().get(Appointment, int(appointment_id))
        name = appt.holds[0].agent.name
        get_session().rollback()
    return AGENT_EMAILS[name]


def _task_card(page: Page, number: str):
    return page.locator("li.task").filter(has_text=number)


def test_book_accept_confirm_move_complete_and_sign_off(
    browser: Browser, base_url: str, live_app, screenshot_dir
):
    customer = browser.new_context(base_url=base_url).new_page()
    agent = browser.new_context(
        base_url=base_url, viewport={"width": 390, "height": 844}
    ).new_page()
    log_in(customer, "customer@demo.test")
    appointment_id = _book_leak_repair(customer)
    number = f"SA-{int(appointment_id):06d}"

    # The agent accepts from its task list (on a phone).
    log_in(agent, _agent_email(live_app, appointment_id))
    card = _task_card(agent, number)
    card.get_by_role("button", name="Accept").click()
    expect(agent.get_by_text("You accepted the task.")).to_be_visible()
    check_accessibility(agent, "the agent's task list")
    agent.screenshot(path=screenshot_dir / "journey-agent-tasks-phone.png", full_page=True)

    # The customer confirms, then moves the appointment to another window.
    customer.goto(f"/appointments/{appointment_id}")
    expect(customer.get_by_role("heading", name="Please confirm")).to_be_visible()
    check_accessibility(customer, "the appointment page awaiting confirmation")
    customer.get_by_role("button", name="Confirm this appointment").click()
    expect(customer.get_by_text("your appointment is confirmed")).to_be_visible()
    customer.get_by_role("link", name="Move to another time").click()
    check_accessibility(customer, "the move page")
    old_window = customer.locator("p").filter(has_text="Now:").inner_text()
    customer.locator("a.slot").nth(1).click()
    customer.get_by_role("button", name="Move my appointment").click()
    expect(customer.get_by_text("Your appointment has moved.")).to_be_visible()
    expect(customer.get_by_text(re.compile(r"Moved from .* to "))).to_be_visible()
    assert old_window

    # The agent starts and completes it with a work note.
    agent.goto("/staff/")
    _task_card(agent, number).get_by_role("button", name="Start").click()
    expect(agent.get_by_text("Task started.")).to_be_visible()
    card = _task_card(agent, number)
    card.get_by_label("Work note for the customer (optional)").fill("Replaced the tap washer.")
    card.get_by_role("button", name="Complete").click()
    expect(agent.get_by_text("Task completed.")).to_be_visible()

    # The customer signs off: typed name, a drawn signature, consent.
    customer.goto(f"/appointments/{appointment_id}")
    expect(customer.get_by_role("heading", name="Sign off the work")).to_be_visible()
    expect(customer.get_by_text("Replaced the tap washer.")).to_be_visible()
    check_accessibility(customer, "the sign-off form")
    customer.get_by_label("Your full name").fill("Chloe Martin")
    pad = customer.locator("#signature-pad").bounding_box()
    customer.mouse.move(pad["x"] + 20, pad["y"] + 80)
    customer.mouse.down()
    customer.mouse.move(pad["x"] + 120, pad["y"] + 40, steps=8)
    customer.mouse.move(pad["x"] + 220, pad["y"] + 110, steps=8)
    customer.mouse.up()
    customer.screenshot(path=screenshot_dir / "journey-sign-off.png", full_page=True)
    customer.get_by_label("I confirm the work described above was completed").check()
    customer.get_by_role("button", name="Sign off").click()
    expect(customer.get_by_text("the work is signed off")).to_be_visible()
    expect(customer.locator(".page-head .badge")).to_have_text("Signed off")
    customer.screenshot(path=screenshot_dir / "journey-signed-off.png", full_page=True)
    with live_app.app_context():
        appt = get_session().get(Appointment, int(appointment_id))
        assert appt.work_order.status == "closed"
        get_session().rollback()
    customer.context.close()
    agent.context.close()


def test_a_move_past_the_cutoff_is_refused_with_the_reason(page: Page, live_app, screenshot_dir):
    log_in(page, "customer@demo.test")
    appointment_id = _book_leak_repair(page)
    with live_app.app_context():
        session = get_session()
        policy = session.get(BookingPolicy, 1)
        saved, policy.reschedule_cutoff_hours = policy.reschedule_cutoff_hours, 24 * 60
        session.commit()
    try:
        page.goto(f"/appointments/{appointment_id}")
        expect(
            page.get_by_text(re.compile(r"Changes are possible until 1440 hours"))
        ).to_be_visible()
        expect(page.get_by_role("link", name="Move to another time")).to_have_count(0)
        page.goto(f"/appointments/{appointment_id}/move")
        expect(page.get_by_role("status")).to_contain_text("that time has passed")
        page.get_by_label("What would you like to change?").fill("Could you come a day later?")
        page.get_by_role("button", name="Send the request").click()
        expect(page.get_by_text("Your request is with our scheduler")).to_be_visible()
        check_accessibility(page, "the appointment page past the cut-off")
        page.screenshot(path=screenshot_dir / "journey-past-cutoff.png", full_page=True)
    finally:
        with live_app.app_context():
            session = get_session()
            session.execute(sa.update(BookingPolicy).values(reschedule_cutoff_hours=saved))
            session.commit()
