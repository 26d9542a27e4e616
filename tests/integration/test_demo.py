"""The demo data's integrations: an API token printed beside the demo log-ins (fixed, but
stored hashed) and a webhook endpoint that posts to the local receiver `make run` starts
(`portal webhook-sink`), with a ping queued so the webhook log shows a real delivery.
On SQLite and PostgreSQL, but for the receiver's own process test."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.api.models import ApiToken
from portal.cases.models import Case
from portal.demo import DEMO_API_TOKEN, DEMO_WEBHOOK_URL, load_demo
from portal.notifications.models import OutboxMessage
from portal.queues.models import Queue
from portal.sla.models import Milestone
from portal.webhooks.delivery import send_due_webhooks
from portal.webhooks.models import WEBHOOK_EVENTS, WebhookAttempt, WebhookEndpoint
from portal.webhooks.sink import make_sink
from tests.conftest import SECRET_KEY
from tests.factories import NOW

PORTAL = Path(sys.executable).parent / "portal"


@pytest.fixture
def loaded(session, frozen_now):
    """The demo without its month of bookings (those take long and are not the point)."""
    frozen_now(NOW)
    assert load_demo(session, bookings=False)
    session.commit()


@pytest.fixture
def sink():
    """`portal webhook-sink`'s server in a thread, on a free port; its lines kept."""
    lines: list[str] = []
    server = make_sink("127.0.0.1", 0, lines.append)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.lines = lines
    server.url = f"http://127.0.0.1:{server.server_address[1]}/portal-events"
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_loading_the_demo_makes_an_api_token_stored_only_hashed(session, loaded):
    (token,) = session.scalars(sa.select(ApiToken))

    assert token.user.email == "scheduler@demo.test"
    assert token.name == "Demo script"
    assert token.secret_hash == hashlib.sha256(DEMO_API_TOKEN.encode()).hexdigest()
    assert token.hint == DEMO_API_TOKEN[:9]
    assert token.expires_at is None and token.revoked_at is None


def test_the_demo_token_opens_the_api_as_the_scheduler(client, loaded):
    response = client.get("/api/v1/me", headers=bearer(DEMO_API_TOKEN))

    assert response.status_code == 200
    me = response.get_json()
    assert (me["email"], me["role"]) == ("scheduler@demo.test", "scheduler")


def test_loading_the_demo_makes_a_webhook_endpoint_with_a_ping_queued(session, loaded):
    (endpoint,) = session.scalars(sa.select(WebhookEndpoint))
    (ping,) = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.channel == "webhook"))

    assert endpoint.url == DEMO_WEBHOOK_URL
    assert endpoint.active
    assert set(endpoint.events) == set(WEBHOOK_EVENTS)
    assert endpoint.created_by.email == "admin@demo.test"
    assert (ping.subject, ping.subject_id, ping.status) == ("ping", endpoint.id, "pending")


def test_loading_the_demo_again_adds_no_second_token_or_endpoint(session, loaded):
    assert not load_demo(session)

    assert session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 1


def test_a_demo_loaded_before_it_had_a_token_and_an_endpoint_gets_them(session, loaded):
    session.execute(sa.delete(OutboxMessage))
    session.execute(sa.delete(WebhookEndpoint))
    session.execute(sa.delete(ApiToken))
    session.commit()

    assert not load_demo(session)

    assert session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 1


def test_portal_demo_prints_the_token_beside_the_log_ins(runner, loaded):
    result = runner.invoke(args=["demo"])

    assert result.exit_code == 0, result.output
    assert "Demo data is already loaded." in result.output
    assert "admin@demo.test" in result.output
    assert "Demo API token (acts as scheduler@demo.test):" in result.output
    assert DEMO_API_TOKEN in result.output


def test_a_revoked_demo_token_is_not_printed(session, runner, loaded):
    session.scalar(sa.select(ApiToken)).revoked_at = NOW
    session.commit()

    result = runner.invoke(args=["demo"])

    assert DEMO_API_TOKEN not in result.output


def test_with_private_addresses_allowed_the_demo_ping_reaches_the_local_receiver(
    app, session, sink, frozen_now
):
    frozen_now(NOW)
    load_demo(session, bookings=False, webhook_url=sink.url)
    session.commit()
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True  # as `make run` sets it

    report = send_due_webhooks(session, NOW)

    assert report.sent == 1
    (attempt,) = session.scalars(sa.select(WebhookAttempt))
    assert (attempt.status_code, attempt.response_excerpt) == (200, "ok\n")
    (line,) = sink.lines
    assert line.startswith("webhook-sink: POST /portal-events ping evt_")


def test_without_that_setting_the_demo_endpoint_is_refused_like_any_other(
    app, session, sink, frozen_now
):
    frozen_now(NOW)
    load_demo(session, bookings=False, webhook_url=sink.url)
    session.commit()
    assert not app.config["WEBHOOKS_ALLOW_PRIVATE"]

    send_due_webhooks(session, NOW)

    (attempt,) = session.scalars(sa.select(WebhookAttempt))
    assert "loopback" in attempt.error
    assert sink.lines == []


def test_the_webhook_sink_command_answers_a_post_with_200_and_logs_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(PORTAL_INSTANCE_PATH=str(tmp_path / "instance"), PORTAL_SECRET_KEY=SECRET_KEY)
    process = subprocess.Popen(
        [str(PORTAL), "webhook-sink", "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stderr.readline()
        port = re.search(r"http://127\.0\.0\.1:(\d+)/", first).group(1)
        body = json.dumps({"id": "evt_123", "type": "appointment.booked"}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/portal-events",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Portal-Event": "appointment.booked",
                "X-Portal-Delivery": "42",
                "X-Portal-Attempt": "1",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
        logged = process.stderr.readline()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()

    assert logged.strip() == (
        "webhook-sink: POST /portal-events appointment.booked evt_123 "
        f"(delivery 42, attempt 1, {len(body)} bytes)"
    )


def test_the_demo_back_office_has_cases_in_every_state_with_warnings_and_violations(
    session, loaded
):
    statuses = set(session.scalars(sa.select(Case.status)))
    assert {"New", "In progress", "Waiting on customer", "Closed"} <= statuses
    states = set(session.scalars(sa.select(Milestone.state)))
    assert {"pending", "warning", "violated", "completed_on_time"} <= states
    assert session.scalar(sa.select(sa.func.count()).where(Milestone.paused.is_(True))) >= 1
    internal = session.scalars(sa.select(Milestone).where(Milestone.work_order_id.is_not(None)))
    assert {m.name for m in internal} == {"Taken", "Done"}


def test_the_demo_back_office_people_log_in_to_their_queues(session, loaded):
    queues = {q.name: q for q in session.scalars(sa.select(Queue))}
    for name, email in [("Finance", "finance@demo.test"), ("Orders", "orders@demo.test")]:
        queue = queues[name]
        members = {m.user.email for m in queue.members}
        assert email in members
        assert queue.lead is not None and queue.lead.role == "backoffice"
        assert queue.calendar is not None and queue.calendar.name == "Back office hours"
    lunch = {(h.start_minute, h.end_minute) for h in queues["Finance"].calendar.hours}
    assert lunch == {(9 * 60, 12 * 60 + 30), (13 * 60 + 30, 17 * 60 + 30)}


def test_the_demo_scheduler_is_a_member_of_the_scheduling_queue(session, loaded):
    scheduling = session.scalars(sa.select(Queue).where(Queue.slug == "scheduling")).one()
    assert {m.user.email for m in scheduling.members} == {"scheduler@demo.test"}
