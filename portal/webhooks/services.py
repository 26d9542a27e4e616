"""Webhook endpoints (register, rotate, pause, remove) and the events queued for them.

`expand_webhooks` is registered (by the app factory) as an expander of appointment
events (portal/notifications/events.py): when the scheduler process expands an event
that a booking or a change recorded, it stores one outbox message per active endpoint
subscribed to it, in the expansion's transaction. The payload is built there, never in
the booking's transaction; nothing is sent for a booking that rolled back, and nothing
before it was committed.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.audit.services import record_change, snapshot
from portal.booking.models import Appointment
from portal.errors import Invalid, NotAllowed
from portal.notifications.events import Event
from portal.notifications.models import OutboxMessage
from portal.timeutil import now_utc
from portal.webhooks.models import (
    OUTBOX_SUBJECT,
    PING_EVENT,
    WEBHOOK_EVENTS,
    WebhookAttempt,
    WebhookEndpoint,
)
from portal.webhooks.urls import check_url

SECRET_PREFIX = "whsec_"  # nosec B105  # the prefix generated secrets carry, not a secret
MAX_DESCRIPTION = 200
RECENT_DELIVERIES = 20
# What the audit log keeps of an endpoint (the secret shows as changed, masked).
AUDITED = ("url", "description", "events", "active", "secret")

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


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# --- endpoints ------------------------------------------------------------------------------


def _clean_events(events: Iterable[str]) -> list[str]:
    chosen = [e for e in WEBHOOK_EVENTS if e in set(events)]
    unknown = set(events) - set(WEBHOOK_EVENTS)
    if unknown:
        raise Invalid(f"Unknown event: {', '.join(sorted(unknown))}.", field="events")
    if not chosen:
        raise Invalid("Choose at least one event to send.", field="events")
    return chosen


def create_endpoint(
    session: so.Session,
    *,
    url: str,
    events: Iterable[str],
    description: str = "",
    created_by: User | None = None,
    allow_private: bool = False,
) -> WebhookEndpoint:
    """Register a URL for `events`, with a new secret; Invalid names the field at fault."""
    events = list(events)
    check_url(url, allow_private=allow_private)
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(f"Use at most {MAX_DESCRIPTION} characters.", field="description")
    endpoint = WebhookEndpoint(
        url=url.strip(),
        description=description,
        secret=new_secret(),
        events=_clean_events(events),
        active=True,
        created_by=created_by,
        created_at=now_utc(),
    )
    session.add(endpoint)
    session.flush()
    record_change(session, created_by, "create", endpoint, None, snapshot(endpoint, *AUDITED))
    return endpoint


def rotate_secret(session: so.Session, endpoint: WebhookEndpoint, *, by: User | None = None) -> str:
    """Give the endpoint a new secret (returned); deliveries from now on are signed with
    it, retries of earlier ones included."""
    before = snapshot(endpoint, "secret")
    endpoint.secret = new_secret()
    endpoint.secret_rotated_at = now_utc()
    session.flush()
    record_change(session, by, "rotate_secret", endpoint, before, snapshot(endpoint, "secret"))
    return endpoint.secret


def set_active(
    session: so.Session, endpoint: WebhookEndpoint, active: bool, *, by: User | None = None
) -> None:
    """Pause or resume an endpoint; a paused one is sent nothing, not even retries."""
    before = snapshot(endpoint, "active")
    endpoint.active = active
    session.flush()
    record_change(
        session, by, "resume" if active else "pause", endpoint, before, snapshot(endpoint, "active")
    )


def delete_endpoint(
    session: so.Session, endpoint: WebhookEndpoint, *, by: User | None = None
) -> None:
    """Remove the endpoint with its deliveries and their log."""
    record_change(session, by, "delete", endpoint, snapshot(endpoint, *AUDITED), None)
    session.execute(
        sa.delete(OutboxMessage).where(
            OutboxMessage.subject_type == OUTBOX_SUBJECT, OutboxMessage.subject_id == endpoint.id
        )
    )
    session.delete(endpoint)
    session.flush()


def list_endpoints(session: so.Session) -> list[WebhookEndpoint]:
    return list(session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


# --- events ---------------------------------------------------------------------------------


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
    endpoints = [
        e
        for e in session.scalars(sa.select(WebhookEndpoint).where(WebhookEndpoint.active))
        if e.subscribes_to(kind)
    ]
    if not endpoints:
        return 0
    body = event_body(kind, appointment_data(appointment), occurred_at or now_utc())
    for endpoint in endpoints:
        _queue(session, endpoint, kind, body)
    return len(endpoints)


def queue_ping(session: so.Session, endpoint: WebhookEndpoint) -> OutboxMessage:
    """Queue a test event to one endpoint, whatever it subscribes to."""
    if not endpoint.active:
        raise NotAllowed("Resume the endpoint before sending it a test ping.")
    data = {"message": "A test ping from the portal's webhook settings."}
    return _queue(session, endpoint, PING_EVENT, event_body(PING_EVENT, data, now_utc()))


def event_body(kind: str, data: dict, occurred_at: datetime) -> str:
    """The JSON every delivery of one event carries; its id stays the same on retries and
    across endpoints, so a receiver can ignore a repeat."""
    return json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": kind,
            "occurred_at": occurred_at.isoformat().replace("+00:00", "Z"),
            "data": data,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _queue(session, endpoint: WebhookEndpoint, kind: str, body: str) -> OutboxMessage:
    message = OutboxMessage(
        channel="webhook",
        recipient=endpoint.url,
        subject=kind,
        body_text=body,
        subject_type=OUTBOX_SUBJECT,
        subject_id=endpoint.id,
        status="pending",
        next_attempt_at=now_utc(),
    )
    session.add(message)
    session.flush()
    return message


def appointment_data(appointment: Appointment) -> dict:
    """The appointment and its work order in the shapes the JSON API gives staff."""
    from portal.api.routes.common import appointment_out
    from portal.api.routes.staff import work_order_out

    staff_view = _StaffViewer()
    return {
        "appointment": appointment_out(appointment, staff_view).model_dump(mode="json"),
        "work_order": work_order_out(appointment.work_order).model_dump(mode="json"),
    }


class _StaffViewer:
    """Stands for "the organisation" where the API's shapes ask who is looking: webhooks
    go to the organisation's own systems, which see what staff see (the tasks too)."""

    is_staff = True


# --- the settings page ----------------------------------------------------------------------


@dataclass
class Delivery:
    message: OutboxMessage
    attempts: list[WebhookAttempt] = field(default_factory=list)

    @property
    def last(self) -> WebhookAttempt | None:
        return self.attempts[0] if self.attempts else None


def recent_deliveries(
    session: so.Session, endpoint: WebhookEndpoint, *, limit: int = RECENT_DELIVERIES
) -> list[Delivery]:
    """The endpoint's latest deliveries, newest first, each with its attempts (newest
    first); two queries."""
    messages = session.scalars(
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.subject_type == OUTBOX_SUBJECT, OutboxMessage.subject_id == endpoint.id
        )
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    deliveries = {m.id: Delivery(m) for m in messages}
    if deliveries:
        attempts = session.scalars(
            sa.select(WebhookAttempt)
            .where(WebhookAttempt.message_id.in_(deliveries))
            .order_by(WebhookAttempt.id.desc())
        )
        for attempt in attempts:
            deliveries[attempt.message_id].attempts.append(attempt)
    return list(deliveries.values())
