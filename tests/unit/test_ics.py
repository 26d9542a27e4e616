"""The calendar invitation (.ics) and the MIME message that carries it, parsed back with
the icalendar library. No database: the appointment is built in memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from flask import Flask
from icalendar import Calendar

from portal.accounts.models import Contact, ServiceLocation
from portal.booking.ics import build_ics
from portal.booking.models import Appointment, Service
from portal.mail import SmtpSettings, build_message
from portal.notifications.models import OutboxMessage
from portal.notifications.rendering import linkify, paragraphs, service_phrase
from portal.notifications.services import backoff
from portal.workorders.models import WorkOrder

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def app_context():
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="unit-test-key",
        BASE_URL="https://portal.example.com",
        MAIL_FROM="Field Service <bookings@portal.example.com>",
    )
    with app.app_context():
        yield app


def make_appointment(**overrides) -> Appointment:
    values = {
        "id": 42,
        "sequence": 0,
        "status": "confirmed",
        "window_start": START,
        "window_end": START + timedelta(hours=2),
        "service": Service(name="Boiler service", duration_minutes=60),
        "location": ServiceLocation(street="1 High Street", city="London", postal_code="SE1 9PG"),
        "contact": Contact(full_name="Ada Lovelace", email="ada@example.com"),
        "work_order": WorkOrder(id=7, summary="Boiler"),
        **overrides,
    }
    return Appointment(**values)


def event_of(ics: str):
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_an_invitation_is_a_request_with_a_stable_uid_and_the_sequence(app_context):
    calendar, event = event_of(build_ics(make_appointment(sequence=3), "REQUEST"))

    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "appointment-42@portal.example.com"
    assert int(event["SEQUENCE"]) == 3
    assert str(event["STATUS"]) == "CONFIRMED"


def test_the_event_spans_the_arrival_window_in_utc(app_context):
    _calendar, event = event_of(build_ics(make_appointment(), "REQUEST"))

    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(hours=2)
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence(app_context):
    first = build_ics(make_appointment(sequence=0), "REQUEST")
    moved = make_appointment(sequence=1, window_start=START + timedelta(days=1))
    moved.window_end = moved.window_start + timedelta(hours=2)
    _c, before = event_of(first)
    _c, after = event_of(build_ics(moved, "REQUEST"))

    assert str(after["UID"]) == str(before["UID"])
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("DTSTART") == START + timedelta(days=1)


def test_a_cancellation_has_method_cancel_and_status_cancelled(app_context):
    calendar, event = event_of(build_ics(make_appointment(sequence=2), "CANCEL"))

    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == "appointment-42@portal.example.com"
    assert int(event["SEQUENCE"]) == 2


def test_the_event_names_the_service_the_address_and_the_manage_link(app_context):
    _calendar, event = event_of(build_ics(make_appointment(), "REQUEST"))

    assert "Boiler service" in str(event["SUMMARY"])
    assert str(event["LOCATION"]) == "1 High Street, London SE1 9PG"
    description = str(event["DESCRIPTION"])
    assert "WO-000007" in description
    assert "https://portal.example.com/manage/" in description


def test_the_organizer_is_the_sender_and_the_attendee_the_customer(app_context):
    _calendar, event = event_of(build_ics(make_appointment(), "REQUEST"))

    assert str(event["ORGANIZER"]).lower() == "mailto:bookings@portal.example.com"
    assert str(event["ATTENDEE"]).lower() == "mailto:ada@example.com"
    assert event["ATTENDEE"].params["CN"] == "Ada Lovelace"


def test_an_unknown_method_is_refused(app_context):
    with pytest.raises(ValueError, match="PUBLISH"):
        build_ics(make_appointment(), "PUBLISH")


def test_the_invitation_travels_as_text_calendar_with_its_method(app_context):
    ics = build_ics(make_appointment(), "CANCEL")
    outbox = OutboxMessage(
        id=5,
        recipient="ada@example.com",
        subject="Cancelled",
        body_text="Your visit is cancelled.",
        body_html="<p>Your visit is cancelled.</p>",
        ics=ics,
        created_at=START,
    )
    raw = build_message(outbox, SmtpSettings(host="x", mail_from="P <p@portal.example.com>"))
    parsed = message_from_bytes(raw.as_bytes(), policy=default_policy)

    (attachment,) = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert attachment.get_param("method") == "CANCEL"
    assert attachment.get_content_charset() == "utf-8"
    assert attachment.get_filename() == "invite.ics"
    assert event_of(attachment.get_content())[0]["METHOD"] == "CANCEL"
    assert parsed["Message-ID"] == "<outbox-5@portal.example.com>"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Your visit is cancelled.</p>"


def test_retries_wait_twice_as_long_each_time_up_to_an_hour():
    waits = [backoff(n) for n in range(1, 10)]

    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(waits) == timedelta(hours=1)


def test_links_in_a_text_become_clickable_and_the_rest_is_escaped():
    html = str(linkify("Open https://x.test/manage/a?b=1&c=2. <now>"))

    assert '<a href="https://x.test/manage/a?b=1&amp;c=2">' in html
    assert html.endswith(". &lt;now&gt;")


def test_the_html_part_keeps_paragraphs_and_line_breaks():
    assert [str(p) for p in paragraphs("One\ntwo\n\n\nThree")] == ["One<br>\ntwo", "Three"]


@pytest.mark.parametrize(
    ("name", "phrase"),
    [("Boiler service", "boiler service"), ("EV charger fitting", "EV charger fitting")],
)
def test_a_service_name_reads_well_mid_sentence(name, phrase):
    assert service_phrase(name) == phrase
