"""A booking records one event and does no e-mail work; the scheduler process expands
each event exactly once, in order per appointment, even with two expanders or a crash in
between; e-mails and webhooks queued before the upgrade are still sent."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from portal.app import create_app
from portal.booking import lifecycle as lc
from portal.booking import steps
from portal.booking.announce import announce
from portal.booking.models import Appointment
from portal.booking.services import BookingRequest, book_window
from portal.db import get_engine, get_session
from portal.migrate import upgrade
from portal.notifications import rendering
from portal.notifications.events import expand_due
from portal.notifications.models import Notification, OutboxMessage
from portal.notifications.services import send_due
from portal.webhooks import services as webhooks
from portal.webhooks.delivery import send_due_webhooks
from portal.webhooks.models import WEBHOOK_EVENTS, WebhookEndpoint
from tests.conftest import app_config, expand_all
from tests.factories import (
    NOW,
    build_world,
    create_agent,
    create_appointment,
    create_customer,
    create_location,
    create_service,
    ensure_policy,
)
from tests.scheduler_process import drop_job_table, kill, start_scheduler, stop, wait_for

WINDOW = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)  # Wednesday 08:00-10:00 London
LATER = datetime(2026, 6, 4, 11, 0, tzinfo=UTC)  # Thursday 12:00-14:00 London

# What one booking may write: the "Done when".
BOOKING_TABLES = {
    "work_orders",
    "appointments",
    "appointment_holds",
    "work_order_tasks",
    "timeline_entries",
    "outbox_messages",
}
_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)


@pytest.fixture
def shop(session, frozen_now):
    frozen_now(NOW)
    world = build_world(
        session,
        customer={"email": "ada@example.com"},
        service={"name": "Leak repair"},
        agents=[{"email": f"agent{n}@example.com"} for n in range(3)],
        scheduler={"email": "sam@example.com"},
    )
    webhooks.create_endpoint(
        session, url="http://127.0.0.1:9/in", events=list(WEBHOOK_EVENTS), allow_private=True
    )
    return world


def book(session, shop, start=WINDOW, key=None) -> Appointment:
    return book_window(
        session,
        BookingRequest(
            customer=shop["customer"],
            service=shop["service"],
            location=shop["location"],
            window_start=start,
            idempotency_key=key,
        ),
    )


class Writes:
    """The tables each INSERT, UPDATE or DELETE sent to the database names."""

    def __init__(self, engine: sa.Engine):
        self.tables: list[str] = []
        self.engine = engine

    def __call__(self, _conn, _cursor, statement, *_args):
        match = _WRITE.match(statement)
        if match:
            self.tables.append(match.group(1).lower())

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self)


def rows(session, channel: str) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.channel == channel)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def mails_to(session, address: str) -> list[str]:
    query = sa.select(OutboxMessage.subject).where(OutboxMessage.recipient == address)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def notices_of(session, user) -> list[str]:
    query = sa.select(Notification.message).where(Notification.user_id == user.id)
    return list(session.scalars(query.order_by(Notification.id)))


# --- the booking transaction ------------------------------------------------------------------


def test_a_booking_writes_only_its_own_rows_and_one_event(session, shop):
    session.commit()

    with Writes(get_engine()) as writes:
        appointment = book(session, shop, key="k-1")
        session.commit()

    assert set(writes.tables) == BOOKING_TABLES
    assert writes.tables.count("outbox_messages") == 1
    (event,) = rows(session, "event")
    assert (event.subject, event.subject_type, event.subject_id) == (
        "booked",
        "appointment",
        appointment.id,
    )
    assert event.status == "pending"
    assert rows(session, "email") == rows(session, "webhook") == []
    assert session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_the_booking_form_writes_only_the_bookings_rows(client, session, shop, auth):
    session.commit()
    auth.login("ada@example.com")
    url = (
        f"/book/confirm?service={shop['service'].id}&location={shop['location'].id}"
        f"&start={WINDOW.isoformat().replace('+', '%2B')}"
    )
    page = client.get(url).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page).group(1)
    token = client.csrf_token(url)

    with Writes(get_engine()) as writes:
        response = client.post(url, data={"csrf_token": token, "idempotency_key": key})

    assert response.status_code == 302
    assert set(writes.tables) == BOOKING_TABLES
    assert writes.tables.count("outbox_messages") == 1


def test_the_event_freezes_what_the_expansion_needs(session, shop):
    appointment = book(session, shop)
    session.flush()

    (event,) = rows(session, "event")
    data = json.loads(event.body_text)
    assert data["window"] == [WINDOW.isoformat(), (WINDOW + timedelta(hours=2)).isoformat()]
    assert data["sequence"] == 0
    assert data["contact"] == appointment.contact_id
    assert data["actor"] == shop["customer"].id
    assert data["working"] == [h.agent_id for h in appointment.holds]


# --- expansion --------------------------------------------------------------------------------


def test_expansion_tells_everyone_and_queues_the_webhook_once(session, shop):
    appointment = book(session, shop)
    session.commit()

    assert expand_all(session) == 1
    assert expand_all(session) == 0

    (agent_id,) = [h.agent_id for h in appointment.holds]
    agent = next(a for a in shop["agents"] if a.id == agent_id)
    assert mails_to(session, "ada@example.com") == [
        "Booked: your leak repair on Wed 3 Jun, 08:00–10:00 BST"
    ]
    assert len(mails_to(session, agent.user.email)) == 1
    assert len(notices_of(session, shop["customer"])) == 1
    assert [m.subject for m in rows(session, "webhook")] == ["appointment.booked"]
    (event,) = rows(session, "event")
    assert (event.status, event.sent_at) == ("sent", NOW)


def test_a_notice_expanded_later_is_dated_when_its_event_happened(session, shop, frozen_now):
    appointment = book(session, shop)
    session.commit()
    frozen_now(NOW + timedelta(hours=2))  # the scheduler process was down for two hours

    expand_all(session)

    customer_notices = session.scalars(
        sa.select(Notification).where(Notification.user_id == shop["customer"].id)
    ).all()
    assert [n.created_at for n in customer_notices] == [NOW]
    (agent_id,) = [h.agent_id for h in appointment.holds]
    agent = next(a for a in shop["agents"] if a.id == agent_id)
    staff_notices = session.scalars(
        sa.select(Notification).where(Notification.user_id == agent.user_id)
    ).all()
    assert [n.created_at for n in staff_notices] == [NOW]


def test_a_later_change_does_not_rewrite_what_an_earlier_event_tells(session, shop):
    appointment = book(session, shop)
    lc.reschedule_appointment(session, appointment, LATER, steps.Actor(shop["customer"]))
    session.commit()

    expand_all(session)

    booked, moved = (m for m in rows(session, "email") if m.recipient == "ada@example.com")
    assert "Wed 3 Jun, 08:00–10:00" in booked.subject and "SEQUENCE:0" in booked.ics
    assert "Thu 4 Jun, 12:00–14:00" in moved.subject and "SEQUENCE:1" in moved.ics
    assert "Was: Wed 3 Jun, 08:00–10:00 BST" in moved.body_text


def test_an_appointments_events_are_expanded_in_the_order_they_happened(session, shop):
    first = book(session, shop)
    lc.reschedule_appointment(session, first, LATER, steps.Actor(shop["customer"]))
    second = book(session, shop, start=WINDOW + timedelta(hours=2))
    lc.cancel_appointment(session, first, steps.Actor(shop["customer"]), "Sold the house")
    session.commit()

    # One round takes the oldest pending event of each appointment, no more.
    report = expand_due(session, NOW, limit=100)
    assert report.expanded == 2
    expanded = {(e.subject_id, e.subject) for e in rows(session, "event") if e.status == "sent"}
    assert expanded == {(first.id, "booked"), (second.id, "booked")}

    expand_all(session)

    assert [m.split(":")[0] for m in mails_to(session, "ada@example.com")] == [
        "Booked",
        "Booked",
        "Moved",
        "Cancelled",
    ]
    hooks = [json.loads(m.body_text) for m in rows(session, "webhook")]
    assert [(h["type"], h["data"]["appointment"]["id"]) for h in hooks] == [
        ("appointment.booked", first.id),
        ("appointment.booked", second.id),
        ("appointment.rescheduled", first.id),
        ("appointment.cancelled", first.id),
    ]


def test_an_event_that_fails_holds_back_its_appointments_later_events_only(
    session, shop, monkeypatch, frozen_now
):
    first = book(session, shop)
    lc.cancel_appointment(session, first, steps.Actor(shop["customer"]), "Changed my mind")
    second = book(session, shop, start=WINDOW + timedelta(hours=2))
    session.commit()
    real = rendering.render_email

    def broken_for_the_first(template, **context):
        if context["appointment"].id == first.id:
            raise RuntimeError("template server on fire")
        return real(template, **context)

    monkeypatch.setattr("portal.booking.announce.render_email", broken_for_the_first)
    for _ in range(3):
        expand_due(session, NOW, limit=100)

    states = {(e.subject_id, e.subject): e.status for e in rows(session, "event")}
    assert states == {
        (first.id, "booked"): "pending",
        (first.id, "cancelled"): "pending",
        (second.id, "booked"): "sent",
    }
    (failed,) = [e for e in rows(session, "event") if e.attempts]
    assert "template server on fire" in failed.last_error
    assert mails_to(session, "ada@example.com") == [
        "Booked: your leak repair on Wed 3 Jun, 10:00–12:00 BST"
    ]

    monkeypatch.setattr("portal.booking.announce.render_email", real)
    frozen_now(NOW + timedelta(minutes=1))  # the first retry is due
    expand_all(session)

    assert [m.split(":")[0] for m in mails_to(session, "ada@example.com")] == [
        "Booked",
        "Booked",
        "Cancelled",
    ]


def _crash_while_expanding(url, instance, done):
    """A scheduler that dies after writing an event's notices, before its commit."""
    app = create_app(app_config(url, instance))
    with app.app_context():
        session = get_session()
        report = expand_due(session, NOW, limit=100)
        done.send(report.expanded)
        os._exit(137)  # no commit, no clean-up: as a killed process


def test_a_crash_between_booking_and_expansion_loses_nothing_and_repeats_nothing(
    app, database_url, session, shop, tmp_path
):
    book(session, shop)
    session.commit()
    app.extensions["portal.engine"].dispose()  # no pooled connection crosses a fork

    ctx = mp.get_context("fork")
    done, child_end = ctx.Pipe(duplex=False)
    crashed = ctx.Process(
        target=_crash_while_expanding, args=(database_url, tmp_path / "crash", child_end)
    )
    crashed.start()
    assert done.poll(60)
    assert done.recv() == 1  # it had expanded the booking when it died
    crashed.join(timeout=60)
    assert crashed.exitcode == 137

    session.expire_all()
    (event,) = rows(session, "event")
    assert event.status == "pending"
    assert rows(session, "email") == [] and notices_of(session, shop["customer"]) == []

    assert expand_all(session) == 1
    assert len(mails_to(session, "ada@example.com")) == 1
    assert len(notices_of(session, shop["customer"])) == 1


@pytest.fixture
def pg_app(pg_url, tmp_path, frozen_now):
    """The app on PostgreSQL only, with the clock at NOW."""
    frozen_now(NOW)
    application = create_app(app_config(pg_url, tmp_path / "instance"))
    yield application
    application.extensions["portal.engine"].dispose()


def test_two_expanders_at_once_expand_each_event_exactly_once(pg_app):
    with pg_app.app_context():
        session = get_session()
        ensure_policy(session, window_minutes=120, min_notice_minutes=60, horizon_days=28)
        customer, account, _ = create_customer(session, email="ada@example.com")
        location = create_location(session, account)
        service = create_service(session, name="Leak repair", duration_minutes=60)
        for n in range(4):
            create_agent(session, email=f"agent{n}@example.com")
        webhooks.create_endpoint(
            session, url="http://127.0.0.1:9/in", events=list(WEBHOOK_EVENTS), allow_private=True
        )
        shop = {"customer": customer, "location": location, "service": service}
        booked = [
            book(session, shop, start=WINDOW + timedelta(days=day, hours=hour))
            for day in (0, 1)
            for hour in (0, 2, 4)
        ]
        movers = booked[::2]  # these move to Friday, then are cancelled
        for n, appointment in enumerate(movers):
            friday = WINDOW + timedelta(days=2, hours=2 * n)
            lc.reschedule_appointment(session, appointment, friday, steps.Actor(customer))
            lc.cancel_appointment(session, appointment, steps.Actor(customer), "No longer needed")
        session.commit()
        ids = {a.id: a in movers for a in booked}
    events = len(booked) + 2 * len(movers)

    start = threading.Barrier(2)
    expanded: list[int] = []

    def expander():
        with pg_app.app_context():
            other = pg_app.extensions["portal.sessionmaker"]()
            try:
                start.wait(timeout=30)
                total = 0
                while True:
                    report = expand_due(other, NOW, limit=2)  # small rounds: more overlap
                    other.commit()
                    total += report.expanded
                    if not report.claimed:
                        break
                expanded.append(total)
            finally:
                other.close()

    threads = [threading.Thread(target=expander) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sum(expanded) == events
    with pg_app.app_context():
        session = get_session()
        assert [e.status for e in rows(session, "event")] == ["sent"] * events
        assert len(mails_to(session, "ada@example.com")) == events  # one each, none twice
        hooks = [json.loads(m.body_text) for m in rows(session, "webhook")]
        for appointment_id, moved in ids.items():
            kinds = [h["type"] for h in hooks if h["data"]["appointment"]["id"] == appointment_id]
            expected = ["appointment.booked"]
            if moved:
                expected += ["appointment.rescheduled", "appointment.cancelled"]
            assert kinds == expected


def test_an_event_another_expander_holds_is_skipped(pg_app):
    with pg_app.app_context():
        session = get_session()
        ensure_policy(session, window_minutes=120, min_notice_minutes=60, horizon_days=28)
        customer, account, _ = create_customer(session, email="ada@example.com")
        create_agent(session)
        shop = {
            "customer": customer,
            "location": create_location(session, account),
            "service": create_service(session, duration_minutes=60),
        }
        book(session, shop)
        session.commit()
        # This expander has claimed the event and not yet committed ...
        assert expand_due(session, NOW).expanded == 1
        other = pg_app.extensions["portal.sessionmaker"]()
        try:
            # ... so another finds nothing to do, without waiting for it.
            assert expand_due(other, NOW).claimed == 0
            other.rollback()
            session.commit()
            assert expand_due(other, NOW).claimed == 0
        finally:
            other.close()
        assert len(mails_to(session, "ada@example.com")) == 1


# --- rows queued before the upgrade -----------------------------------------------------------


class Receiver:
    """An HTTP server on 127.0.0.1 that answers 200 and keeps the bodies it got."""

    def __init__(self):
        self.bodies: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/in"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def test_mails_and_webhooks_queued_before_the_upgrade_are_still_sent(
    fresh_database_url, tmp_path, smtp_server, frozen_now
):
    frozen_now(NOW)
    upgrade(fresh_database_url, "0008_api_rate_buckets")
    receiver = Receiver()
    engine = sa.create_engine(fresh_database_url)
    try:
        with engine.begin() as connection:  # rows as the code before events wrote them
            endpoint_id = connection.execute(
                sa.insert(WebhookEndpoint.__table__).returning(WebhookEndpoint.id),
                {
                    "url": receiver.url,
                    "description": "",
                    "secret": "whsec_old",
                    "events": ["appointment.booked"],
                    "active": True,
                    "created_at": NOW,
                },
            ).scalar_one()
            queued = {
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": NOW,
                "last_error": "",
                "created_at": NOW,
                "body_html": "",
                "ics": None,
            }
            connection.execute(
                sa.insert(OutboxMessage.__table__),
                [
                    {
                        **queued,
                        "channel": "email",
                        "recipient": "ada@example.com",
                        "subject": "Booked: your leak repair",
                        "body_text": "Hello Ada",
                        "body_html": "<p>Hello Ada</p>",
                        "ics": "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
                        "subject_type": "appointment",
                        "subject_id": 1,
                    },
                    {
                        **queued,
                        "channel": "webhook",
                        "recipient": receiver.url,
                        "subject": "appointment.booked",
                        "body_text": '{"id":"evt_old","type":"appointment.booked","data":{}}',
                        "subject_type": "webhook_endpoint",
                        "subject_id": endpoint_id,
                    },
                ],
            )
        engine.dispose()
        upgrade(fresh_database_url)

        app = create_app(app_config(fresh_database_url, tmp_path / "instance"))
        app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
        try:
            with app.app_context():
                session = get_session()
                assert expand_due(session, NOW).claimed == 0  # nothing there to expand
                assert send_due(session, NOW, smtp=smtp_server.settings).sent == 1
                assert send_due_webhooks(session, NOW).sent == 1
                statuses = session.scalars(sa.select(OutboxMessage.status)).all()
        finally:
            app.extensions["portal.engine"].dispose()
    finally:
        engine.dispose()
        receiver.close()

    (mail,) = smtp_server.messages
    assert mail["Subject"] == "Booked: your leak repair"
    assert [p.get_content_type() for p in mail.walk()][-1] == "text/calendar"
    assert receiver.bodies == [b'{"id":"evt_old","type":"appointment.booked","data":{}}']
    assert statuses == ["sent", "sent"]


# --- the scheduler process is woken when an event commits -------------------------------------


@pytest.mark.slow
def test_the_scheduler_process_tells_people_within_seconds_of_the_commit(
    database_url, tmp_path, smtp_server
):
    """The expand-events job runs every 30 s; the notice must come much sooner: woken by
    PostgreSQL's NOTIFY when the event commits, or on SQLite by its poll each second."""
    instance, log = tmp_path / "instance", tmp_path / "scheduler.log"
    app = create_app(app_config(database_url, instance))
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)

    def announce_one(number: int) -> int:
        with app.app_context():
            session = get_session()
            user, _account, contact = create_customer(session, email=f"c{number}@example.com")
            appointment = create_appointment(
                session, start=start + timedelta(hours=number), contact=contact, status="accepted"
            )
            announce(session, "confirmation_requested", appointment)
            session.commit()
            return user.id

    def noticed(user_id: int) -> bool:
        with app.app_context():
            session = get_session()
            found = session.scalar(
                sa.select(Notification.id).where(Notification.user_id == user_id)
            )
            session.rollback()
            return found is not None

    process = None
    try:
        first = announce_one(1)
        process = start_scheduler(database_url, instance, smtp_server, log)
        wait_for(lambda: noticed(first), timeout=45)  # its first run, at start

        second = announce_one(2)
        committed = time.monotonic()
        wait_for(lambda: noticed(second), timeout=10)
        assert time.monotonic() - committed < 10
        wait_for(lambda: any(m["To"] == "c2@example.com" for m in smtp_server.messages), 10)
        assert stop(process) == 0
    finally:
        if process is not None:
            kill(process)
        app.extensions["portal.engine"].dispose()
        drop_job_table(database_url)
    assert "Traceback" not in log.read_text()
