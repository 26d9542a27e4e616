"""Booking's webhook events: which announced appointment events make a webhook, and the
data it carries (the appointment and its work order in their public shapes,
portal/booking/shapes.py, as staff see them).

`expand_webhooks` is registered (by the app factory) as an expander of appointment
events (portal/notifications/events.py): when the scheduler process expands an event
that a booking or a change recorded, it hands the webhook service the event's type and
data, which queues one delivery per subscribed endpoint in the expansion's transaction.
The payload is built there, from the appointment as it stands then.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy.orm as so

from portal.booking.models import Appointment
from portal.booking.shapes import appointment_out, work_order_out
from portal.formatting import org_zone
from portal.notifications.events import Event
from portal.timeutil import now_utc
from portal.webhooks.services import queue_to_subscribers

# Announced events (portal/booking/announce.py) -> the webhook event they make.
# "signed_off" is the moment the work order closes (booking.lifecycle.sign_off).
ANNOUNCED = {
    "booked": "appointment.booked",
    "rescheduled": "appointment.rescheduled",
    "cancelled": "appointment.cancelled",
    "confirmed": "appointment.confirmed",
    "completed": "appointment.completed",
    "signed_off": "work_order.closed",
}


def expand_webhooks(session: so.Session, event: Event) -> None:
    """Queue the webhooks an appointment event makes (the expander for webhooks); the
    payload shows the appointment as it stands when the event is expanded."""
    if event.name not in ANNOUNCED:
        return
    appointment = session.get(Appointment, event.subject_id)
    if appointment is not None:
        queue_event(session, event.name, appointment, occurred_at=event.occurred_at)


def queue_event(
    session: so.Session,
    event: str,
    appointment: Appointment,
    *,
    occurred_at: datetime | None = None,
) -> int:
    """Queue the webhook for an announced event to every active endpoint subscribed to
    it; returns how many were queued (0 for events that make no webhook). `occurred_at`
    (default: now) is when the event happened."""
    kind = ANNOUNCED.get(event)
    if kind is None:
        return 0
    if kind == "work_order.closed" and appointment.work_order.status != "closed":
        return 0
    return queue_to_subscribers(
        session, kind, lambda: appointment_data(appointment), occurred_at or now_utc()
    )


def appointment_data(appointment: Appointment) -> dict:
    """The appointment and its work order in the shapes the JSON API gives staff:
    webhooks go to the organisation's own systems, which see what staff see (the tasks
    too)."""
    shown = appointment_out(appointment, org_zone=org_zone(), with_tasks=True)
    return {
        "appointment": shown.model_dump(mode="json"),
        "work_order": work_order_out(appointment.work_order).model_dump(mode="json"),
    }
