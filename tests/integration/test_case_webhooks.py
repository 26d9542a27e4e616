"""Webhooks of cases: `case.created` and `case.closed`, expanded from the case events the
case services record, with the case in the API's shape (portal/cases/shapes.py)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.cases.services import close_case, set_status
from portal.cases.shapes import case_out
from portal.notifications.models import OutboxMessage
from portal.webhooks import services as webhooks
from portal.webhooks import urls
from tests.case_factories import create_case
from tests.factories import create_user

URL = "https://hooks.example.com/portal"


@pytest.fixture(autouse=True)
def _public_dns(monkeypatch):
    monkeypatch.setattr(urls, "resolve", lambda host, port: ["93.184.215.14"])


def subscribe(session, *events):
    return webhooks.create_endpoint(session, url=URL, events=events)


def deliveries(session) -> list[dict]:
    rows = session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.channel == "webhook")
        .order_by(OutboxMessage.id)
    )
    return [json.loads(m.body_text) for m in rows]


def test_opening_a_case_sends_case_created_with_the_case_in_the_api_shape(
    session, world, expand_events
):
    subscribe(session, "case.created")

    case = create_case(session, world.contact, subject="The boiler is loud")
    expand_events()

    (body,) = deliveries(session)
    assert body["type"] == "case.created"
    assert body["occurred_at"].endswith("Z")
    assert body["data"]["case"] == case_out(case).model_dump(mode="json")
    assert body["data"]["case"]["number"] == case.number
    assert body["data"]["case"]["owner"]["kind"] == "queue"  # staff's view: the owner too


def test_closing_a_case_sends_case_closed(session, world, expand_events):
    subscribe(session, "case.closed")
    case = create_case(session, world.contact)
    expand_events()

    close_case(session, case, create_user(session, role="scheduler"), "Fixed")
    expand_events()

    (body,) = deliveries(session)
    assert body["type"] == "case.closed"
    assert body["data"]["case"]["state"] == "closed"
    assert body["data"]["case"]["closed_at"] is not None


def test_other_case_changes_send_nothing(session, world, expand_events):
    subscribe(session, "case.created", "case.closed")
    case = create_case(session, world.contact)
    expand_events()

    set_status(session, case, "Waiting on customer", world.customer)
    expand_events()

    assert [b["type"] for b in deliveries(session)] == ["case.created"]


def test_a_case_reopened_before_the_expansion_sends_no_case_closed(session, world, expand_events):
    subscribe(session, "case.closed")
    case = create_case(session, world.contact)
    close_case(session, case, world.customer)
    set_status(session, case, "In progress", world.customer)

    expand_events()

    assert deliveries(session) == []


def test_nothing_is_sent_without_a_subscriber(session, world, expand_events):
    subscribe(session, "appointment.booked")

    create_case(session, world.contact)
    expand_events()

    assert deliveries(session) == []
