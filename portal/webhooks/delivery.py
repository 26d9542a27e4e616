"""Sending webhooks: the scheduler job "send-webhooks" (portal/webhooks/jobs.py) sends
the due outbox messages of channel "webhook" with `send_due_webhooks`. It is a job of its
own, beside the e-mail sender, so a slow receiver never holds up an e-mail.

Each delivery is a POST of the event's JSON with these headers:

    Content-Type: application/json
    X-Portal-Event: appointment.booked
    X-Portal-Event-Id: evt_...          (the same on every retry)
    X-Portal-Delivery: 42               (the outbox message)
    X-Portal-Timestamp: 1764000000      (Unix seconds, when this attempt was signed)
    X-Portal-Signature: sha256=<hex>    (HMAC-SHA256 of "<timestamp>.<body>", key: the
                                         endpoint's secret)

A 2xx answer delivers it; anything else, a refused address, a host name that does not
resolve within WEBHOOKS_DNS_TIMEOUT_SECONDS (5 by default), a network error or no
complete answer within DEADLINE_SECONDS is retried with the outbox's backoff until its
attempt limit, then the message is failed. The deadline covers the whole delivery
(connect, TLS, request, answer): the socket timeout alone applies to each read, which a
receiver trickling a byte at a time would otherwise stretch without end.
Redirects are not followed (http.client never does; a 3xx is not a 2xx). Every attempt
is logged with its status code and the start of the answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import logging
import socket
import ssl
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy.orm as so
from flask import current_app

from portal.errors import Invalid
from portal.notifications.models import OutboxMessage
from portal.notifications.services import MAX_ATTEMPTS, SendReport, backoff, lease_due
from portal.timeutil import now_utc
from portal.webhooks.models import WebhookAttempt, WebhookEndpoint
from portal.webhooks.urls import DNS_TIMEOUT_SECONDS, LookupTimeout, Target, check_url

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5  # each connect, send or read
DEADLINE_SECONDS = 10  # the whole delivery, however the receiver paces its answer
EXCERPT_CHARS = 500
READ_BYTES = 4096
USER_AGENT = "Portal-Webhooks/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Portal-Signature value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


@dataclass
class Outcome:
    """What one attempt got back: the columns of its WebhookAttempt row."""

    status_code: int | None = None
    response_excerpt: str = ""
    error: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send_due_webhooks(session: so.Session, now: datetime, *, limit: int = 50) -> SendReport:
    """Deliver the webhook messages due at `now` (at most `limit`). Commits like the
    e-mail sender: once to claim the batch, once after each delivery, never while
    waiting for a receiver. Whatever goes wrong with one message is recorded as a failed
    attempt of that message; the rest of the batch still goes out."""
    settings = {
        "allow_private": current_app.config.get("WEBHOOKS_ALLOW_PRIVATE", False),
        "dns_timeout": current_app.config.get("WEBHOOKS_DNS_TIMEOUT_SECONDS", DNS_TIMEOUT_SECONDS),
    }
    report = SendReport()
    for message_id in _claim(session, now, limit):
        try:
            _send_one(session, message_id, now, settings, report)
        except Exception as exc:
            session.rollback()
            log.exception("Webhook %s could not be sent", message_id)
            error = f"{type(exc).__name__}: {exc}"[:EXCERPT_CHARS]
            message = session.get(OutboxMessage, message_id)
            endpoint_id = message.subject_id if message is not None else None
            if endpoint_id is not None and session.get(WebhookEndpoint, endpoint_id) is None:
                endpoint_id = None
            _record(session, message_id, endpoint_id, now, Outcome(error=error), report)
            session.commit()
    return report


def _send_one(session, message_id: int, now: datetime, settings: dict, report) -> None:
    message = session.get(OutboxMessage, message_id)
    endpoint = session.get(WebhookEndpoint, message.subject_id)
    if endpoint is None or not endpoint.active:
        message.status = "failed"
        message.last_error = "The endpoint was removed or paused before delivery."
        report.failed += 1
        session.commit()
        return
    # Read what the request needs, then end the transaction before the network call.
    url, secret, body, endpoint_id = endpoint.url, endpoint.secret, message.body_text, endpoint.id
    attempt_no = message.attempts + 1
    session.commit()
    outcome = deliver(
        url,
        secret,
        body,
        delivery_id=message_id,
        attempt=attempt_no,
        **settings,
    )
    _record(session, message_id, endpoint_id, now, outcome, report)
    session.commit()


def _claim(session: so.Session, now: datetime, limit: int) -> list[int]:
    """Lease the due webhook messages (as the e-mail sender does) in one transaction."""
    ids = [m.id for m in lease_due(session, "webhook", now, limit)]
    session.commit()
    return ids


def deliver(
    url: str,
    secret: str,
    body: str,
    *,
    delivery_id: int,
    attempt: int,
    allow_private: bool,
    dns_timeout: float = DNS_TIMEOUT_SECONDS,
) -> Outcome:
    """POST one signed event to `url`, giving up after `dns_timeout` seconds for the
    host name and DEADLINE_SECONDS for the rest; never raises: whatever goes wrong is
    the outcome's error."""
    started = time.monotonic()
    try:
        target = check_url(url, allow_private=allow_private, resolve_timeout=dns_timeout)
        outcome = _post(target, body, _signed_headers(secret, body, delivery_id, attempt))
    except LookupTimeout as slow:
        outcome = Outcome(error=f"Timeout: {slow.message}")
    except Invalid as refused:
        outcome = Outcome(error=f"Refused: {refused.message}")
    except Exception as exc:  # a bug or a row we cannot send must not stop the sender
        log.exception("Webhook delivery %s failed unexpectedly", delivery_id)
        outcome = Outcome(error=f"{type(exc).__name__}: {exc}"[:EXCERPT_CHARS])
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


def _signed_headers(secret: str, body: str, delivery_id: int, attempt: int) -> dict[str, str]:
    event = json.loads(body)
    # Signed when sent: a retry an hour later carries that hour's timestamp.
    timestamp = int(now_utc().timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Portal-Event": event.get("type", ""),
        "X-Portal-Event-Id": event.get("id", ""),
        "X-Portal-Delivery": str(delivery_id),
        "X-Portal-Attempt": str(attempt),
        "X-Portal-Timestamp": str(timestamp),
        "X-Portal-Signature": sign(secret, timestamp, body.encode("utf-8")),
    }


def _post(target: Target, body: str, headers: dict[str, str]) -> Outcome:
    payload = body.encode("utf-8")
    deadline = _Deadline(DEADLINE_SECONDS)
    connection = _connection(target, deadline)
    deadline.start()
    try:
        connection.request("POST", target.path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read(READ_BYTES)
        outcome = Outcome(
            status_code=response.status,
            response_excerpt=raw.decode("utf-8", "replace")[:EXCERPT_CHARS],
        )
    except (OSError, http.client.HTTPException) as exc:
        outcome = Outcome(error=f"{type(exc).__name__}: {exc}"[:EXCERPT_CHARS])
    finally:
        deadline.cancel()
        connection.close()
    if deadline.expired:
        # Cut off: what was read may be a truncated answer that only looks complete.
        return Outcome(error=f"Timeout: no complete answer within {DEADLINE_SECONDS} seconds.")
    return outcome


class _Deadline:
    """Ends a delivery that runs past `seconds` in all: a timer shuts its sockets down,
    which wakes a read that is waiting (it then sees the connection end)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for a TLS socket: no TLS close_notify from this
    # thread while another may be reading; the read just sees the end. OSError: not
    # connected yet, or closed already.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the URL check approved, not to a fresh DNS answer."""

    def __init__(self, target: Target, deadline: _Deadline):
        super().__init__(target.host, target.port, timeout=TIMEOUT_SECONDS)
        self._address = target.address
        self._deadline = deadline

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self._deadline.watch(self.sock)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the approved address, the certificate checked against the URL's host."""

    def __init__(self, target: Target, deadline: _Deadline):
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=TIMEOUT_SECONDS, context=self._tls)
        self._address = target.address
        self._deadline = deadline

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self._deadline.watch(sock)  # during the handshake
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        self._deadline.watch(self.sock)


def _connection(target: Target, deadline: _Deadline) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(target, deadline)
    return _PinnedHTTPConnection(target, deadline)


def _record(
    session, message_id: int, endpoint_id: int | None, now, outcome: Outcome, report
) -> None:
    message = session.get(OutboxMessage, message_id)
    if endpoint_id is not None:  # the log belongs to an endpoint; none left, no log
        session.add(
            WebhookAttempt(
                message_id=message_id, endpoint_id=endpoint_id, attempted_at=now, **asdict(outcome)
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
