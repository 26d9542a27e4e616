"""Who hears of what: announce() queues e-mails and writes notices for each event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.services import add_contact
from portal.booking.announce import EVENTS, announce
from portal.booking.models import SignOff
from portal.notifications.models import Notification, OutboxMessage
from tests.factories import (
    build_world,
    create_agent,
    create_appointment,
    create_customer,
    create_location,
    create_task,
    create_territory,
    create_user,
)

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def people(session):
    world = build_world(
        session,
        policy=None,
        customer={"full_name": "Ada Customer", "email": "ada@example.com"},
        service={"name": "Boiler service"},
        agents=[{"full_name": "Bob Agent", "email": "bob@example.com"}],
        scheduler={"full_name": "Sam Scheduler"},
    )
    return world.add(user=world.customer)  # the customer, as this file's tests call it


@pytest.fixture
def appt(session, people):
    return create_appointment(
        session,
        start=START,
        contact=people["contact"],
        agents=[people["agent"]],
        service=people["service"],
    )


def mails(session, to: str | None = None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.channel != "event")
    query = query.order_by(OutboxMessage.id)
    if to:
        query = query.where(OutboxMessage.recipient == to)
    return list(session.scalars(query))


def notices(session, user) -> list[str]:
    query = sa.select(Notification.message).where(Notification.user_id == user.id)
    return list(session.scalars(query.order_by(Notification.id)))


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_event_can_be_announced(session, appt, event, expand_events):
    announce(session, event, appt, note="A note", old_window=(START - timedelta(days=1), START))
    expand_events()

    assert mails(session) or session.scalars(sa.select(Notification)).all()


def test_a_booking_mails_the_customer_an_invitation_with_the_manage_link(
    session, people, appt, expand_events
):
    announce(session, "booked", appt)
    expand_events()

    (mail,) = mails(session, "ada@example.com")
    assert mail.subject == "Booked: your boiler service on Tue 24 Nov, 10:00–12:00 GMT"
    assert "METHOD:REQUEST" in mail.ics
    assert "/manage/" in mail.body_text
    assert 'href="http://127.0.0.1:5000/manage/' in mail.body_html
    assert notices(session, people["user"]) == [
        "Boiler service booked for Tue 24 Nov, 10:00–12:00 GMT (SA-000001)."
    ]


def test_a_booking_asks_each_agent_to_accept_or_decline(session, people, appt, expand_events):
    announce(session, "booked", appt)
    expand_events()

    (mail,) = mails(session, "bob@example.com")
    assert "please accept or decline" in mail.subject
    assert "http://127.0.0.1:5000/staff/" in mail.body_text
    assert mail.ics is None
    assert notices(session, people["agent"].user)[0].startswith("New task: Boiler service")


def test_the_window_is_named_in_the_zone_of_the_location(session, people, expand_events):
    territory = create_territory(session, time_zone="America/New_York")
    location = create_location(session, people["contact"].account, territory=territory)
    appt = create_appointment(session, start=START, contact=people["contact"], location=location)

    announce(session, "confirmation_requested", appt)
    expand_events()

    (mail,) = mails(session, "ada@example.com")
    assert mail.subject.endswith("on Tue 24 Nov, 05:00–07:00 EST")


def test_a_customer_who_turned_emails_off_gets_only_the_notice(
    session, people, appt, expand_events
):
    people["user"].email_notifications = False

    announce(session, "confirmation_requested", appt)
    expand_events()

    assert mails(session, "ada@example.com") == []
    assert len(notices(session, people["user"])) == 1


def test_a_contact_without_a_login_still_gets_the_email(session, people, expand_events):
    _u, account, _c = create_customer(session)
    contact = add_contact(session, account, full_name="No Login", email="nologin@example.com")
    appt = create_appointment(session, start=START, contact=contact)

    announce(session, "completed", appt)
    expand_events()

    (mail,) = mails(session, "nologin@example.com")
    assert "please sign it off" in mail.subject
    assert "/manage/" in mail.body_text


def test_a_move_tells_the_old_and_the_new_window(session, appt, expand_events):
    old = (START - timedelta(days=1), START - timedelta(days=1) + timedelta(hours=2))

    announce(session, "rescheduled", appt, old_window=old)
    expand_events()

    (mail,) = mails(session, "ada@example.com")
    assert "Was: Mon 23 Nov, 10:00–12:00 GMT" in mail.body_text
    assert "Now: Tue 24 Nov, 10:00–12:00 GMT" in mail.body_text
    assert "METHOD:REQUEST" in mail.ics


def test_a_cancellation_carries_a_cancel_and_the_reason(session, appt, expand_events):
    announce(session, "cancelled", appt, note="Boiler replaced")
    expand_events()

    customer, agent = mails(session, "ada@example.com"), mails(session, "bob@example.com")
    assert "METHOD:CANCEL" in customer[0].ics
    assert "Reason: Boiler replaced" in customer[0].body_text
    assert "Do not go" in agent[0].body_text


def test_a_reassignment_tells_only_the_new_agent(session, people, appt, expand_events):
    announce(session, "booked", appt)
    expand_events()
    newcomer = create_agent(session, email="newcomer@example.com")
    appt.holds[0].agent = newcomer
    create_task(session, work_order=appt.work_order, agent=newcomer, appointment=appt)

    announce(session, "assigned", appt)
    expand_events()

    assert len(mails(session, "bob@example.com")) == 1
    assert len(mails(session, "newcomer@example.com")) == 1


def test_schedulers_hear_of_a_decline_but_not_the_scheduler_who_acted(
    session, people, appt, expand_events
):
    other = create_user(session, role="manager")

    announce(session, "declined_by_customer", appt, actor=people["scheduler"], note="Away")
    expand_events()

    assert notices(session, people["scheduler"]) == []
    assert notices(session, other) == [
        "The customer declined SA-000001 on Tue 24 Nov, 10:00–12:00 GMT."
    ]


def test_a_change_request_brings_the_customers_message_to_schedulers(
    session, people, appt, expand_events
):
    announce(session, "change_request", appt, note="Can you come after 3pm?")
    expand_events()

    assert notices(session, people["scheduler"]) == [
        "Change request for SA-000001: Can you come after 3pm?"
    ]
    assert mails(session) == []
    link = session.scalar(sa.select(Notification.link))
    assert link == f"/staff/appointments/{appt.id}"


def test_the_sign_off_summary_goes_to_the_customer_and_every_agent(
    session, people, appt, expand_events
):
    second = create_agent(session, full_name="Cy Agent", email="cy@example.com")
    create_task(session, work_order=appt.work_order, agent=second, appointment=appt, status="done")
    session.add(
        SignOff(
            appointment_id=appt.id,
            full_name="Ada Customer",
            consent=True,
            signed_at=START + timedelta(hours=3),
        )
    )
    session.flush()

    announce(session, "signed_off", appt)
    expand_events()

    for to in ("ada@example.com", "bob@example.com", "cy@example.com"):
        (mail,) = mails(session, to)
        assert "Work order: WO-000001" in mail.body_text
        assert "Technicians: Bob Agent, Cy Agent" in mail.body_text
        assert "Signed by: Ada Customer" in mail.body_text
        assert "Signed on: Tue 24 Nov 2026, 13:00 GMT" in mail.body_text


def test_an_unknown_event_is_refused(session, appt):
    with pytest.raises(ValueError, match="teleported"):
        announce(session, "teleported", appt)


def test_announce_never_commits(session, appt):
    session.commit()
    announce(session, "booked", appt)
    session.rollback()

    assert mails(session) == []
