"""Windows across the 2027 clock changes, through to what people see: the confirm and
move pages, the appointment page, the e-mail with its calendar invitation and the agent's
notice all show the window the engine offers and booking keeps, each end in its own zone.

Europe/London changes on Sunday 28 March (00:59 GMT then 02:00 BST) and Sunday 31
October 2027 (01:59 BST then 01:00 GMT); America/New_York on Sunday 14 March and Sunday
7 November 2027.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from portal.booking.models import Appointment
from portal.notifications.models import Notification, OutboxMessage
from tests.factories import (
    build_world,
    create_appointment,
    create_territory,
)

SUNDAY_NIGHTS = ((6, time(0), time(8)),)  # Sunday 00:00-08:00 on the agent's clock

# (zone, a start on a change night, the window as shown, where it ends)
CHANGE_NIGHTS = {
    "london-spring": (
        "Europe/London",
        datetime(2027, 3, 28, 0, 0, tzinfo=UTC),  # 00:00 GMT
        "Sun 28 Mar, 00:00 GMT–02:00 BST",
        datetime(2027, 3, 28, 1, 0, tzinfo=UTC),  # one real hour
    ),
    "london-autumn": (
        "Europe/London",
        datetime(2027, 10, 30, 23, 0, tzinfo=UTC),  # 00:00 BST
        "Sun 31 Oct, 00:00 BST–02:00 GMT",
        datetime(2027, 10, 31, 2, 0, tzinfo=UTC),  # three real hours
    ),
    "new-york-autumn": (
        "America/New_York",
        datetime(2027, 11, 7, 4, 0, tzinfo=UTC),  # 00:00 EDT
        "Sun 7 Nov, 00:00 EDT–02:00 EST",
        datetime(2027, 11, 7, 7, 0, tzinfo=UTC),
    ),
}


def quoted(moment: datetime) -> str:
    return moment.isoformat().replace("+", "%2B")


@pytest.fixture(params=sorted(CHANGE_NIGHTS))
def night(request, session, frozen_now, auth):
    """A customer and a night-shift agent in `zone`, a week before a change night."""
    zone, start, label, end = CHANGE_NIGHTS[request.param]
    frozen_now(start - timedelta(days=7))
    territory = create_territory(session, time_zone=zone)
    world = build_world(
        session,
        customer={"email": "night@example.com"},
        location={"territory": territory},
        service={"name": "Boiler service"},
        agents=[
            {
                "time_zone": zone,
                "territories": [territory],
                "hours": SUNDAY_NIGHTS,
                "email": "tech@ex.com",
            }
        ],
    )
    session.commit()
    auth.login("night@example.com")
    url = f"/book/confirm?service={world.service.id}&location={world.location.id}"
    return world.add(start=start, label=label, end=end, url=f"{url}&start={quoted(start)}")


def book(client, url: str):
    page = client.get(url).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page).group(1)
    return client.post_form(url, {"idempotency_key": key})


def test_the_confirm_page_shows_the_window_the_engine_offers(client, night):
    page = client.get(night["url"]).get_data(as_text=True)

    assert f"<dt>Arrival window</dt><dd>{night['label']}</dd>" in page


def test_the_booked_window_is_the_one_the_confirm_page_showed(client, session, night):
    response = book(client, night["url"])

    assert response.status_code == 302
    appt = session.scalar(sa.select(Appointment))
    assert (appt.window_start, appt.window_end) == (night["start"], night["end"])
    page = client.get(response.location).get_data(as_text=True)
    assert f"<dt>Arrival window</dt><dd>{night['label']}</dd>" in page


def test_the_booking_email_invitation_and_agent_notice_show_each_end_in_its_zone(
    client, session, night, expand_events
):
    book(client, night["url"])
    expand_events()  # what the scheduler process does with the booking's event

    mail = session.scalar(
        sa.select(OutboxMessage).where(
            OutboxMessage.channel != "event", OutboxMessage.recipient == "night@example.com"
        )
    )
    assert mail.subject.endswith(f"on {night['label']}")
    assert night["label"] in mail.body_text
    event = Calendar.from_ical(mail.ics).walk("VEVENT")[0]
    assert (event.decoded("dtstart"), event.decoded("dtend")) == (night["start"], night["end"])
    notices = session.scalars(
        sa.select(Notification.message).where(Notification.user_id == night["agent"].user_id)
    ).all()
    assert any(night["label"] in message for message in notices)


def test_moving_onto_a_change_night_shows_and_keeps_the_engines_window(client, session, night):
    # Booked for the same wall-clock time a week later, an ordinary Sunday.
    later = night["start"] + timedelta(days=7)
    appt = create_appointment(
        session,
        start=later,
        contact=night["contact"],
        location=night["location"],
        service=night["service"],
        agents=[night["agent"]],
    )
    url = f"/appointments/{appt.id}/move/confirm?start={quoted(night['start'])}"

    page = client.get(url).get_data(as_text=True)
    response = client.post_form(url, {"start": night["start"].isoformat()})

    assert f"<dt>To</dt><dd>{night['label']}</dd>" in page
    assert response.status_code == 302
    session.expire_all()
    moved = session.get(Appointment, appt.id)
    assert (moved.window_start, moved.window_end) == (night["start"], night["end"])
