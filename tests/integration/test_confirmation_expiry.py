"""Confirmation requests past their deadline: locked, on the timeline, announced once to
the customer and every scheduler, however many schedulers run the expiry at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.booking import jobs, steps
from portal.booking import lifecycle as lc
from portal.booking.expiry import expire_confirmations
from portal.booking.models import Appointment
from portal.dispatch import services as dispatch_services
from portal.errors import NotAllowed
from portal.notifications import jobs as notification_jobs
from portal.notifications.models import Notification, OutboxMessage
from portal.workorders.models import TimelineEntry
from tests.conftest import expand_all
from tests.factories import (
    build_world,
    create_appointment,
    create_user,
    pinned_now,
)

# Monday 10:00 London, not the suite's 07:00: the mails below quote the deadline a minute
# before it (09:59 BST).
NOW = pinned_now(hour=9)
WINDOW = datetime(2026, 6, 5, 9, 0, tzinfo=UTC)  # Friday 10:00-12:00 London
DEADLINE = NOW - timedelta(minutes=1)


@pytest.fixture
def people(session, frozen_now):
    frozen_now(NOW)
    world = build_world(
        session,
        policy={"min_notice_minutes": 24 * 60},
        customer={"email": "ada@example.com", "full_name": "Ada Customer"},
        service={"name": "Boiler service"},
        agents=[{"email": "bob@example.com"}],
        scheduler={"email": "sam@example.com"},
        manager={"email": "meg@example.com"},
    )
    return world.add(user=world.customer)  # the customer, as this file's tests call it


def accepted(session, people, *, deadline=DEADLINE, status="accepted", start=WINDOW) -> Appointment:
    return create_appointment(
        session,
        start=start,
        contact=people["contact"],
        service=people["service"],
        agents=[people["agent"]],
        status=status,
        confirm_deadline=deadline,
    )


def mails(session, to: str | None = None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if to:
        query = query.where(OutboxMessage.recipient == to)
    return list(session.scalars(query))


def notices(session, user) -> list[Notification]:
    query = sa.select(Notification).where(Notification.user_id == user.id)
    return list(session.scalars(query.order_by(Notification.id)))


def test_an_accepted_appointment_past_its_deadline_expires(session, people):
    appt = accepted(session, people)

    assert expire_confirmations(session, NOW) == 1

    session.expire_all()
    assert session.get(Appointment, appt.id).confirm_expired_at == NOW
    assert session.get(Appointment, appt.id).status == "accepted"


@pytest.mark.parametrize(
    ("status", "deadline"),
    [
        ("confirmed", DEADLINE),  # answered in time
        ("requested", DEADLINE),  # nothing asked of the customer yet
        ("accepted", NOW + timedelta(minutes=1)),  # not yet due
        ("accepted", NOW),  # due at this very instant, not passed
        ("accepted", None),  # no deadline set
    ],
    ids=["confirmed", "requested", "not-yet-due", "due-now", "no-deadline"],
)
def test_expiry_leaves_appointments_whose_request_has_not_lapsed(session, people, status, deadline):
    appt = accepted(session, people, status=status, deadline=deadline)

    assert expire_confirmations(session, NOW) == 0

    session.expire_all()
    assert session.get(Appointment, appt.id).confirm_expired_at is None
    assert mails(session) == []


def test_running_the_expiry_twice_announces_once(session, people, expand_events):
    accepted(session, people)

    expire_confirmations(session, NOW)
    expand_events()
    assert expire_confirmations(session, NOW + timedelta(minutes=1)) == 0

    assert len(mails(session, "ada@example.com")) == 1
    assert len(notices(session, people["user"])) == 1


def test_the_customer_is_told_the_request_expired_and_self_service_is_locked(
    session, people, expand_events
):
    appt = accepted(session, people)

    expire_confirmations(session, NOW)
    expand_events()

    (mail,) = mails(session, "ada@example.com")
    assert (
        mail.subject
        == "We did not hear from you about your boiler service on Fri 5 Jun, 10:00–12:00 BST"
    )
    assert "by Mon 1 Jun 2026, 09:59 BST" in mail.body_text
    assert "can no longer be moved or cancelled online" in mail.body_text
    assert "scheduling team will be in touch" in mail.body_text
    assert "/manage/" in mail.body_text
    (notice,) = notices(session, people["user"])
    assert "our scheduling team will be in touch" in notice.message
    assert notice.link == f"/appointments/{appt.id}"


def test_every_active_scheduler_is_alerted_in_the_portal_and_by_email(
    session, people, expand_events
):
    retired = create_user(session, role="scheduler", email="old@example.com", active=False)
    appt = accepted(session, people)

    expire_confirmations(session, NOW)
    expand_events()

    for who in ("scheduler", "manager"):
        (notice,) = notices(session, people[who])
        assert notice.message.startswith(f"{appt.number} on Fri 5 Jun")
        assert notice.link == f"/staff/appointments/{appt.id}"
        (mail,) = mails(session, people[who].email)
        assert mail.subject == f"Not confirmed in time: {appt.number} on Fri 5 Jun, 10:00–12:00 BST"
        assert f"http://127.0.0.1:5000/staff/appointments/{appt.id}" in mail.body_text
        assert "ada@example.com" in mail.body_text
    assert notices(session, retired) == []
    assert mails(session, "old@example.com") == []


def test_the_agent_is_not_alerted(session, people, expand_events):
    accepted(session, people)

    expire_confirmations(session, NOW)
    expand_events()

    assert mails(session, "bob@example.com") == []
    assert notices(session, people["agent"].user) == []


def test_a_scheduler_who_turned_emails_off_gets_only_the_notice(session, people, expand_events):
    people["scheduler"].email_notifications = False
    accepted(session, people)

    expire_confirmations(session, NOW)
    expand_events()

    assert mails(session, "sam@example.com") == []
    assert len(notices(session, people["scheduler"])) == 1


def test_the_expiry_is_on_the_timeline_the_customer_sees(session, people):
    appt = accepted(session, people)

    expire_confirmations(session, NOW)

    (entry,) = session.scalars(
        sa.select(TimelineEntry).where(TimelineEntry.action == "confirmation_expired")
    )
    assert (entry.work_order_id, entry.actor_id, entry.visibility) == (
        appt.work_order_id,
        None,
        "customer",
    )


def test_the_customer_can_no_longer_reschedule_once_expired(session, people):
    appt = accepted(session, people)
    expire_confirmations(session, NOW)

    with pytest.raises(NotAllowed, match="deadline"):
        lc.reschedule_appointment(
            session, appt, WINDOW + timedelta(days=1), steps.Actor(people["user"])
        )


@pytest.mark.parametrize("answer", ["confirm", "decline"])
def test_the_customer_can_no_longer_answer_once_expired(session, people, answer):
    appt = accepted(session, people)
    expire_confirmations(session, NOW)
    act = lc.confirm_appointment if answer == "confirm" else lc.decline_appointment

    with pytest.raises(NotAllowed, match="time to answer this request has passed"):
        act(session, appt, steps.Actor(people["user"]))
    assert appt.status == "accepted"


def test_the_customer_can_still_confirm_before_expiry_runs(session, people):
    appt = accepted(session, people, deadline=NOW + timedelta(hours=1))

    lc.confirm_appointment(session, appt, steps.Actor(people["user"]))

    assert appt.status == "confirmed"


def test_a_new_deadline_lifts_the_lock_and_can_expire_again(session, people):
    appt = accepted(session, people)
    expire_confirmations(session, NOW)

    dispatch_services.set_confirm_deadline(
        session, appt, people["scheduler"], NOW + timedelta(hours=2)
    )

    assert appt.confirm_expired_at is None
    lc.confirm_appointment(session, appt, steps.Actor(people["user"]))
    assert appt.status == "confirmed"


def test_a_staff_move_of_an_expired_request_lifts_the_lock(session, people):
    appt = accepted(session, people)
    expire_confirmations(session, NOW)

    lc.reschedule_appointment(
        session, appt, WINDOW + timedelta(days=3), steps.Actor(people["scheduler"])
    )

    assert (appt.confirm_expired_at, appt.confirm_deadline) == (None, None)
    assert expire_confirmations(session, NOW + timedelta(minutes=5)) == 0
    lc.confirm_appointment(session, appt, steps.Actor(people["user"]))
    assert appt.status == "confirmed"


def test_two_schedulers_expiring_at_the_same_moment_announce_once(app, session, people):
    accepted(session, people)
    accepted(session, people, start=WINDOW + timedelta(days=1))
    session.commit()
    results: list[int] = []

    def other_scheduler():
        with app.app_context():
            other = app.extensions["portal.sessionmaker"]()
            try:
                results.append(expire_confirmations(other, NOW))
                other.commit()
            finally:
                other.close()

    # This session claims first and holds its transaction open while the other runs.
    assert expire_confirmations(session, NOW) == 2
    thread = threading.Thread(target=other_scheduler)
    thread.start()
    time.sleep(0.2)  # long enough for the other UPDATE to reach the rows we hold
    session.commit()
    thread.join(timeout=30)

    assert results == [0]
    session.expire_all()
    expand_all(session)
    assert len(mails(session, "ada@example.com")) == 2


@pytest.fixture
def jobs_use(app):
    """The app the jobs run in (the scheduler process passes its own)."""
    return app


def test_the_expiry_job_commits_what_it_claimed(session, people, jobs_use):
    appt = accepted(session, people)
    session.commit()

    jobs.expire_confirmations(jobs_use)
    jobs.expire_confirmations(jobs_use)
    notification_jobs.expand_events(jobs_use)

    session.expire_all()
    assert session.get(Appointment, appt.id).confirm_expired_at == NOW
    assert len(mails(session, "ada@example.com")) == 1


# -- what people see --------------------------------------------------------------------


def test_the_staff_page_says_when_the_confirmation_request_expired(client, auth, session, people):
    appt = accepted(session, people)
    expire_confirmations(session, NOW)
    auth.login("sam@example.com")

    page = client.get(f"/staff/appointments/{appt.id}").get_data(as_text=True)

    assert "Confirmation request expired on Mon 1 Jun 2026, 10:00 BST" in page


def test_the_staff_page_says_nothing_of_expiry_before_it(client, auth, session, people):
    appt = accepted(session, people, deadline=NOW + timedelta(hours=1))
    auth.login("sam@example.com")

    page = client.get(f"/staff/appointments/{appt.id}").get_data(as_text=True)

    assert "expired" not in page


def test_the_customer_page_gives_the_reason_for_the_lock(client, auth, session, people):
    appt = accepted(session, people)
    expire_confirmations(session, NOW)
    auth.login("ada@example.com")

    page = client.get(f"/appointments/{appt.id}").get_data(as_text=True)

    assert "The deadline our scheduler set for changes has passed" in page
    assert "The time to confirm has passed" in page
    assert "Confirm this appointment" not in page
    assert "Move to another time" not in page
    assert "Ask our scheduler for a change" in page
