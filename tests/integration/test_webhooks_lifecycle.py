"""The real lifecycle raises the webhook events: booking, confirming, completing and
signing off (which closes the work order); moving and cancelling."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.booking import agent_moves
from portal.booking import lifecycle as lc
from portal.booking.services import BookingRequest, book_window
from portal.booking.steps import Actor
from portal.notifications.models import OutboxMessage
from portal.webhooks import services as webhooks
from portal.webhooks.models import WEBHOOK_EVENTS
from portal.workorders.models import WorkOrderTask
from tests.factories import (
    NOW,
    build_world,
)

WINDOW = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)  # Wednesday 08:00-10:00 London
LATER = datetime(2026, 6, 4, 11, 0, tzinfo=UTC)  # Thursday 12:00-14:00 London


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    world = build_world(session)
    webhooks.create_endpoint(
        session, url="http://127.0.0.1:9/in", events=list(WEBHOOK_EVENTS), allow_private=True
    )
    appointment = book_window(session, BookingRequest(**world.booking_fields(WINDOW)))
    task = session.scalar(
        sa.select(WorkOrderTask).where(WorkOrderTask.appointment_id == appointment.id)
    )
    # Here "customer" is the customer acting (an Actor), as the lifecycle calls take it.
    return {
        "customer": Actor(world.customer),
        "agent": world.agent,
        "appt": appointment,
        "task": task,
    }


def sent_events(session) -> list[str]:
    return list(
        session.scalars(
            sa.select(OutboxMessage.subject)
            .where(OutboxMessage.channel == "webhook")
            .order_by(OutboxMessage.id)
        )
    )


def test_the_happy_path_sends_booked_confirmed_completed_and_work_order_closed(
    session, world, frozen_now, expand_events
):
    appt, task, agent_user = world["appt"], world["task"], world["agent"].user
    agent_moves.accept_task(session, task, agent_user)
    lc.confirm_appointment(session, appt, world["customer"])
    frozen_now(WINDOW + timedelta(hours=1))
    agent_moves.start_task(session, task, agent_user)
    agent_moves.complete_task(session, task, agent_user, note="Done.")
    lc.sign_off(
        session,
        appt,
        world["customer"],
        full_name="Ada Customer",
        consent=True,
        remote_addr="203.0.113.9",
        user_agent="Firefox",
    )
    expand_events()

    assert sent_events(session) == [
        "appointment.booked",
        "appointment.confirmed",
        "appointment.completed",
        "work_order.closed",
    ]


def test_moving_and_cancelling_send_rescheduled_and_cancelled(session, world, expand_events):
    appt = world["appt"]
    lc.reschedule_appointment(session, appt, LATER, world["customer"])
    lc.cancel_appointment(session, appt, world["customer"], "We sold the house")
    expand_events()

    assert sent_events(session) == [
        "appointment.booked",
        "appointment.rescheduled",
        "appointment.cancelled",
    ]
    last = json.loads(
        session.scalar(
            sa.select(OutboxMessage.body_text)
            .where(OutboxMessage.channel == "webhook")
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    )
    assert last["data"]["appointment"]["status"] == "cancelled"
    assert last["data"]["appointment"]["window_start"] == "2026-06-04T11:00:00Z"
