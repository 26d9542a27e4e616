"""Webhooks end to end: a booking is POSTed to a real HTTP server on loopback, signed;
a receiver that fails is retried with backoff until it answers, every attempt logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from portal.booking.services import BookingRequest, book_window
from portal.notifications.models import OutboxMessage
from portal.notifications.services import MAX_ATTEMPTS, queue_email, send_due
from portal.webhooks import delivery, urls
from portal.webhooks import services as webhooks
from portal.webhooks.delivery import send_due_webhooks
from portal.webhooks.jobs import send_webhooks
from portal.webhooks.models import WebhookAttempt
from tests.conftest import expand_all
from tests.factories import (
    NOW,
)

# At NOW (Monday 1 June 2026, 07:00 London) Tuesday's 08:00-10:00 London window is free.
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


class Trickler:
    """A receiver on 127.0.0.1 that answers "200 OK" one byte every `pause` seconds (each
    well within the socket timeout), finishing its headers only after `length` of them."""

    def __init__(self, pause: float = 0.2, length: int = 40):
        self.pause, self.length = pause, length
        self.connections = 0
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hooks/slow"
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            with connection:
                self.connections += 1
                try:
                    connection.recv(65536)
                    connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                    for _ in range(self.length):
                        if self.stop.wait(self.pause):
                            return
                        connection.sendall(b"x")
                    connection.sendall(b"\r\nContent-Length: 2\r\n\r\nok")
                except OSError:  # the sender hung up
                    pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def trickler():
    with Trickler() as server:
        yield server


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


@pytest.fixture
def world(app, world):
    """The shared default world, with webhooks allowed to the receiver on loopback."""
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    return world


def book(session, world):
    """Book the window; the scheduler process then expands its event (the deliveries)."""
    appointment = book_window(
        session,
        BookingRequest(
            customer=world["customer"],
            service=world["service"],
            location=world["location"],
            window_start=WINDOW,
        ),
    )
    session.commit()
    expand_all(session)
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

    report = send_due_webhooks(session, NOW)

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

    send_due_webhooks(session, NOW)

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

    send_due_webhooks(session, NOW)
    message = the_delivery(session)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == NOW + timedelta(minutes=1)

    send_due_webhooks(session, NOW + timedelta(seconds=30))  # not due yet: nothing is sent
    assert len(receiver.requests) == 1

    second = NOW + timedelta(minutes=1)
    send_due_webhooks(session, second)
    session.refresh(message)
    assert (message.status, message.attempts) == ("pending", 2)
    assert message.next_attempt_at == second + timedelta(minutes=2)
    assert message.last_error == "HTTP 503"

    third = second + timedelta(minutes=2)
    send_due_webhooks(session, third)
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
        send_due_webhooks(session, when)
        session.refresh(message)
        when = message.next_attempt_at

    assert (message.status, message.attempts) == ("failed", MAX_ATTEMPTS)
    assert len(receiver.requests) == MAX_ATTEMPTS


def test_a_redirect_is_not_followed(session, world, receiver):
    receiver.answers = [302]
    subscribe(session, receiver.url)
    book(session, world)

    send_due_webhooks(session, NOW)

    assert len(receiver.requests) == 1
    assert the_delivery(session).status == "pending"
    assert attempts(session)[0].status_code == 302


def test_a_receiver_that_is_down_is_logged_as_a_connection_error(session, world):
    with Receiver() as gone:
        url = gone.url  # a free port, closed again on leaving
    subscribe(session, url)
    book(session, world)

    send_due_webhooks(session, NOW)

    (attempt,) = attempts(session)
    assert attempt.status_code is None
    assert "ConnectionRefusedError" in attempt.error
    assert the_delivery(session).status == "pending"


def test_a_private_address_is_refused_again_at_delivery(app, session, world, receiver):
    subscribe(session, receiver.url)
    book(session, world)
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False

    send_due_webhooks(session, NOW)

    assert receiver.requests == []
    (attempt,) = attempts(session)
    assert "loopback" in attempt.error
    assert the_delivery(session).status == "pending"


def test_a_paused_endpoint_gets_no_delivery_queued_before(session, world, receiver):
    endpoint = subscribe(session, receiver.url)
    book(session, world)
    webhooks.set_active(session, endpoint, False)
    session.commit()

    send_due_webhooks(session, NOW)

    assert receiver.requests == []
    assert the_delivery(session).status == "failed"


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_deadline(
    session, world, trickler, monkeypatch
):
    monkeypatch.setattr(delivery, "DEADLINE_SECONDS", 1)
    subscribe(session, trickler.url)
    book(session, world)

    started = time.monotonic()
    report = send_due_webhooks(session, NOW)

    assert time.monotonic() - started < 3  # the trickle alone would take 8 s
    (attempt,) = attempts(session)
    assert attempt.status_code is None
    assert attempt.error == "Timeout: no complete answer within 1 seconds."
    message = the_delivery(session)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == NOW + timedelta(minutes=1)
    assert report.retrying == 1


def test_a_dns_lookup_that_hangs_is_a_timed_out_attempt_retried_later(
    app, session, world, receiver, monkeypatch
):
    subscribe(session, receiver.url)
    book(session, world)
    app.config["WEBHOOKS_DNS_TIMEOUT_SECONDS"] = 0.3
    answer = threading.Event()
    real_resolve = urls.resolve

    def silent_dns(host, port):
        answer.wait(10)  # getaddrinfo waiting on a DNS server that does not answer
        return real_resolve(host, port)

    monkeypatch.setattr(urls, "resolve", silent_dns)
    try:
        started = time.monotonic()
        report = send_due_webhooks(session, NOW)
        took = time.monotonic() - started
    finally:
        answer.set()

    assert took < 3
    assert receiver.requests == []
    (attempt,) = attempts(session)
    assert attempt.status_code is None
    assert attempt.error == "Timeout: The host 127.0.0.1 did not resolve within 0.3 seconds."
    message = the_delivery(session)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error == attempt.error
    assert message.next_attempt_at == NOW + timedelta(minutes=1)
    assert report.retrying == 1

    monkeypatch.setattr(urls, "resolve", real_resolve)  # the DNS server is back
    send_due_webhooks(session, NOW + timedelta(minutes=1))

    session.refresh(message)
    assert (message.status, message.attempts) == ("sent", 2)
    assert len(receiver.requests) == 1


def test_the_signature_timestamp_is_the_time_of_sending(session, world, receiver, frozen_now):
    subscribe(session, receiver.url)
    book(session, world)
    sending = frozen_now(NOW + timedelta(minutes=3))

    send_due_webhooks(session, NOW)

    (request,) = receiver.requests
    assert int(request["headers"]["X-Portal-Timestamp"]) == int(sending.timestamp())


def test_a_url_with_a_non_ascii_path_is_delivered_percent_encoded(session, world, receiver):
    subscribe(session, f"{receiver.url}/café?name=Zoë")
    book(session, world)

    send_due_webhooks(session, NOW)

    (request,) = receiver.requests
    assert request["path"] == "/hooks/portal/caf%C3%A9?name=Zo%C3%AB"
    assert the_delivery(session).status == "sent"


def test_an_unexpected_error_while_delivering_is_logged_as_a_failed_attempt(
    session, world, receiver, monkeypatch
):
    def broken(*args):
        raise RuntimeError("signing broke")

    monkeypatch.setattr(delivery, "sign", broken)
    subscribe(session, receiver.url)
    book(session, world)

    send_due_webhooks(session, NOW)

    (attempt,) = attempts(session)
    assert attempt.error == "RuntimeError: signing broke"
    message = the_delivery(session)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error == "RuntimeError: signing broke"
    assert message.next_attempt_at == NOW + timedelta(minutes=1)


def test_one_message_that_breaks_the_sender_does_not_stop_the_rest_of_the_batch(
    session, world, receiver, monkeypatch
):
    first = subscribe(session, receiver.url)
    subscribe(session, receiver.url.replace("/portal", "/other"))
    book(session, world)
    real = delivery.deliver

    def deliver(url, *args, **kwargs):
        if url == first.url:
            raise RuntimeError("boom")
        return real(url, *args, **kwargs)

    monkeypatch.setattr(delivery, "deliver", deliver)

    report = send_due_webhooks(session, NOW)

    assert [r["path"] for r in receiver.requests] == ["/hooks/other"]
    messages = session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.channel == "webhook")
        .order_by(OutboxMessage.subject_id)
    ).all()
    assert [(m.status, m.attempts) for m in messages] == [("pending", 1), ("sent", 1)]
    assert messages[0].last_error == "RuntimeError: boom"
    assert (report.sent, report.retrying) == (1, 1)


def test_e_mails_go_out_without_waiting_for_a_slow_webhook(session, world, trickler, smtp_server):
    subscribe(session, trickler.url)
    book(session, world)
    queue_email(session, to="ops@example.com", subject="Reset your password", text="Hi")
    session.commit()

    started = time.monotonic()
    send_due(session, NOW, smtp=smtp_server.settings)

    assert time.monotonic() - started < 3
    assert "Reset your password" in [m["Subject"] for m in smtp_server.messages]
    assert trickler.connections == 0  # the webhook is the webhook job's
    assert (the_delivery(session).attempts, the_delivery(session).status) == (0, "pending")


def test_the_webhook_job_delivers_what_is_due(app, session, world, receiver, monkeypatch):
    subscribe(session, receiver.url)
    book(session, world)

    send_webhooks(app)

    assert len(receiver.requests) == 1
    session.expire_all()
    assert the_delivery(session).status == "sent"
