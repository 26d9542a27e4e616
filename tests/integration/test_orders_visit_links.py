"""Approval and in-flight changes send the site contact a "book your visit" link for each
field work order (booking's visit links: these tests run once they are on the branch)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.booking.models import VisitLink
from portal.notifications.models import OutboxMessage
from portal.orders import inflight
from portal.orders.notes import work_notes
from tests.factories import NOW, create_customer
from tests.order_factories import build_order_world, create_approved, line_of, work_orders_of

pytest.importorskip("portal.booking.visit_links")


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    return build_order_world(session)


def mails_to(session, address):
    return session.scalars(
        sa.select(OutboxMessage.subject).where(
            OutboxMessage.channel == "email", OutboxMessage.recipient == address
        )
    ).all()


def live_links_of(session, work_order):
    return session.scalars(
        sa.select(VisitLink).where(
            VisitLink.work_order_id == work_order.id, VisitLink.revoked_at.is_(None)
        )
    ).all()


def test_approval_sends_the_site_contact_a_link_for_each_field_visit(session, world):
    order = create_approved(session, world, [{world.fibre: 2, world.static_ip: 1}])
    first, second, office = work_orders_of(session, order)

    assert mails_to(session, world.contact.email) == ["Book your visit: Fibre installation"] * 2
    assert [len(live_links_of(session, wo)) for wo in (first, second, office)] == [1, 1, 0]
    sent = [n.note for n in work_notes(session, order) if n.action == "visit_link"]
    assert sorted(sent) == sorted(
        f"{wo.number}: visit link sent to Sam Site (Fibre installation)" for wo in (first, second)
    )


def test_a_new_site_contact_gets_new_links_and_the_old_ones_stop(session, world):
    order = create_approved(session, world, [{world.fibre: 1}])
    (work_order,) = work_orders_of(session, order)
    (old,) = live_links_of(session, work_order)
    _, _, keyholder = create_customer(session, account=world.account, email="kim@example.com")

    inflight.edit_line(session, line_of(order), contact=keyholder, by=world.scheduler)

    (new,) = live_links_of(session, work_order)
    assert new.id != old.id and new.contact_id == keyholder.id
    assert mails_to(session, "kim@example.com") == ["Book your visit: Fibre installation"]
