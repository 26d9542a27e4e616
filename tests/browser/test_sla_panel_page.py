"""The live SLA panel in a real browser: a manager's "My tasks" shows the open milestones
per queue and the next due, accessible, on a phone and a desktop; htmx fetches a fresh
copy. The rows are added to the shared demo world and removed again afterwards."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from portal.accounts.models import CustomerAccount, User
from portal.cases.models import Case, CaseType, CaseWorkOrder
from portal.db import get_session
from portal.queues.models import Queue
from portal.sla.models import Milestone
from portal.workorders.models import WorkOrder
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots
from tests.sla_factories import build_sla_world


@pytest.fixture
def sla_world(live_app):
    with live_app.app_context():
        session = get_session()
        world = build_sla_world(session, label=" (browser)")
        session.commit()
        ids = {
            "cases": [c.id for c in world.cases.values()],
            "work_orders": [w.id for w in world.work_orders.values()],
            "queues": [world.finance.id, world.orders.id],
            "users": [world.fay.id, world.oscar.id],
        }
        owners = [c.owner_user_id for c in world.cases.values() if c.owner_user_id]
    yield world
    with live_app.app_context():
        session = get_session()
        cases, work_orders = ids["cases"], ids["work_orders"]
        session.execute(sa.delete(Milestone).where(Milestone.case_id.in_(cases)))
        session.execute(sa.delete(Milestone).where(Milestone.work_order_id.in_(work_orders)))
        session.execute(sa.delete(CaseWorkOrder).where(CaseWorkOrder.case_id.in_(cases)))
        session.execute(sa.delete(WorkOrder).where(WorkOrder.id.in_(work_orders)))
        accounts = session.scalars(sa.select(Case.account_id).where(Case.id.in_(cases))).all()
        session.execute(sa.delete(Case).where(Case.id.in_(cases)))
        session.execute(sa.delete(CaseType).where(CaseType.slug == "report-tests"))
        session.execute(sa.delete(Queue).where(Queue.id.in_(ids["queues"])))
        session.execute(sa.delete(User).where(User.id.in_(ids["users"] + owners)))
        session.execute(sa.delete(CustomerAccount).where(CustomerAccount.id.in_(accounts)))
        session.commit()


def test_a_manager_sees_the_sla_panel_on_my_tasks(page: Page, sla_world, screenshot_dir):
    log_in(page, "manager@demo.test")
    page.goto("/staff/")

    panel = page.locator("#sla-panel")
    expect(panel.get_by_role("heading", name="Service levels")).to_be_visible()
    expect(panel.get_by_role("rowheader", name="Orders (browser)")).to_be_visible()
    expect(panel.get_by_text("overdue by").first).to_be_visible()
    check_accessibility(page, "My tasks with the SLA panel")
    screenshots(page, screenshot_dir, "sla-panel")

    # What htmx fetches every 30 s: the same panel, swapped in place.
    with page.expect_response("**/reports/sla-panel") as answer:
        page.evaluate(
            "htmx.ajax('GET', '/reports/sla-panel', {target: '#sla-panel', swap: 'outerHTML'})"
        )
    assert answer.value.status == 200
    expect(page.locator("#sla-panel")).to_have_count(1)
