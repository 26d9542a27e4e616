"""Changes in flight: a line edited before its point of no return takes its work orders
(and their booked visits) with it; after it, the line is locked; cancelling the order
only while no line has passed it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.errors import Conflict, Invalid, NotAllowed
from portal.notifications.models import OutboxMessage
from portal.orders import inflight
from portal.orders.models import OrderWorkOrder
from portal.orders.notes import work_notes
from tests.factories import NOW, create_appointment, create_customer, create_location
from tests.order_factories import (
    advance,
    build_order_world,
    create_approved,
    create_draft,
    create_product,
    line_of,
    work_orders_of,
)

VISIT = NOW + timedelta(days=1, hours=2)  # Tuesday 09:00 in London


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    return build_order_world(session)


def book(session, world, work_order):
    """A confirmed visit for the work order, as booking would hold it."""
    advance(session, work_order, "scheduled", by=world.scheduler)
    return create_appointment(
        session,
        start=VISIT,
        contact=world.contact,
        service=world.service,
        location=work_order.location,
        agents=[world.agent],
        work_order=work_order,
    )


def events_of(session, appointment):
    return session.scalars(
        sa.select(OutboxMessage.subject).where(
            OutboxMessage.channel == "event",
            OutboxMessage.subject_type == "appointment",
            OutboxMessage.subject_id == appointment.id,
        )
    ).all()


def test_a_higher_quantity_makes_the_new_units_work_orders(session, world):
    order = create_approved(session, world, [{world.fibre: 1}])
    first = work_orders_of(session, order)[0]

    inflight.edit_line(session, line_of(order), items={world.fibre.id: 3}, by=world.scheduler)

    live = work_orders_of(session, order)
    assert len(live) == 3
    assert live[0].id == first.id
    assert all(wo.status == "new" for wo in live)
    assert any("Fibre broadband 1 → 3" in n.note for n in work_notes(session, order))


def test_a_lower_quantity_cancels_a_work_order_and_its_booked_visit(session, world):
    order = create_approved(session, world, [{world.fibre: 2}])
    keep, drop = work_orders_of(session, order)
    visit = book(session, world, drop)

    inflight.edit_line(session, line_of(order), items={world.fibre.id: 1}, by=world.scheduler)

    assert work_orders_of(session, order) == [keep]
    assert drop.status == "cancelled"
    assert visit.status == "cancelled"
    assert visit.holds == []
    assert "cancelled" in events_of(session, visit)  # the customer is told
    link = session.scalar(sa.select(OrderWorkOrder).where(OrderWorkOrder.work_order_id == drop.id))
    assert link.superseded_at == NOW
    notes = [n.note for n in work_notes(session, order) if n.field == drop.number]
    assert any("scheduled → cancelled" in n for n in notes)
    assert any(f"visit {visit.number} cancelled" in n for n in notes)


def test_a_new_product_on_the_line_makes_its_work_order(session, world):
    order = create_approved(session, world, [{world.fibre: 1}])

    inflight.edit_line(
        session,
        line_of(order),
        items={world.fibre.id: 1, world.static_ip.id: 1},
        by=world.scheduler,
    )

    summaries = [wo.summary for wo in work_orders_of(session, order)]
    assert summaries == ["Fibre broadband install at Site 1", "Static IP address for Site 1"]


def test_a_new_address_moves_the_lines_work_and_cancels_its_visits(session, world):
    order = create_approved(session, world, [{world.fibre: 1}])
    old = work_orders_of(session, order)[0]
    visit = book(session, world, old)
    elsewhere = create_location(session, world.account, label="New office")

    inflight.edit_line(session, line_of(order), location=elsewhere, by=world.scheduler)

    (new,) = work_orders_of(session, order)
    assert new.id != old.id
    assert new.location_id == elsewhere.id
    assert new.summary == "Fibre broadband install at New office"
    assert old.status == "cancelled"
    assert visit.status == "cancelled"
    assert line_of(order).location_id == elsewhere.id


def test_a_new_site_contact_takes_over_the_lines_work_orders(session, world):
    order = create_approved(session, world, [{world.fibre: 1}])
    _, _, someone = create_customer(session, account=world.account, full_name="Kim Keyholder")

    inflight.edit_line(session, line_of(order), contact=someone, by=world.scheduler)

    assert [wo.contact_id for wo in work_orders_of(session, order)] == [someone.id]
    assert line_of(order).contact_id == someone.id


def test_a_refused_edit_changes_nothing(session, frozen_now):
    frozen_now(NOW)
    world = build_order_world(session, default_row=False)
    odd = create_product(session, name="Odd gadget", code="ODD-2")
    order = create_approved(session, world, [{world.fibre: 1}])

    with pytest.raises(Invalid, match="Odd gadget"):
        inflight.edit_line(
            session, line_of(order), items={world.fibre.id: 2, odd.id: 1}, by=world.scheduler
        )

    line = line_of(order)
    assert [(i.product_id, i.quantity) for i in line.items] == [(world.fibre.id, 1)]
    assert len(work_orders_of(session, order)) == 1


def test_an_edit_after_the_point_of_no_return_is_refused_with_the_reason(session, world):
    order = create_approved(session, world, [{world.fibre: 1}, {world.fibre: 1}])
    inflight.set_ponr(session, line_of(order, 2), by=world.scheduler)

    with pytest.raises(Invalid) as refused:
        inflight.edit_line(
            session, line_of(order, 2), items={world.fibre.id: 2}, by=world.scheduler
        )

    assert refused.value.message == (
        "Line 2 is past its point of no return (set by hand by Olu Adebayo on Mon 1 Jun "
        "07:00 BST): it cannot change."
    )
    assert len(work_orders_of(session, order)) == 2


def test_a_started_work_order_locks_its_line(session, world):
    order = create_approved(session, world, [{world.fibre: 1}])
    work_order = work_orders_of(session, order)[0]
    advance(session, work_order, "in_progress", by=world.scheduler)

    with pytest.raises(Invalid, match=f"{work_order.number} started by Olu Adebayo"):
        inflight.edit_line(session, line_of(order), items={world.fibre.id: 2}, by=world.scheduler)


def test_the_other_lines_stay_editable_after_one_passes(session, world):
    order = create_approved(session, world, [{world.fibre: 1}, {world.fibre: 1}])
    inflight.set_ponr(session, line_of(order, 1), by=world.scheduler)

    inflight.edit_line(session, line_of(order, 2), items={world.fibre.id: 2}, by=world.scheduler)

    assert len(work_orders_of(session, order)) == 3


def test_new_work_on_an_order_ready_to_close_puts_it_back_in_fulfilment(session, world):
    order = create_approved(session, world, [{world.fibre: 1}])
    advance(session, work_orders_of(session, order)[0], "cancelled", by=world.scheduler)
    assert order.status == "ready_to_close"

    inflight.edit_line(session, line_of(order), items={world.fibre.id: 2}, by=world.scheduler)

    assert order.status == "in_fulfilment"


def test_a_draft_line_is_edited_without_any_work(session, world):
    order = create_draft(session, world, [{world.fibre: 1}])

    inflight.edit_line(session, line_of(order), items={world.fibre.id: 4}, by=world.scheduler)

    assert line_of(order).items[0].quantity == 4
    assert work_orders_of(session, order) == []


def test_a_back_office_member_cannot_cancel_a_booked_visit(session, world):
    order = create_approved(session, world, [{world.fibre: 1}])
    book(session, world, work_orders_of(session, order)[0])

    with pytest.raises(NotAllowed, match="a scheduler cancels it"):
        inflight.edit_line(
            session, line_of(order), items={world.static_ip.id: 1}, by=world.backoffice
        )


def test_the_point_of_no_return_set_by_hand_is_a_work_note(session, world):
    order = create_approved(session, world)

    line = inflight.set_ponr(session, line_of(order), by=world.scheduler)

    assert (line.ponr_at, line.ponr_by_id, line.ponr_reason) == (
        NOW,
        world.scheduler.id,
        "set by hand",
    )
    assert work_notes(session, order)[0].action == "ponr"


# --- cancelling the order ----------------------------------------------------------------------


def test_cancelling_the_order_cancels_its_work_and_visits(session, world):
    order = create_approved(session, world, [{world.fibre: 1, world.static_ip: 1}])
    field, office = work_orders_of(session, order)
    visit = book(session, world, field)

    inflight.cancel(session, order, by=world.scheduler, reason="Customer moved away")

    assert order.status == "cancelled"
    assert order.reason == "Customer moved away"
    assert (field.status, office.status, visit.status) == ("cancelled",) * 3
    assert {t.status for t in office.tasks} == {"cancelled"}


def test_cancelling_is_refused_once_a_line_has_passed_its_point_of_no_return(session, world):
    order = create_approved(session, world, [{world.fibre: 1}, {world.fibre: 1}])
    inflight.set_ponr(session, line_of(order, 2), by=world.scheduler)

    with pytest.raises(Invalid, match="cannot be cancelled: Line 2 is past"):
        inflight.cancel(session, order, by=world.scheduler, reason="Changed mind")

    assert order.status == "approved"
    assert {wo.status for wo in work_orders_of(session, order)} == {"new"}


def test_a_cancellation_needs_a_reason(session, world):
    order = create_draft(session, world)

    with pytest.raises(Invalid):
        inflight.cancel(session, order, by=world.scheduler, reason="")


def test_an_ended_order_cannot_be_cancelled(session, world):
    order = create_draft(session, world)
    inflight.cancel(session, order, by=world.scheduler, reason="Duplicate")

    with pytest.raises(Conflict):
        inflight.cancel(session, order, by=world.scheduler, reason="Again")
