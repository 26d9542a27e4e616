"""The order follows its work orders as a watcher: work notes, the automatic point of no
return, in fulfilment, ready to close (people told, webhook queued)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.notifications.models import Notification, OutboxMessage
from portal.orders import lifecycle
from portal.orders.notes import work_notes
from portal.webhooks import services as webhooks
from portal.workorders.status import set_task_status
from tests.factories import NOW, create_work_order
from tests.order_factories import (
    advance,
    build_order_world,
    create_approved,
    line_of,
    work_orders_of,
)


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    return build_order_world(session)


def notes_about(session, order, work_order):
    return [n for n in work_notes(session, order) if n.field == work_order.number]


def test_a_status_change_of_its_work_order_is_a_work_note_on_the_order(session, world):
    order = create_approved(session, world)
    work_order = work_orders_of(session, order)[0]

    advance(session, work_order, "scheduled", by=world.scheduler, why="Booked by phone")

    note = notes_about(session, order, work_order)[0]
    assert note.action == "work_order"
    assert (note.old_value, note.new_value) == ("new", "scheduled")
    assert note.actor_id == world.scheduler.id
    assert note.at == NOW
    assert note.note == f"{work_order.number}: new → scheduled (Booked by phone)"


def test_a_cancelled_work_order_is_a_work_note_too(session, world):
    order = create_approved(session, world, [{world.fibre: 2}])
    work_order = work_orders_of(session, order)[0]

    advance(session, work_order, "cancelled", by=world.scheduler, why="Duplicate")

    assert notes_about(session, order, work_order)[0].new_value == "cancelled"


def test_a_task_moving_writes_no_work_note(session, world):
    order = create_approved(session, world, [{world.static_ip: 1}])
    work_order = work_orders_of(session, order)[0]
    before = len(work_notes(session, order))

    set_task_status(session, work_order.tasks[0], "cancelled", by=world.backoffice)

    assert len(work_notes(session, order)) == before


def test_scheduling_a_work_order_puts_the_order_in_fulfilment(session, world):
    order = create_approved(session, world)

    advance(session, work_orders_of(session, order)[0], "scheduled", by=world.scheduler)

    assert order.status == "in_fulfilment"


def test_starting_a_work_order_passes_its_lines_point_of_no_return(session, world, frozen_now):
    order = create_approved(session, world, [{world.fibre: 1}, {world.fibre: 1}])
    work_order = work_orders_of(session, order)[0]
    frozen_now(NOW + timedelta(hours=3))

    advance(session, work_order, "in_progress", by=world.scheduler)

    first, second = line_of(order, 1), line_of(order, 2)
    session.refresh(first)
    assert first.ponr_at == NOW + timedelta(hours=3)
    assert first.ponr_reason == f"{work_order.number} started"
    assert first.ponr_by_id == world.scheduler.id
    assert second.ponr_at is None
    assert any(n.action == "ponr" for n in work_notes(session, order))


def test_the_order_is_ready_to_close_when_every_work_order_is_final(session, world):
    order = create_approved(session, world, [{world.fibre: 1, world.static_ip: 1}])
    field, office = work_orders_of(session, order)

    advance(session, field, "closed", by=world.scheduler)
    assert order.status == "in_fulfilment"
    advance(session, office, "cancelled", by=world.backoffice)

    assert order.status == "ready_to_close"
    assert order.ready_at == NOW


def test_a_completed_work_order_is_still_open(session, world):
    order = create_approved(session, world)

    advance(session, work_orders_of(session, order)[0], "completed", by=world.scheduler)

    assert order.status == "in_fulfilment"


def test_the_approver_and_the_fulfilment_user_are_told_when_it_is_ready(session, world):
    order = create_approved(session, world)

    advance(session, work_orders_of(session, order)[0], "closed", by=world.scheduler)

    for user in (world.manager, world.scheduler):
        notices = session.scalars(
            sa.select(Notification.message).where(Notification.user_id == user.id)
        ).all()
        assert any(
            f"{order.number} for {world.account.name} is ready to close" in n for n in notices
        )
        mails = session.scalars(
            sa.select(OutboxMessage.subject).where(
                OutboxMessage.channel == "email", OutboxMessage.recipient == user.email
            )
        ).all()
        assert f"{order.number} is ready to close" in mails


def test_ready_to_close_queues_the_webhook(session, world):
    webhooks.create_endpoint(
        session,
        url="http://127.0.0.1:9/in",
        events=["order.approved", "order.ready_to_close"],
        allow_private=True,
    )
    order = create_approved(session, world)

    advance(session, work_orders_of(session, order)[0], "closed", by=world.scheduler)

    bodies = [
        json.loads(m.body_text)
        for m in session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.channel == "webhook")
            .order_by(OutboxMessage.id)
        )
    ]
    assert [b["type"] for b in bodies] == ["order.approved", "order.ready_to_close"]
    ready = bodies[1]["data"]["order"]
    assert ready["number"] == order.number
    assert ready["status"] == "ready_to_close"
    assert ready["lines"][0]["work_orders"][0]["status"] == "closed"


def test_work_of_another_owner_is_none_of_the_orders_business(session, world):
    other = create_work_order(session, account=world.account)
    order = create_approved(session, world)
    before = len(work_notes(session, order))

    advance(session, other, "scheduled", by=world.scheduler)

    assert len(work_notes(session, order)) == before
    assert order.status == "approved"


def test_closing_a_field_visit_without_sign_off_is_the_spines_own_move(session, world):
    # The customer never signs off: a scheduler closes the completed work order with a
    # reason through the work-order status service; the order hears of it like any move.
    order = create_approved(session, world)
    work_order = work_orders_of(session, order)[0]
    advance(session, work_order, "completed", by=world.scheduler)

    advance(session, work_order, "closed", by=world.scheduler, why="Customer unreachable")

    assert notes_about(session, order, work_order)[0].note.endswith("(Customer unreachable)")
    lifecycle.close(session, order, by=world.scheduler)
    assert order.status == "closed"
