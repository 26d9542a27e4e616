"""The dispatch board in a real browser: a scheduler reassigns a task in place (htmx,
no reload), and the new agent finds it in its day. Screenshots of the board on a desktop
and on a phone go to artifacts/screenshots/."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from portal.booking.models import Appointment
from portal.db import get_session
from portal.dispatch.board import reassign_options
from portal.staff.models import Agent
from portal.timeutil import now_utc, to_local
from portal.workorders.models import WorkOrderTask
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in

DESKTOP = {"width": 1440, "height": 1000}
PHONE = {"width": 390, "height": 844}


def _a_task_to_move(live_app) -> dict:
    """An upcoming demo task that can move, and a qualified agent free at its time."""
    with live_app.app_context():
        session = get_session()
        tasks = session.scalars(
            sa.select(WorkOrderTask)
            .join(Appointment, Appointment.id == WorkOrderTask.appointment_id)
            .where(
                WorkOrderTask.status.in_(("assigned", "accepted")),
                Appointment.status.in_(("requested", "accepted", "confirmed")),
                Appointment.planned_start > now_utc() + timedelta(days=2),
            )
            .order_by(Appointment.planned_start)
        ).all()
        try:
            for task in tasks:
                free = [c for c in reassign_options(session, task).candidates if c.free]
                if free:
                    agent = session.get(Agent, free[0].agent_id)
                    appointment = task.appointment
                    return {
                        "task_id": task.id,
                        "appointment_id": appointment.id,
                        "number": appointment.number,
                        "date": to_local(appointment.planned_start, "Europe/London").date(),
                        "from_agent": task.agent_id,
                        "to_agent": agent.id,
                        "to_name": agent.name,
                        "to_email": agent.user.email,
                    }
        finally:
            session.rollback()
    raise AssertionError("the demo data has no task that another agent could take")


def test_a_scheduler_reassigns_a_task_in_place_and_the_new_agent_sees_it(
    browser: Browser, base_url: str, live_app, screenshot_dir
):
    move = _a_task_to_move(live_app)
    week = f"/dispatch/?view=week&date={move['date'].isoformat()}"
    scheduler = browser.new_context(base_url=base_url, viewport=DESKTOP).new_page()
    log_in(scheduler, "scheduler@demo.test")
    scheduler.goto(week)
    expect(scheduler.get_by_role("heading", name="Dispatch board")).to_be_visible()
    expect(scheduler.get_by_text("Times in Europe/London (your time zone)")).to_be_visible()
    check_accessibility(scheduler, "the dispatch board (week)")
    scheduler.screenshot(path=screenshot_dir / "dispatch-board-desktop.png", full_page=True)
    scheduler.evaluate("window.notReloaded = true")

    # The panel loads beside the board, free and busy agents marked.
    scheduler.locator(f"#reassign-{move['task_id']}").click()
    panel = scheduler.locator("#reassign-panel")
    expect(panel.get_by_role("heading", name=f"Reassign {move['number']}")).to_be_focused()
    check_accessibility(scheduler, "the dispatch board with the reassign panel")
    panel.get_by_label(move["to_name"]).check()
    scheduler.screenshot(path=screenshot_dir / "dispatch-reassign-panel-desktop.png")
    panel.get_by_role("button", name="Reassign").click()

    # The block moves to the new agent's row; the page was not reloaded.
    expect(panel.get_by_text(f"{move['number']} is now with {move['to_name']}.")).to_be_visible()
    block = f"[data-appointment='{move['appointment_id']}']"
    expect(scheduler.locator(f"td[data-agent='{move['to_agent']}'] {block}")).to_be_visible()
    expect(scheduler.locator(f"td[data-agent='{move['from_agent']}'] {block}")).to_have_count(0)
    assert scheduler.evaluate("window.notReloaded === true")
    scheduler.goto(f"/dispatch/?view=day&date={move['date'].isoformat()}")
    check_accessibility(scheduler, "the dispatch board (day)")
    scheduler.screenshot(path=screenshot_dir / "dispatch-board-day-desktop.png", full_page=True)
    scheduler.context.close()

    # The new agent sees the task in its day.
    agent = browser.new_context(base_url=base_url, viewport=PHONE).new_page()
    log_in(agent, move["to_email"])
    agent.goto("/staff/")
    expect(agent.locator("li.task").filter(has_text=move["number"])).to_be_visible()
    agent.context.close()


def test_the_board_works_on_a_phone(browser: Browser, base_url: str, screenshot_dir):
    page = browser.new_context(base_url=base_url, viewport=PHONE).new_page()
    log_in(page, "scheduler@demo.test")
    page.goto("/dispatch/?view=week")

    region = page.get_by_role("region", name="Agents' appointments")
    expect(region).to_be_visible()
    page.screenshot(path=screenshot_dir / "dispatch-board-phone.png", full_page=True)
    # The board scrolls sideways inside its region; the page itself does not.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    region.focus()
    page.keyboard.press("ArrowRight")
    check_accessibility(page, "the dispatch board on a phone")
    page.screenshot(path=screenshot_dir / "dispatch-board-phone.png", full_page=True)
    page.context.close()
