"""An order closes only when every one of its work orders is final; the refusal names
the open ones."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.errors import Conflict, NotAllowed
from portal.notifications.models import OutboxMessage
from portal.orders import inflight, lifecycle
from portal.webhooks import services as webhooks
from tests.factories import NOW, create_user
from tests.order_factories import (
    advance,
    build_order_world,
    create_approved,
    create_draft,
    work_orders_of,
)


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    return build_order_world(session)


def test_closing_with_open_work_is_refused_naming_every_open_work_order(session, world):
    order = create_approved(session, world, [{world.fibre: 2, world.static_ip: 1}])
    first, second, third = work_orders_of(session, order)
    advance(session, first, "scheduled", by=world.scheduler)
    advance(session, third, "closed", by=world.backoffice)

    with pytest.raises(Conflict) as refused:
        lifecycle.close(session, order, by=world.scheduler)

    assert refused.value.message == (
        f"{order.number} cannot close: {first.number} (scheduled), {second.number} (new) "
        "are still open."
    )
    assert order.status == "in_fulfilment"


def test_one_open_work_order_is_named_alone(session, world):
    order = create_approved(session, world)
    (only,) = work_orders_of(session, order)
    advance(session, only, "completed", by=world.scheduler)

    with pytest.raises(Conflict, match=rf"{only.number} \(completed\) is still open"):
        lifecycle.close(session, order, by=world.scheduler)


def test_an_order_closes_when_all_its_work_is_final(session, world):
    order = create_approved(session, world, [{world.fibre: 1, world.static_ip: 1}])
    field, office = work_orders_of(session, order)
    advance(session, field, "closed", by=world.scheduler)
    advance(session, office, "cancelled", by=world.backoffice)

    lifecycle.close(session, order, by=world.scheduler)

    assert order.status == "closed"
    assert (order.closed_at, order.closed_by_id) == (NOW, world.scheduler.id)


def test_a_superseded_work_order_does_not_hold_the_order_open(session, world):
    order = create_approved(session, world, [{world.fibre: 2}])
    first, _ = work_orders_of(session, order)
    inflight.edit_line(session, order.lines[0], items={world.fibre.id: 1}, by=world.scheduler)
    advance(session, first, "closed", by=world.scheduler)

    lifecycle.close(session, order, by=world.scheduler)

    assert order.status == "closed"


def test_closing_queues_the_webhook(session, world):
    webhooks.create_endpoint(
        session, url="http://127.0.0.1:9/in", events=["order.closed"], allow_private=True
    )
    order = create_approved(session, world)
    advance(session, work_orders_of(session, order)[0], "closed", by=world.scheduler)

    lifecycle.close(session, order, by=world.scheduler)

    (message,) = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.channel == "webhook"))
    body = json.loads(message.body_text)
    assert body["type"] == "order.closed"
    assert body["data"]["order"]["status"] == "closed"


def test_a_draft_cannot_be_closed(session, world):
    order = create_draft(session, world)

    with pytest.raises(Conflict, match="only an order ready to close"):
        lifecycle.close(session, order, by=world.scheduler)


def test_closing_twice_changes_nothing(session, world):
    order = create_approved(session, world, [{world.licence: 1}])
    lifecycle.close(session, order, by=world.scheduler)

    again = lifecycle.close(session, order, by=world.manager)

    assert again.closed_by_id == world.scheduler.id


def test_a_customer_cannot_close_an_order(session, world):
    order = create_approved(session, world, [{world.licence: 1}])

    with pytest.raises(NotAllowed):
        lifecycle.close(session, order, by=create_user(session))
