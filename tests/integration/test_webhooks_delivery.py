"""Webhooks end to end: a booking is POSTed to a real HTTP server on loopback, signed;
a receiver that fails is retried with backoff until it answers, every attempt logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from portal.booking.services import BookingRequest, book_window
from portal.notifications.models import OutboxMessage
from portal.notifications.services import MAX_ATTEMPTS, send_due
from portal.webhooks import services as webhooks
from portal.webhooks.models import WebhookAttempt
from tests.factories import (
    create_agent,
    create_customer,
    create_location,
    create_service,
    ensure_policy,
)

# Monday 1 June 2026, 06:00 UTC; Tuesday's 08:00-10:00 London window is free.
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
WINDOW = datetime(2026, 6, 2, 7, 0, tzinfo=UTC)


class Receiver:
    """An HTTP server on 127.0.0.1 that keeps each request and answers with the next
    status in `answers` (the last one once the list runs out)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = [200]
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                status = (
                    receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                )
                text = f"answer {len(receiver.requests)}: {status}".encode()
                self.send_response(status)
                if status in (301, 302):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/portal"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


@pytest.fixture
def world(app, session, frozen_now):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True  # the receiver is on loopback
    frozen_now(NOW)
    ensure_policy(
        session, window_minutes=120, step_minutes=0, min_notice_minutes=60, horizon_days=28
    )
    user, account, _contact = create_customer(session)
    create_agent(session)
    return {
        "user": user,
        "location": create_location(session, account),
        "service": create_service(session, duration_minutes=60),
    }


def book(session, world):
    appointment = book_window(
        session,
        BookingRequest(
            customer=world["user"],
            service=world["service"],
            location=world["location"],
            window_start=WINDOW,
        ),
    )
    session.commit()
    return appointment


def subscribe(session, url, events=("appointment.booked",)):
    endpoint = webhooks.create_endpoint(session, url=url, events=events, allow_private=True)
    session.commit()
    return endpoint


def the_delivery(session) -> OutboxMessage:
    (message,) = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.channel == "webhook"))
    return message


def attempts(session) -> list[WebhookAttempt]:
    return list(session.scalars(sa.select(WebhookAttempt).order_by(WebhookAttempt.id)))


def test_a_booking_is_posted_to_the_receiver_with_a_valid_signature(session, world, receiver):
    endpoint = subscribe(session, receiver.url)
    appointment = book(session, world)

    report = send_due(session, NOW)

    (request,) = receiver.requests
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hooks/portal"
    assert headers["Content-Type"] == "application/json"
    expected = hmac.new(
        endpoint.secret.encode(),
        headers["X-Portal-Timestamp"].encode() + b"." + body,
        hashlib.sha256,
    ).hexdigest()
    assert hmac.compare_digest(headers["X-Portal-Signature"], f"sha256={expected}")
    assert int(headers["X-Portal-Timestamp"]) == int(NOW.timestamp())
    event = json.loads(body)
    assert event["type"] == headers["X-Portal-Event"] == "appointment.booked"
    assert event["id"] == headers["X-Portal-Event-Id"]
    assert event["data"]["appointment"]["id"] == appointment.id
    assert event["data"]["appointment"]["status"] == "requested"
    assert the_delivery(session).status == "sent"
    assert report.sent == 1


def test_after_a_rotation_retries_are_signed_with_the_new_secret(session, world, receiver):
    endpoint = subscribe(session, receiver.url)
    book(session, world)
    old_secret = endpoint.secret
    webhooks.rotate_secret(session, endpoint)
    session.commit()

    send_due(session, NOW)

    (request,) = receiver.requests
    stamp, body = request["headers"]["X-Portal-Timestamp"], request["body"]

    def signature(secret):
        digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        return f"sha256={digest.hexdigest()}"

    assert request["headers"]["X-Portal-Signature"] == signature(endpoint.secret)
    assert request["headers"]["X-Portal-Signature"] != signature(old_secret)


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(session, world, receiver):
    receiver.answers = [500, 503, 200]
    subscribe(session, receiver.url)
    book(session, world)

    send_due(session, NOW)
    message = the_delivery(session)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == NOW + timedelta(minutes=1)

    send_due(session, NOW + timedelta(seconds=30))  # not due yet: nothing is sent
    assert len(receiver.requests) == 1

    second = NOW + timedelta(minutes=1)
    send_due(session, second)
    session.refresh(message)
    assert (message.status, message.attempts) == ("pending", 2)
    assert message.next_attempt_at == second + timedelta(minutes=2)
    assert message.last_error == "HTTP 503"

    third = second + timedelta(minutes=2)
    send_due(session, third)
    session.refresh(message)
    assert (message.status, message.attempts, message.sent_at) == ("sent", 3, third)

    log = attempts(session)
    assert [a.status_code for a in log] == [500, 503, 200]
    assert [a.response_excerpt for a in log] == ["answer 1: 500", "answer 2: 503", "answer 3: 200"]
    assert [a.attempted_at for a in log] == [NOW, second, third]
    ids = {r["headers"]["X-Portal-Event-Id"] for r in receiver.requests}
    assert len(ids) == 1  # the same event, three times


def test_a_receiver_that_never_answers_well_is_given_up_on(session, world, receiver):
    receiver.answers = [500]
    subscribe(session, receiver.url)
    book(session, world)
    message = the_delivery(session)

    when = NOW
    for _ in range(MAX_ATTEMPTS):
        send_due(session, when)
        session.refresh(message)
        when = message.next_attempt_at

    assert (message.status, message.attempts) == ("failed", MAX_ATTEMPTS)
    assert len(receiver.requests) == MAX_ATTEMPTS


def test_a_redirect_is_not_followed(session, world, receiver):
    receiver.answers = [302]
    subscribe(session, receiver.url)
    book(session, world)

    send_due(session, NOW)

    assert len(receiver.requests) == 1
    assert the_delivery(session).status == "pending"
    assert attempts(session)[0].status_code == 302


def test_a_receiver_that_is_down_is_logged_as_a_connection_error(session, world):
    with Receiver() as gone:
        url = gone.url  # a free port, closed again on leaving
    subscribe(session, url)
    book(session, world)

    send_due(session, NOW)

    (attempt,) = attempts(session)
    assert attempt.status_code is None
    assert "ConnectionRefusedError" in attempt.error
    assert the_delivery(session).status == "pending"


def test_a_private_address_is_refused_again_at_delivery(app, session, world, receiver):
    subscribe(session, receiver.url)
    book(session, world)
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False

    send_due(session, NOW)

    assert receiver.requests == []
    (attempt,) = attempts(session)
    assert "loopback" in attempt.error
    assert the_delivery(session).status == "pending"


def test_a_paused_endpoint_gets_no_delivery_queued_before(session, world, receiver):
    endpoint = subscribe(session, receiver.url)
    book(session, world)
    webhooks.set_active(session, endpoint, False)
    session.commit()

    send_due(session, NOW)

    assert receiver.requests == []
    assert the_delivery(session).status == "failed"
