"""Approval makes the plan's work orders, once, in the approval's transaction."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.app import create_app
from portal.db import get_session
from portal.errors import Conflict, Invalid, NotAllowed
from portal.notifications.models import Notification
from portal.orders import lifecycle, services
from portal.orders.models import Order, OrderWorkOrder
from portal.orders.notes import work_notes
from portal.workorders.models import TimelineEntry, WorkOrder, WorkOrderTask
from tests.conftest import app_config
from tests.factories import NOW
from tests.order_factories import (
    build_order_world,
    create_decision_table,
    create_draft,
    create_placed,
    create_product,
    line_of,
)


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    return build_order_world(session)


def links(session, order):
    return list(
        session.scalars(
            sa.select(OrderWorkOrder)
            .where(OrderWorkOrder.order_id == order.id)
            .order_by(OrderWorkOrder.id)
        )
    )


def test_approval_makes_one_work_order_per_unit_with_its_link(session, world):
    order = create_placed(session, world, [{world.fibre: 2, world.static_ip: 1}, {world.fibre: 1}])

    lifecycle.approve(session, order, by=world.manager)

    made = links(session, order)
    assert [(link.line.position, link.product_id, link.unit) for link in made] == [
        (1, world.fibre.id, 1),
        (1, world.fibre.id, 2),
        (1, world.static_ip.id, 1),
        (2, world.fibre.id, 1),
    ]
    work_order = made[0].work_order
    assert work_order.owner_kind == "order"
    assert work_order.status == "new"
    assert work_order.contact_id == world.contact.id
    assert work_order.location_id == world.locations[0].id
    assert work_order.summary == "Fibre broadband install at Site 1"


def test_approval_keeps_the_table_version_and_the_approver(session, world):
    order = create_placed(session, world)

    lifecycle.approve(session, order, by=world.manager)

    assert order.status == "approved"
    assert order.decision_table_id == world.table.id
    assert order.approver_id == world.manager.id
    assert order.approved_at == NOW


def test_a_back_office_row_puts_its_tasks_in_its_queue(session, world):
    order = create_placed(session, world, [{world.static_ip: 1}])

    lifecycle.approve(session, order, by=world.manager)

    work_order = links(session, order)[0].work_order
    tasks = session.scalars(
        sa.select(WorkOrderTask).where(WorkOrderTask.work_order_id == work_order.id)
    ).all()
    assert sorted(t.title for t in tasks) == ["Configure the router", "Reserve the address"]
    assert {(t.queue_id, t.status) for t in tasks} == {(world.queue.id, "open")}


def test_the_queues_members_are_told_once_per_approval(session, world):
    order = create_placed(session, world, [{world.static_ip: 1}, {world.static_ip: 1}])

    lifecycle.approve(session, order, by=world.manager)

    notices = session.scalars(
        sa.select(Notification.message).where(Notification.user_id == world.backoffice.id)
    ).all()
    assert notices == [f"{order.number}: 4 tasks for {world.account.name}"]


def test_each_work_order_made_is_a_work_note_and_on_its_own_timeline(session, world):
    order = create_placed(session, world, [{world.fibre: 1, world.static_ip: 1}])

    lifecycle.approve(session, order, by=world.manager)

    numbers = [link.work_order.number for link in links(session, order)]
    created = [n for n in work_notes(session, order) if n.action == "work_order_created"]
    assert sorted(n.field for n in created) == sorted(numbers)
    own = session.scalars(
        sa.select(TimelineEntry).where(
            TimelineEntry.subject_type == "WorkOrder", TimelineEntry.action == "created"
        )
    ).all()
    assert {e.work_order_id for e in own} == {link.work_order_id for link in links(session, order)}


def test_a_product_that_makes_no_work_order_makes_none(session, world):
    order = create_placed(session, world, [{world.fibre: 1, world.licence: 3}])

    lifecycle.approve(session, order, by=world.manager)

    assert [link.product_id for link in links(session, order)] == [world.fibre.id]


def test_an_order_with_no_work_at_all_is_ready_to_close_at_once(session, world):
    order = create_placed(session, world, [{world.licence: 1}])

    lifecycle.approve(session, order, by=world.manager)

    assert order.status == "ready_to_close"
    assert links(session, order) == []


def test_approving_twice_makes_one_set(session, world):
    order = create_placed(session, world, [{world.fibre: 2}])

    lifecycle.approve(session, order, by=world.manager)
    again = lifecycle.approve(session, order, by=world.manager)

    assert again.status == "approved"
    assert len(links(session, order)) == 2
    assert session.scalar(sa.select(sa.func.count()).select_from(WorkOrder)) == 2


def test_an_unmatched_product_refuses_approval_naming_the_line(session, frozen_now):
    frozen_now(NOW)
    world = build_order_world(session, default_row=False)
    odd = create_product(session, code="ODD-1", name="Odd gadget")
    order = create_placed(session, world, [{world.fibre: 1}, {world.fibre: 1, odd: 1}])

    with pytest.raises(Invalid) as refused:
        lifecycle.approve(session, order, by=world.manager)

    assert "Line 2 (Site 2)" in refused.value.message
    assert "Odd gadget (ODD-1)" in refused.value.message
    session.refresh(order)
    assert order.status == "placed"
    assert links(session, order) == []


def test_approval_needs_a_published_table(session, world):
    world.table.status = "retired"
    session.flush()
    order = create_placed(session, world)

    with pytest.raises(Invalid, match="no published decision table"):
        lifecycle.approve(session, order, by=world.manager)


def test_an_approved_order_keeps_its_version_when_a_new_one_is_published(session, world):
    order = create_placed(session, world, [{world.fibre: 1}])
    lifecycle.approve(session, order, by=world.manager)

    create_decision_table(session, [{"is_default": True, "queue_id": world.queue.id}])

    assert order.decision_table_id == world.table.id
    session.refresh(order)
    assert order.decision_table.version == 1


def test_only_a_manager_approves(session, world):
    order = create_placed(session, world)

    with pytest.raises(NotAllowed):
        lifecycle.approve(session, order, by=world.scheduler)


def test_a_draft_cannot_be_approved(session, world):
    order = create_draft(session, world)

    with pytest.raises(Conflict, match="only a placed order"):
        lifecycle.approve(session, order, by=world.manager)


def test_a_rejection_needs_a_reason_and_makes_nothing(session, world):
    order = create_placed(session, world)

    with pytest.raises(Invalid):
        services.reject(session, order, by=world.manager, reason="  ")
    services.reject(session, order, by=world.manager, reason="Credit check failed")

    assert order.status == "rejected"
    assert order.reason == "Credit check failed"
    with pytest.raises(Conflict):
        lifecycle.approve(session, order, by=world.manager)
    assert links(session, order) == []


def test_placing_needs_items_and_a_site_contact_on_every_line(session, world):
    order = create_draft(session, world, [{world.fibre: 1}, {}])
    line_of(order, 1).contact_id = None
    session.flush()

    with pytest.raises(Invalid) as refused:
        services.place(session, order, by=world.scheduler)

    assert "Line 1 (Site 1) has no site contact" in refused.value.message
    assert "Line 2 (Site 2) has no products" in refused.value.message


@pytest.fixture
def pg_app(pg_url, tmp_path, frozen_now):
    """The app on PostgreSQL only, with the clock at NOW."""
    frozen_now(NOW)
    application = create_app(app_config(pg_url, tmp_path / "instance"))
    yield application
    application.extensions["portal.engine"].dispose()


def test_two_approvals_at_once_make_one_set(pg_app):
    with pg_app.app_context():
        session = get_session()
        world = build_order_world(session)
        order = create_placed(session, world, [{world.fibre: 3, world.static_ip: 2}])
        order_id, manager_id = order.id, world.manager.id
        session.commit()
    barrier = threading.Barrier(2)
    outcomes = []

    def approve_in_own_session():
        with pg_app.app_context():
            own = pg_app.extensions["portal.sessionmaker"]()
            try:
                mine = own.get(Order, order_id)
                manager = own.get(User, manager_id)
                barrier.wait(timeout=30)
                approved = lifecycle.approve(own, mine, by=manager)
                own.commit()
                outcomes.append(approved.status)
            except Exception as err:  # noqa: BLE001 - the test reports any outcome
                own.rollback()
                outcomes.append(repr(err))
            finally:
                own.close()

    threads = [threading.Thread(target=approve_in_own_session) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == ["approved", "approved"]
    with pg_app.app_context():
        session = get_session()
        order = session.get(Order, order_id)
        assert len(links(session, order)) == 5
        assert session.scalar(sa.select(sa.func.count()).select_from(WorkOrder)) == 5
