"""The lifecycle's e-mails, end to end: book, move and cancel through the state machine,
send through a real SMTP server on loopback, and read the calendar invitations back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from portal.booking import lifecycle as lc
from portal.booking import steps
from portal.booking.services import BookingRequest, book_window
from portal.notifications.services import send_due
from tests.conftest import expand_all
from tests.factories import (
    NOW,
    build_world,
)

WINDOW = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)
LATER = datetime(2026, 6, 4, 11, 0, tzinfo=UTC)


@pytest.fixture
def booked(session, frozen_now):
    frozen_now(NOW)
    world = build_world(session, customer={"email": "ada@example.com"})
    world.appt = book_window(session, BookingRequest(**world.booking_fields(WINDOW)))
    return world


def invitations(smtp_server) -> list[Calendar]:
    found = []
    for message in smtp_server.messages:
        if message["To"] != "ada@example.com":
            continue
        parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        found.extend(Calendar.from_ical(p.get_content()) for p in parts)
    return found


def event(calendar: Calendar):
    return calendar.walk("VEVENT")[0]


def send(session, smtp_server) -> None:
    """What the scheduler process does: expand the events, then send the outbox."""
    expand_all(session)
    session.commit()
    send_due(session, NOW, smtp=smtp_server.settings)


def test_a_move_keeps_the_uid_and_raises_the_sequence(session, booked, smtp_server):
    lc.reschedule_appointment(session, booked["appt"], LATER, steps.Actor(booked["customer"]))
    send(session, smtp_server)

    booked_ics, moved_ics = invitations(smtp_server)
    assert booked_ics["METHOD"] == moved_ics["METHOD"] == "REQUEST"
    assert str(event(moved_ics)["UID"]) == str(event(booked_ics)["UID"])
    assert int(event(moved_ics)["SEQUENCE"]) > int(event(booked_ics)["SEQUENCE"])
    assert event(moved_ics).decoded("DTSTART") == LATER


def test_a_cancellation_sends_a_cancel_for_the_same_event(session, booked, smtp_server):
    lc.reschedule_appointment(session, booked["appt"], LATER, steps.Actor(booked["customer"]))
    lc.cancel_appointment(session, booked["appt"], steps.Actor(booked["customer"]), "Moving away")
    send(session, smtp_server)

    first, moved, cancelled = invitations(smtp_server)
    assert cancelled["METHOD"] == "CANCEL"
    assert str(event(cancelled)["STATUS"]) == "CANCELLED"
    assert str(event(cancelled)["UID"]) == str(event(first)["UID"])
    assert int(event(cancelled)["SEQUENCE"]) > int(event(moved)["SEQUENCE"])


def test_mail_waits_while_the_server_is_down_and_goes_out_later(
    session, booked, smtp_server, frozen_now
):
    smtp_server.stop()
    expand_all(session)
    session.commit()
    down = send_due(session, NOW, smtp=smtp_server.settings)
    smtp_server.start()

    later = frozen_now(datetime(2026, 6, 1, 7, 0, tzinfo=UTC))
    up = send_due(session, later, smtp=smtp_server.settings)

    assert down.sent == 0 and down.retrying >= 1
    assert up.sent == down.retrying
    assert len(invitations(smtp_server)) == 1
