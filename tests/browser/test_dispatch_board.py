"""The dispatch board in a real browser: a scheduler reassigns a task in place (htmx,
no reload), and assigns an appointment from the unassigned queue in place; each time
the agent finds it in its day. Screenshots of the board on a desktop and on a phone go
to artifacts/screenshots/."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from portal.booking.models import Appointment
from portal.db import get_session
from portal.dispatch import services as dispatch_services
from portal.dispatch.panels import assign_options, reassign_options
from portal.timeutil import now_utc, to_local
from portal.workforce.models import Agent
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


def _park_one(live_app) -> dict:
    """Park an upcoming demo booking (its agent "fell ill") that another qualified agent
    is free to take at its time: it lands in the unassigned queue."""
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
        for task in tasks:
            if any(c.free for c in reassign_options(session, task).candidates):
                appointment = task.appointment
                dispatch_services.park_for_disruption(
                    session, appointment, None, "Browser test: agent ill"
                )
                candidates = assign_options(session, appointment, now_utc()).candidates
                agent = session.get(Agent, next(c.agent_id for c in candidates if c.free))
                found = {
                    "appointment_id": appointment.id,
                    "number": appointment.number,
                    "date": to_local(appointment.planned_start, "Europe/London").date(),
                    "to_agent": agent.id,
                    "to_name": agent.name,
                    "to_email": agent.user.email,
                    "busy": [c.name for c in candidates if not c.free],
                }
                session.commit()
                return found
        session.rollback()
    raise AssertionError("the demo data has no booking that another agent could take")


def test_a_scheduler_assigns_a_queued_appointment_in_place_and_the_agent_sees_it(
    browser: Browser, base_url: str, live_app, screenshot_dir
):
    parked = _park_one(live_app)
    number = parked["number"]
    scheduler = browser.new_context(base_url=base_url, viewport=DESKTOP).new_page()
    log_in(scheduler, "scheduler@demo.test")
    scheduler.goto(f"/dispatch/?view=week&date={parked['date'].isoformat()}")
    queue = scheduler.locator("#queue")
    expect(queue.get_by_text(f"Find a new time for {number}")).to_be_visible()
    scheduler.evaluate("window.notReloaded = true")

    # By keyboard: the Assign link opens the panel beside the board, heading focused.
    scheduler.locator(f"#assign-{parked['appointment_id']}").focus()
    scheduler.keyboard.press("Enter")
    panel = scheduler.locator("#reassign-panel")
    expect(panel.get_by_role("heading", name=f"Assign {number}")).to_be_focused()
    expect(panel.get_by_label(parked["to_name"])).to_be_enabled()
    for name in parked["busy"]:
        expect(panel.get_by_label(name)).to_be_disabled()
    check_accessibility(scheduler, "the dispatch board with the assign panel")
    panel.get_by_label(parked["to_name"]).check()
    panel.screenshot(path=screenshot_dir / "dispatch-assign-panel-desktop.png")
    scheduler.evaluate("window.scrollTo(0, 0)")  # the panel is sticky: show it in its place
    scheduler.screenshot(path=screenshot_dir / "dispatch-assign-board-desktop.png", full_page=True)
    scheduler.set_viewport_size(PHONE)
    panel.scroll_into_view_if_needed()
    check_accessibility(scheduler, "the assign panel on a phone")
    scheduler.screenshot(path=screenshot_dir / "dispatch-assign-panel-phone.png")
    assert scheduler.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    scheduler.set_viewport_size(DESKTOP)
    panel.get_by_role("button", name="Assign").click()

    # The block shows in the agent's row and the queue lets go of it, without a reload.
    expect(panel.get_by_text(f"{number} is now with {parked['to_name']}")).to_be_visible()
    block = f"td[data-agent='{parked['to_agent']}'] [data-appointment='{parked['appointment_id']}']"
    expect(scheduler.locator(block)).to_be_visible()
    expect(scheduler.locator(f"#assign-{parked['appointment_id']}")).to_have_count(0)
    assert scheduler.evaluate("window.notReloaded === true")
    scheduler.evaluate("window.scrollTo(0, 0)")
    scheduler.screenshot(path=screenshot_dir / "dispatch-assigned-desktop.png", full_page=True)
    scheduler.context.close()

    # The agent finds the task in its day, waiting for its acceptance.
    agent = browser.new_context(base_url=base_url, viewport=PHONE).new_page()
    log_in(agent, parked["to_email"])
    agent.goto("/staff/")
    task = agent.locator("li.task").filter(has_text=number)
    expect(task).to_be_visible()
    expect(task.get_by_role("button", name="Accept")).to_be_visible()
    agent.context.close()
    with live_app.app_context():
        session = get_session()
        appointment = session.get(Appointment, parked["appointment_id"])
        assert appointment.status == "requested"
        assert [h.agent_id for h in appointment.holds] == [parked["to_agent"]]
        session.rollback()
