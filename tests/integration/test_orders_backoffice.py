"""An order's back-office work orders, worked by its queue: take, note, finish."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.errors import Conflict, NotFound
from portal.orders import backoffice
from portal.orders.models import Order
from portal.queues.models import QueueMember
from portal.workorders.models import TimelineEntry, WorkOrder, WorkOrderTask
from tests.factories import NOW, create_user
from tests.order_factories import (
    advance,
    build_order_world,
    create_approved,
    orders_queue,
    work_orders_of,
)


@pytest.fixture
def shop(session, frozen_now):
    frozen_now(NOW)
    world = build_order_world(session)
    world.named["second"] = create_user(session, role="backoffice", full_name="Kit Clerk")
    orders_queue(session, members=[world.named["second"]])
    return world


def office_work(session, shop, lines=None) -> tuple[Order, WorkOrder]:
    """An approved order whose only work is a static IP: one back-office work order with
    two tasks waiting in the Orders queue."""
    order = create_approved(session, shop, lines or [{shop.static_ip: 1}])
    (work_order,) = [wo for wo in work_orders_of(session, order) if wo.tasks]
    return order, work_order


def test_a_member_of_the_queue_finds_the_work_order(session, shop):
    _, work_order = office_work(session, shop)
    assert backoffice.work_order_for_member(session, shop.backoffice, work_order.id) is work_order


def test_someone_outside_the_queue_gets_not_found(session, shop):
    _, work_order = office_work(session, shop)
    outsider = create_user(session, role="backoffice", full_name="Out Sider")
    with pytest.raises(NotFound):
        backoffice.work_order_for_member(session, outsider, work_order.id)


def test_a_field_work_order_is_not_found_on_the_back_office_page(session, shop):
    order = create_approved(session, shop, [{shop.fibre: 1}])
    (field,) = work_orders_of(session, order)
    with pytest.raises(NotFound):
        backoffice.work_order_for_member(session, shop.manager, field.id)


def test_taking_makes_every_task_theirs_and_the_work_in_progress(session, shop):
    _, work_order = office_work(session, shop)
    taken = backoffice.take(session, work_order, shop.backoffice)
    assert len(taken) == 2
    assert {(t.user_id, t.queue_id, t.status) for t in work_order.tasks} == {
        (shop.backoffice.id, None, "in_progress")
    }
    assert work_order.status == "in_progress"


def test_a_second_take_is_refused_naming_who_took_it(session, shop):
    _, work_order = office_work(session, shop)
    backoffice.take(session, work_order, shop.backoffice)
    with pytest.raises(Conflict, match="Bo Office took this work already"):
        backoffice.take(session, work_order, shop.named["second"])


def test_a_take_racing_another_is_refused_by_the_conditional_update(session, shop):
    """The object in hand still says the tasks wait; the rows say someone took them."""
    _, work_order = office_work(session, shop)
    session.execute(
        sa.update(WorkOrderTask)
        .where(WorkOrderTask.work_order_id == work_order.id)
        .values(queue_id=None, user_id=shop.backoffice.id)
        .execution_options(synchronize_session=False)
    )
    assert all(t.queue_id is not None for t in work_order.tasks)  # stale
    with pytest.raises(Conflict, match="Bo Office took this task already"):
        backoffice.take(session, work_order, shop.named["second"])


def test_whoever_took_it_finds_it_though_no_longer_in_the_queue(session, shop):
    _, work_order = office_work(session, shop)
    backoffice.take(session, work_order, shop.named["second"])
    session.execute(sa.delete(QueueMember).where(QueueMember.user_id == shop.named["second"].id))
    assert (
        backoffice.work_order_for_member(session, shop.named["second"], work_order.id) is work_order
    )


def test_finishing_completes_every_task_and_closes_the_work_order(session, shop):
    _, work_order = office_work(session, shop)
    backoffice.take(session, work_order, shop.backoffice)
    backoffice.finish(session, work_order, shop.backoffice, "Address reserved, router set")
    assert {t.status for t in work_order.tasks} == {"done"}
    assert work_order.status == "closed"


def test_finishing_the_last_open_work_makes_the_order_ready_to_close(session, shop):
    order, work_order = office_work(session, shop)
    backoffice.take(session, work_order, shop.backoffice)
    backoffice.finish(session, work_order, shop.backoffice, "Done")
    assert order.status == "ready_to_close"


def test_finishing_while_other_work_is_open_leaves_the_order_in_fulfilment(session, shop):
    order, work_order = office_work(session, shop, [{shop.fibre: 1, shop.static_ip: 1}])
    backoffice.take(session, work_order, shop.backoffice)
    backoffice.finish(session, work_order, shop.backoffice, "Done")
    assert order.status == "in_fulfilment"
    field = next(wo for wo in work_orders_of(session, order) if wo.id != work_order.id)
    advance(session, field, "closed", by=shop.scheduler)
    assert order.status == "ready_to_close"


def test_the_order_work_notes_follow_the_work_order(session, shop):
    order, work_order = office_work(session, shop)
    backoffice.take(session, work_order, shop.backoffice)
    backoffice.finish(session, work_order, shop.backoffice, "Done")
    notes = session.scalars(
        sa.select(TimelineEntry.new_value).where(
            TimelineEntry.subject_type == "Order",
            TimelineEntry.subject_id == order.id,
            TimelineEntry.field == work_order.number,
        )
    ).all()
    assert {"in_progress", "completed", "closed"} <= set(notes)


def test_finishing_untaken_work_is_refused(session, shop):
    _, work_order = office_work(session, shop)
    with pytest.raises(Conflict, match="Take this work"):
        backoffice.finish(session, work_order, shop.backoffice, "")


# -- over HTTP ----------------------------------------------------------------------


def test_the_page_takes_notes_and_finishes_the_work(session, shop, client, auth):
    order, work_order = office_work(session, shop)
    url = f"/orders/work-orders/{work_order.id}"
    session.commit()
    auth.login(shop.backoffice.email)

    page = client.get(url)
    assert page.status_code == 200
    assert "Take this work" in page.get_data(as_text=True)

    taken = client.post_form(f"{url}/take", form_url=url, follow_redirects=True)
    assert f"{work_order.number} is yours." in taken.get_data(as_text=True)
    assert "Mark the work done" in taken.get_data(as_text=True)

    noted = client.post_form(
        f"{url}/note", {"text": "Router model checked"}, form_url=url, follow_redirects=True
    )
    assert "Router model checked" in noted.get_data(as_text=True)

    done = client.post_form(
        f"{url}/done", {"note": "All configured"}, form_url=url, follow_redirects=True
    )
    assert "is done and closed" in done.get_data(as_text=True)
    session.expire_all()
    assert session.get(WorkOrder, work_order.id).status == "closed"
    assert session.get(Order, order.id).status == "ready_to_close"


def test_the_page_is_not_found_for_someone_outside_the_queue(session, shop, client, auth):
    _, work_order = office_work(session, shop)
    outsider = create_user(session, role="backoffice", full_name="Out Sider")
    session.commit()
    auth.login(outsider.email)
    assert client.get(f"/orders/work-orders/{work_order.id}").status_code == 404


def test_an_empty_note_is_refused_with_a_message(session, shop, client, auth):
    _, work_order = office_work(session, shop)
    url = f"/orders/work-orders/{work_order.id}"
    session.commit()
    auth.login(shop.backoffice.email)
    response = client.post_form(f"{url}/note", {"text": ""}, form_url=url)
    assert response.status_code == 422
    assert "Please check the form." in response.get_data(as_text=True)


def test_my_tasks_links_an_order_task_to_its_page(session, shop, client, auth):
    _, work_order = office_work(session, shop)
    backoffice.take(session, work_order, shop.backoffice)
    session.commit()
    auth.login(shop.backoffice.email)
    page = client.get("/staff/").get_data(as_text=True)
    assert f"/orders/work-orders/{work_order.id}" in page


def test_the_page_names_the_order_its_tasks_and_that_done_finishes_them_all(
    session, shop, client, auth
):
    order, work_order = office_work(session, shop)
    backoffice.take(session, work_order, shop.backoffice)
    session.commit()
    auth.login(shop.backoffice.email)
    page = client.get(f"/orders/work-orders/{work_order.id}").get_data(as_text=True)
    assert order.number in page
    assert "Reserve the address" in page and "Configure the router" in page
    assert "This completes all 2 of its tasks" in page
