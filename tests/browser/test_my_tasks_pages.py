"""A back-office user's "My tasks" in a real browser (#14, point 1): what it holds, what
waits in its queue, the Take button (htmx); axe-clean, photographed on desktop and phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from portal.accounts.models import CustomerAccount, User
from portal.db import get_session
from portal.notifications.models import Notification, OutboxMessage
from portal.queues import services as queues
from portal.queues.models import Queue
from portal.timeutil import now_utc
from portal.workorders.models import TimelineEntry, WorkOrder, WorkOrderTask
from portal.workorders.queue_tasks import assign_task_to_queue
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots
from tests.factories import create_user, create_work_order

EMAIL = "ledger.browser@example.com"


@pytest.fixture
def back_office(live_app):
    """A "Ledger" queue with one back-office member, two tasks waiting in it and one the
    member holds; removed afterwards (the live app's data is shared)."""
    with live_app.app_context():
        session = get_session()
        queue = queues.create_queue(session, name="Ledger", description="Refunds and invoices")
        user = create_user(
            session,
            role="backoffice",
            full_name="Lena Ledger",
            email=EMAIL,
            time_zone="Europe/London",
        )
        queues.add_member(session, queue, user)
        now = now_utc()
        work_orders = [create_work_order(session) for _ in range(3)]
        for work_order, title, hours in zip(
            work_orders[:2], ["Refund the deposit", "Reissue invoice INV-204"], [3, 30], strict=True
        ):
            task = WorkOrderTask(
                work_order_id=work_order.id, title=title, due_at=now + timedelta(hours=hours)
            )
            assign_task_to_queue(session, task, queue, None)
        session.add(
            WorkOrderTask(
                work_order_id=work_orders[2].id,
                title="Call back about the credit note",
                user_id=user.id,
                status="assigned",
                due_at=now - timedelta(hours=2),
            )
        )
        session.commit()
        ids = {"queue": queue.id, "user": user.id, "work_orders": [w.id for w in work_orders]}
        accounts = [w.account_id for w in work_orders]
    yield ids
    with live_app.app_context():
        session = get_session()
        tasks = sa.select(WorkOrderTask.id).where(
            WorkOrderTask.work_order_id.in_(ids["work_orders"])
        )
        session.execute(
            sa.delete(TimelineEntry).where(
                TimelineEntry.work_order_id.in_(ids["work_orders"])
                | (
                    (TimelineEntry.subject_type == "WorkOrderTask")
                    & TimelineEntry.subject_id.in_(tasks)
                )
            )
        )
        session.execute(sa.delete(WorkOrder).where(WorkOrder.id.in_(ids["work_orders"])))
        session.execute(sa.delete(CustomerAccount).where(CustomerAccount.id.in_(accounts)))
        session.execute(sa.delete(Notification).where(Notification.user_id == ids["user"]))
        session.execute(sa.delete(OutboxMessage).where(OutboxMessage.recipient == EMAIL))
        session.execute(sa.delete(Queue).where(Queue.id == ids["queue"]))
        session.execute(sa.delete(User).where(User.id == ids["user"]))
        session.commit()


def test_a_back_office_user_takes_a_task_from_its_queue(
    browser: Browser, base_url: str, back_office, screenshot_dir
):
    page = browser.new_context(base_url=base_url).new_page()
    log_in(page, EMAIL)
    expect(page.get_by_role("heading", name="My tasks", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="My queues")).to_be_visible()
    expect(nav.get_by_role("link", name="Dispatch board")).to_have_count(0)
    expect(page.get_by_role("heading", name="Overdue")).to_be_visible()
    expect(page.get_by_text("Call back about the credit note")).to_be_visible()
    expect(page.get_by_role("heading", name="Waiting in your queues")).to_be_visible()
    check_accessibility(page, "a back-office user's My tasks")
    screenshots(page, screenshot_dir, "my-tasks-back-office")

    page.wait_for_function("typeof window.htmx !== 'undefined'")
    page.get_by_role("button", name="Take “Refund the deposit”").click()
    expect(
        page.get_by_text("You took “Refund the deposit”: it is in your tasks now.")
    ).to_be_visible()
    check_accessibility(page, "My tasks after taking a task")
    page.reload()
    mine = page.locator("section[aria-labelledby=mine-h]")
    expect(mine.get_by_text("Refund the deposit")).to_be_visible()
    expect(page.get_by_role("button", name="Take “Refund the deposit”")).to_have_count(0)
    expect(page.get_by_role("button", name="Take “Reissue invoice INV-204”")).to_be_visible()
    screenshots(page, screenshot_dir, "my-tasks-back-office-taken")
    page.context.close()


def test_a_manager_edits_a_queue_in_settings(browser: Browser, base_url: str, screenshot_dir):
    """The queue pages pass axe, with a refusal shown on the form; nothing is saved."""
    page = browser.new_context(base_url=base_url).new_page()
    log_in(page, "manager@demo.test")
    page.goto("/settings/queues")
    expect(page.get_by_role("heading", name="Queues", level=1)).to_be_visible()
    check_accessibility(page, "the queues list")
    screenshots(page, screenshot_dir, "settings-queues")
    page.get_by_role("link", name="Scheduling", exact=True).click()
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    page.get_by_label("Name").fill("")
    page.get_by_role("button", name="Save the queue").click()
    expect(page.get_by_text("Enter a name.")).to_be_visible()
    check_accessibility(page, "a queue's page with a refusal")
    screenshots(page, screenshot_dir, "settings-queue")
    page.context.close()
