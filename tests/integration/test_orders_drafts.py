"""Drafts: who may make them, their lines (one per address, of the account), items and
site contacts, addresses and people added inline."""

from __future__ import annotations

import pytest

from portal.errors import Conflict, Invalid, NotAllowed
from portal.orders import services
from portal.orders.notes import work_notes
from portal.workforce.models import PostalPrefix
from tests.factories import NOW, create_customer, create_location, create_user
from tests.order_factories import (
    build_order_world,
    create_draft,
    create_placed,
    create_product,
    line_of,
    orders_queue,
)


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    return build_order_world(session)


def test_a_scheduler_creates_a_draft_for_the_account(session, world):
    order = services.create_order(
        session, world.account, fulfilment_user=world.scheduler, by=world.scheduler, note="Rush"
    )

    assert (order.status, order.account_id, order.note) == ("draft", world.account.id, "Rush")
    assert order.number == f"ORD-{order.id:06d}"
    assert work_notes(session, order)[0].action == "created"


def test_a_back_office_member_of_the_orders_queue_handles_orders(session, world):
    order = services.create_order(
        session, world.account, fulfilment_user=world.backoffice, by=world.backoffice
    )

    assert order.fulfilment_user_id == world.backoffice.id


def test_back_office_outside_the_orders_queue_may_not(session, world):
    outsider = create_user(session, role="backoffice")

    with pytest.raises(NotAllowed):
        services.create_order(session, world.account, fulfilment_user=world.scheduler, by=outsider)
    with pytest.raises(Invalid, match="cannot fulfil orders"):
        services.create_order(session, world.account, fulfilment_user=outsider, by=world.scheduler)


def test_an_agent_may_not_fulfil_orders(session, world):
    with pytest.raises(Invalid, match="cannot fulfil orders"):
        services.create_order(
            session, world.account, fulfilment_user=world.agent.user, by=world.scheduler
        )


def test_one_line_per_address(session, world):
    order = create_draft(session, world)

    with pytest.raises(Invalid, match="Line 1 is for Site 1 already"):
        services.add_line(
            session, order, world.locations[0], contact=world.contact, by=world.scheduler
        )


def test_a_line_needs_an_address_and_a_person_of_the_account(session, world):
    order = create_draft(session, world)
    _, other_account, stranger = create_customer(session)
    far = create_location(session, other_account)

    with pytest.raises(Invalid, match="address of this customer"):
        services.add_line(session, order, far, contact=world.contact, by=world.scheduler)
    with pytest.raises(Invalid, match="person at this customer"):
        services.add_line(session, order, world.locations[1], contact=stranger, by=world.scheduler)


def test_removing_a_line_moves_the_later_ones_up(session, world):
    order = create_draft(session, world, [{world.fibre: 1}, {world.fibre: 1}, {world.fibre: 1}])

    services.remove_line(session, line_of(order, 1), by=world.scheduler)

    session.refresh(order)
    assert [(line.position, line.location.label) for line in order.lines] == [
        (1, "Site 2"),
        (2, "Site 3"),
    ]


def test_items_are_exactly_what_was_given(session, world):
    order = create_draft(session, world, [{world.fibre: 1, world.licence: 2}])

    services.set_items(
        session, line_of(order), {world.fibre.id: 2, world.static_ip.id: 1}, by=world.scheduler
    )

    items = {i.product_id: i.quantity for i in line_of(order).items}
    assert items == {world.fibre.id: 2, world.static_ip.id: 1}


@pytest.mark.parametrize("quantity", [0, 1000, "two", None, 1.5, True, "-1", "9" * 5000])
def test_a_quantity_is_a_whole_number_from_1_to_999(session, world, quantity):
    order = create_draft(session, world)

    with pytest.raises(Invalid, match="from 1 to 999"):
        services.set_items(session, line_of(order), {world.fibre.id: quantity}, by=world.scheduler)


@pytest.mark.parametrize("product_id", ["abc", None, -1, 2**40, "99999"])
def test_an_unknown_product_is_a_clear_refusal(session, world, product_id):
    order = create_draft(session, world)

    with pytest.raises(Invalid, match="from the catalogue"):
        services.set_items(session, line_of(order), {product_id: 1}, by=world.scheduler)


def test_an_inactive_product_cannot_be_ordered(session, world):
    old = create_product(session, active=False)
    order = create_draft(session, world)

    with pytest.raises(Invalid, match="from the catalogue"):
        services.set_items(session, line_of(order), {old.id: 1}, by=world.scheduler)


def test_a_placed_orders_lines_cannot_change_this_way(session, world):
    order = create_placed(session, world)

    with pytest.raises(Conflict, match="only a draft"):
        services.set_items(session, line_of(order), {world.fibre.id: 2}, by=world.scheduler)


def test_an_address_is_added_inline_for_the_account(session, world):
    order = create_draft(session, world)
    territory = world.locations[0].territory
    session.add(PostalPrefix(territory_id=territory.id, prefix="EC1"))
    session.flush()

    location = services.add_location(
        session,
        order,
        label="Warehouse",
        street="1 Dock Road",
        city="London",
        postal_code="ec1a 1bb",
        by=world.scheduler,
    )

    assert (location.account_id, location.territory_id) == (world.account.id, territory.id)
    line = services.add_line(session, order, location, contact=world.contact, by=world.scheduler)
    assert line.position == 2


def test_an_address_nobody_serves_is_refused(session, world):
    order = create_draft(session, world)

    with pytest.raises(Invalid, match="do not serve postcode"):
        services.add_location(
            session,
            order,
            label="Far away",
            street="1 Nowhere",
            city="Elsewhere",
            postal_code="ZZ9 9ZZ",
            by=world.scheduler,
        )


def test_a_site_contact_is_added_inline(session, world):
    order = create_draft(session, world)

    contact = services.add_site_contact(
        session, order, full_name=" Kim  Keyholder ", email="Kim@Example.com", by=world.scheduler
    )
    services.set_line_contact(session, line_of(order), contact, by=world.scheduler)

    assert (contact.full_name, contact.email) == ("Kim Keyholder", "kim@example.com")
    assert line_of(order).contact_id == contact.id


def test_a_site_contact_needs_an_e_mail_address(session, world):
    order = create_draft(session, world)

    with pytest.raises(Invalid, match="e-mail address"):
        services.add_site_contact(
            session, order, full_name="Kim", email="not an address", by=world.scheduler
        )


def test_the_fulfilment_user_can_be_changed(session, world):
    order = create_draft(session, world)
    orders_queue(session, members=[world.backoffice])

    services.set_fulfilment_user(session, order, world.backoffice, by=world.scheduler)

    assert order.fulfilment_user_id == world.backoffice.id
    assert work_notes(session, order)[0].new_value == world.backoffice.full_name


def test_placing_a_draft(session, world):
    order = create_draft(session, world)

    services.place(session, order, by=world.scheduler)

    assert (order.status, order.placed_at) == ("placed", NOW)
    with pytest.raises(Conflict):
        services.place(session, order, by=world.scheduler)


def test_an_empty_draft_cannot_be_placed(session, world):
    order = services.create_order(
        session, world.account, fulfilment_user=world.scheduler, by=world.scheduler
    )

    with pytest.raises(Invalid, match="Add a line"):
        services.place(session, order, by=world.scheduler)
