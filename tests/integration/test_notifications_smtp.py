"""Sending the outbox through a real SMTP server (aiosmtpd on a loopback port): what
arrives, what waits while the server is down, what is given up, and nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from portal.booking.announce import announce
from portal.mail import SmtpSettings
from portal.notifications.models import OutboxMessage
from portal.notifications.services import MAX_ATTEMPTS, queue_email, send_due
from tests.factories import create_agent, create_appointment, create_customer

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def appointment(session, frozen_now):
    frozen_now(T0)
    _user, _account, contact = create_customer(session, email="ada@example.com")
    agent = create_agent(session)
    return create_appointment(session, start=START, contact=contact, agents=[agent])


def calendar_of(message: EmailMessage) -> Calendar:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_content())


def customer_mail(smtp_server) -> list[EmailMessage]:
    return [m for m in smtp_server.messages if m["To"] == "ada@example.com"]


def queue(session, n: int = 1) -> list[OutboxMessage]:
    return [
        queue_email(session, to=f"person{i}@example.com", subject=f"Message {i}", text="Hello")
        for i in range(n)
    ]


def test_a_booking_invitation_reaches_the_server_with_its_ics(
    session, appointment, smtp_server, expand_events
):
    announce(session, "booked", appointment)
    expand_events()
    session.commit()

    report = send_due(session, T0, smtp=smtp_server.settings)

    (mail,) = customer_mail(smtp_server)
    (event,) = calendar_of(mail).walk("VEVENT")
    assert calendar_of(mail)["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"appointment-{appointment.id}@127.0.0.1"
    assert int(event["SEQUENCE"]) == 0
    assert "/manage/" in mail.get_body(("plain",)).get_content()
    assert report.sent == len(smtp_server.messages) == 2  # the customer and the agent


def test_a_reschedule_sends_the_same_uid_with_a_higher_sequence(
    session, appointment, smtp_server, expand_events
):
    announce(session, "booked", appointment)
    old_window = (appointment.window_start, appointment.window_end)
    appointment.window_start += timedelta(days=1)
    appointment.window_end += timedelta(days=1)
    appointment.sequence += 1
    announce(session, "rescheduled", appointment, old_window=old_window)
    expand_events()
    session.commit()

    send_due(session, T0, smtp=smtp_server.settings)

    first, moved = (calendar_of(m).walk("VEVENT")[0] for m in customer_mail(smtp_server))
    assert str(moved["UID"]) == str(first["UID"])
    assert int(moved["SEQUENCE"]) > int(first["SEQUENCE"])
    assert moved.decoded("DTSTART") == START + timedelta(days=1)


def test_a_cancellation_sends_method_cancel_and_status_cancelled(
    session, appointment, smtp_server, expand_events
):
    announce(session, "booked", appointment)
    appointment.sequence += 1
    announce(session, "cancelled", appointment, note="Boiler replaced")
    expand_events()
    session.commit()

    send_due(session, T0, smtp=smtp_server.settings)

    invitation, cancellation = (calendar_of(m) for m in customer_mail(smtp_server))
    event = cancellation.walk("VEVENT")[0]
    assert cancellation["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert str(event["UID"]) == str(invitation.walk("VEVENT")[0]["UID"])
    assert int(event["SEQUENCE"]) == 1


def test_messages_wait_while_the_server_is_down_and_go_out_later(session, smtp_server, frozen_now):
    frozen_now(T0)
    queue(session, 3)
    session.commit()
    smtp_server.stop()

    report = send_due(session, T0, smtp=smtp_server.settings)

    messages = session.scalars(sa.select(OutboxMessage)).all()
    assert report.retrying == 3
    assert {m.status for m in messages} == {"pending"}
    assert {m.attempts for m in messages} == {1}
    assert all(m.next_attempt_at == T0 + timedelta(minutes=1) for m in messages)
    assert all(m.last_error for m in messages)

    smtp_server.start()
    assert send_due(session, T0 + timedelta(seconds=30), smtp=smtp_server.settings).sent == 0
    later = frozen_now(T0 + timedelta(minutes=1))
    report = send_due(session, later, smtp=smtp_server.settings)

    assert report.sent == 3
    assert len(smtp_server.messages) == 3
    assert {(m.status, m.sent_at) for m in messages} == {("sent", later)}


def test_a_message_is_never_sent_twice(session, smtp_server, frozen_now):
    frozen_now(T0)
    queue(session, 2)
    session.commit()

    send_due(session, T0, smtp=smtp_server.settings)
    send_due(session, T0 + timedelta(hours=2), smtp=smtp_server.settings)

    assert sorted(m["To"] for m in smtp_server.messages) == [
        "person0@example.com",
        "person1@example.com",
    ]


def test_after_ten_failures_a_message_is_marked_failed(session, smtp_server, frozen_now):
    frozen_now(T0)
    (message,) = queue(session)
    session.commit()
    smtp_server.stop()

    now = T0
    for _ in range(MAX_ATTEMPTS):
        send_due(session, now, smtp=smtp_server.settings)
        now = message.next_attempt_at

    assert message.status == "failed"
    assert message.attempts == MAX_ATTEMPTS
    smtp_server.start()
    send_due(session, now + timedelta(days=1), smtp=smtp_server.settings)
    assert smtp_server.messages == []


def test_a_refused_recipient_waits_without_holding_back_the_others(
    session, smtp_server, frozen_now
):
    frozen_now(T0)
    refused, accepted = queue(session, 2)
    session.commit()
    smtp_server.handler.refuse.add(refused.recipient)

    send_due(session, T0, smtp=smtp_server.settings)

    assert (refused.status, refused.attempts) == ("pending", 1)
    assert "550" in refused.last_error
    assert accepted.status == "sent"


def test_without_an_smtp_host_messages_stay_pending(session, frozen_now):
    frozen_now(T0)
    (message,) = queue(session)
    session.commit()

    report = send_due(session, T0, smtp=SmtpSettings(host=""))

    assert report.sent == report.retrying == 0
    assert (message.status, message.attempts) == ("pending", 0)


def test_a_message_another_sender_has_locked_is_skipped(pg_url, tmp_path, smtp_server, frozen_now):
    """PostgreSQL: FOR UPDATE SKIP LOCKED, so two senders never take the same message."""
    from portal.app import create_app
    from portal.db import get_session
    from tests.conftest import app_config

    frozen_now(T0)
    pg_app = create_app(app_config(pg_url, tmp_path / "instance"))
    try:
        with pg_app.app_context():
            session = get_session()
            locked, free = queue(session, 2)
            session.commit()
            other = pg_app.extensions["portal.sessionmaker"]()
            other.execute(
                sa.select(OutboxMessage.id).where(OutboxMessage.id == locked.id).with_for_update()
            )

            report = send_due(session, T0, smtp=smtp_server.settings)

            other.rollback()
            other.close()
            assert report.sent == 1
            assert [m["To"] for m in smtp_server.messages] == [free.recipient]
            session.refresh(locked)
            assert (locked.status, locked.attempts) == ("pending", 0)
    finally:
        pg_app.extensions["portal.engine"].dispose()
