"""Sending webhooks: the outbox's sender (notifications.services.send_due) hands every
due message of channel "webhook" to `send_due_webhooks`.

Each delivery is a POST of the event's JSON with these headers:

    Content-Type: application/json
    X-Portal-Event: appointment.booked
    X-Portal-Event-Id: evt_...          (the same on every retry)
    X-Portal-Delivery: 42               (the outbox message)
    X-Portal-Timestamp: 1764000000      (Unix seconds, when this attempt was signed)
    X-Portal-Signature: sha256=<hex>    (HMAC-SHA256 of "<timestamp>.<body>", key: the
                                         endpoint's secret)

A 2xx answer delivers it; anything else, a refused address or a network error is
retried with the outbox's backoff until its attempt limit, then the message is failed.
Redirects are not followed (http.client never does; a 3xx is not a 2xx). Every attempt
is logged with its status code and the start of the answer.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from portal.errors import Invalid
from portal.notifications.models import OutboxMessage
from portal.notifications.services import CLAIM_LEASE, MAX_ATTEMPTS, backoff
from portal.webhooks.models import WebhookAttempt, WebhookEndpoint
from portal.webhooks.urls import Target, check_url

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5
EXCERPT_CHARS = 500
READ_BYTES = 4096
USER_AGENT = "Portal-Webhooks/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Portal-Signature value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


@dataclass
class Outcome:
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send_due_webhooks(session: so.Session, now: datetime, *, limit: int, report) -> None:
    """Deliver the webhook messages due at `now` (at most `limit`), counting them in
    `report` (a notifications SendReport). Commits like send_due: once to claim the
    batch, once after each delivery, never while waiting for a receiver."""
    allow_private = current_app.config.get("WEBHOOKS_ALLOW_PRIVATE", False)
    batch = _claim(session, now, limit)
    for message_id in batch:
        message = session.get(OutboxMessage, message_id)
        endpoint = session.get(WebhookEndpoint, message.subject_id)
        if endpoint is None or not endpoint.active:
            message.status = "failed"
            message.last_error = "The endpoint was removed or paused before delivery."
            report.failed += 1
            session.commit()
            continue
        # Read what the request needs, then end the transaction before the network call.
        url, secret, body = endpoint.url, endpoint.secret, message.body_text
        attempt_no = message.attempts + 1
        session.commit()
        outcome = deliver(
            url,
            secret,
            body,
            delivery_id=message_id,
            attempt=attempt_no,
            now=now,
            allow_private=allow_private,
        )
        _record(session, message_id, endpoint.id, now, outcome, report)
        session.commit()


def _claim(session: so.Session, now: datetime, limit: int) -> list[int]:
    """Lease the due webhook messages (as the e-mail sender does) in one transaction."""
    messages = session.scalars(
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.channel == "webhook",
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for message in messages:
        message.next_attempt_at = now + CLAIM_LEASE
    ids = [m.id for m in messages]
    session.commit()
    return ids


def deliver(
    url: str,
    secret: str,
    body: str,
    *,
    delivery_id: int,
    attempt: int,
    now: datetime,
    allow_private: bool,
) -> Outcome:
    """POST one signed event to `url`; never raises for what the receiver does."""
    started = time.monotonic()
    try:
        target = check_url(url, allow_private=allow_private)
    except Invalid as refused:
        return Outcome(error=f"Refused: {refused.message}")
    payload = body.encode("utf-8")
    timestamp = int(now.timestamp())
    event = json.loads(body)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Portal-Event": event.get("type", ""),
        "X-Portal-Event-Id": event.get("id", ""),
        "X-Portal-Delivery": str(delivery_id),
        "X-Portal-Attempt": str(attempt),
        "X-Portal-Timestamp": str(timestamp),
        "X-Portal-Signature": sign(secret, timestamp, payload),
    }
    connection = _connection(target)
    try:
        connection.request("POST", target.path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read(READ_BYTES)
        outcome = Outcome(
            status_code=response.status,
            excerpt=raw.decode("utf-8", "replace")[:EXCERPT_CHARS],
        )
    except (OSError, http.client.HTTPException) as exc:
        outcome = Outcome(error=f"{type(exc).__name__}: {exc}"[:EXCERPT_CHARS])
    finally:
        connection.close()
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the URL check approved, not to a fresh DNS answer."""

    def __init__(self, target: Target):
        super().__init__(target.host, target.port, timeout=TIMEOUT_SECONDS)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the approved address, the certificate checked against the URL's host."""

    def __init__(self, target: Target):
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=TIMEOUT_SECONDS, context=self._tls)
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def _connection(target: Target) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(target)
    return _PinnedHTTPConnection(target)


def _record(session, message_id: int, endpoint_id: int, now, outcome: Outcome, report) -> None:
    message = session.get(OutboxMessage, message_id)
    session.add(
        WebhookAttempt(
            message_id=message_id,
            endpoint_id=endpoint_id,
            attempted_at=now,
            status_code=outcome.status_code,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
    )
    message.attempts += 1
    if outcome.ok:
        message.status = "sent"
        message.sent_at = now
        message.last_error = ""
        report.sent += 1
        return
    message.last_error = outcome.error or f"HTTP {outcome.status_code}"
    if message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
        message.next_attempt_at = now
        report.failed += 1
        log.error("Gave up on webhook %s to %s", message_id, message.recipient)
    else:
        message.next_attempt_at = now + backoff(message.attempts)
        report.retrying += 1
