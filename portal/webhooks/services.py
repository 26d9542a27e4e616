"""Webhook endpoints (register, rotate, pause, remove) and the events queued for them.

This service knows no domain: a domain hands `queue_to_subscribers` an event's type and
its data (plain JSON values), and one outbox message is stored per active endpoint
subscribed to that type. Booking does so when the scheduler process expands one of its
events (portal/booking/hooks.py), in the expansion's transaction, never in the
booking's; nothing is sent for a booking that rolled back, and nothing before it was
committed.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.audit.services import record_change, snapshot
from portal.errors import Invalid, NotAllowed
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

if TYPE_CHECKING:  # only for annotations: who acted, passed in by the caller
    from portal.accounts.models import User

SECRET_PREFIX = "whsec_"  # nosec B105  # the prefix generated secrets carry, not a secret
MAX_DESCRIPTION = 200
RECENT_DELIVERIES = 20
# What the audit log keeps of an endpoint (the secret shows as changed, masked).
AUDITED = ("url", "description", "events", "active", "secret")


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


def queue_to_subscribers(
    session: so.Session, kind: str, data: Callable[[], dict], occurred_at: datetime
) -> int:
    """Queue an event of type `kind` to every active endpoint subscribed to it; returns
    how many were queued. `data()` builds the event's data (plain JSON values), called
    only when an endpoint subscribes; `occurred_at` is when the event happened."""
    endpoints = [
        e
        for e in session.scalars(sa.select(WebhookEndpoint).where(WebhookEndpoint.active))
        if e.subscribes_to(kind)
    ]
    if not endpoints:
        return 0
    body = event_body(kind, data(), occurred_at)
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
