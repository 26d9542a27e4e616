"""The scheduler process and its jobs: reminders go out once, the outbox job sends, and
`portal scheduler` survives a restart without sending twice or duplicating its jobs."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal import scheduler
from portal.app import create_app
from portal.booking import jobs as booking_jobs
from portal.booking.announce import queue_reminders
from portal.db import get_session, make_engine
from portal.notifications import jobs
from portal.notifications.models import Notification, OutboxMessage
from portal.notifications.services import queue_email
from tests.conftest import app_config, expand_all
from tests.factories import NOW, create_appointment, create_customer
from tests.scheduler_process import kill, start_scheduler, stop, stored_job_ids, wait_for
from tests.smtp_sink import SmtpSink


@pytest.fixture
def customer(session, frozen_now):
    frozen_now(NOW)
    user, _account, contact = create_customer(session, email="ada@example.com")
    return user, contact


@pytest.fixture
def jobs_use(app):
    """The app the jobs run in (the scheduler process passes its own)."""
    return app


def reminders(session) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.dedupe_key.like("reminder:%"))
    return list(session.scalars(query))


def test_a_confirmed_appointment_starting_within_a_day_is_reminded(session, customer):
    _user, contact = customer
    appt = create_appointment(session, start=NOW + timedelta(hours=20), contact=contact)

    assert queue_reminders(session, NOW) == 1
    expand_all(session)

    (mail,) = reminders(session)
    assert mail.recipient == "ada@example.com"
    assert mail.dedupe_key == f"reminder:{appt.id}:0"
    assert mail.subject.startswith("Reminder: your ")


def test_running_the_reminders_twice_sends_one(session, customer):
    create_appointment(session, start=NOW + timedelta(hours=20), contact=customer[1])

    queue_reminders(session, NOW)
    assert queue_reminders(session, NOW + timedelta(minutes=5)) == 0
    expand_all(session)

    assert len(reminders(session)) == 1


@pytest.mark.parametrize("status", ["requested", "accepted", "cancelled", "needs_reschedule"])
def test_no_reminder_for_an_appointment_that_is_not_confirmed(session, customer, status):
    create_appointment(session, start=NOW + timedelta(hours=20), contact=customer[1], status=status)

    assert queue_reminders(session, NOW) == 0


@pytest.mark.parametrize("hours", [25, -1])
def test_no_reminder_more_than_a_day_ahead_or_once_started(session, customer, hours):
    create_appointment(session, start=NOW + timedelta(hours=hours), contact=customer[1])

    assert queue_reminders(session, NOW) == 0


def test_a_moved_appointment_is_reminded_of_its_new_time(session, customer):
    appt = create_appointment(session, start=NOW + timedelta(hours=20), contact=customer[1])
    queue_reminders(session, NOW)
    expand_all(session)
    appt.window_start += timedelta(hours=2)
    appt.window_end += timedelta(hours=2)
    appt.sequence += 1

    assert queue_reminders(session, NOW) == 1
    expand_all(session)
    assert len(reminders(session)) == 2


def test_a_customer_without_emails_is_reminded_once_in_the_portal(session, customer):
    user, contact = customer
    user.email_notifications = False
    create_appointment(session, start=NOW + timedelta(hours=20), contact=contact)

    queue_reminders(session, NOW)
    expand_all(session)
    queue_reminders(session, NOW)
    expand_all(session)

    assert reminders(session) == []
    notes = session.scalars(sa.select(Notification).where(Notification.user_id == user.id)).all()
    assert [n.message[:9] for n in notes] == ["Reminder:"]


def test_the_reminder_job_commits_what_it_queued(session, customer, jobs_use):
    create_appointment(session, start=NOW + timedelta(hours=20), contact=customer[1])
    session.commit()

    booking_jobs.send_reminders(jobs_use)
    booking_jobs.send_reminders(jobs_use)
    jobs.expand_events(jobs_use)

    session.expire_all()
    assert len(reminders(session)) == 1


def test_the_outbox_job_sends_what_is_due(session, customer, jobs_use):
    sink = SmtpSink()
    sink.start()
    try:
        jobs_use.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port)
        queue_email(session, to="ada@example.com", subject="Hello", text="Hi")
        session.commit()

        jobs.send_outbox(jobs_use)

        assert [m["Subject"] for m in sink.messages] == ["Hello"]
    finally:
        sink.stop()


def test_each_job_is_stored_once_however_often_the_scheduler_starts(app, database_url):
    engine = make_engine(database_url)
    try:
        for _ in range(2):
            background = scheduler.build_scheduler(app, blocking=False, engine=engine)
            background.start(paused=True)
            background.shutdown(wait=True)
        with engine.connect() as connection:
            ids = connection.execute(sa.text("SELECT id FROM apscheduler_jobs ORDER BY id"))
            assert [row.id for row in ids] == sorted(spec.id for spec in scheduler.JOBS)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS apscheduler_jobs")
        # Shut down, APScheduler's thread may still look at the store once: dispose last.
        engine.dispose()
        scheduler._app = None


# -- the process itself -------------------------------------------------------------------


def _queue(url: str, instance: Path, to: str) -> None:
    app = create_app(app_config(url, instance))
    try:
        with app.app_context():
            session = get_session()
            queue_email(session, to=to, subject=f"For {to}", text="Hello")
            session.commit()
    finally:
        app.extensions["portal.engine"].dispose()


@pytest.mark.slow
def test_the_scheduler_process_sends_once_across_a_restart(sqlite_url, tmp_path):
    instance, log = tmp_path / "instance", tmp_path / "scheduler.log"
    sink = SmtpSink()
    sink.start()
    _queue(sqlite_url, instance, "first@example.com")
    process = start_scheduler(sqlite_url, instance, sink, log)
    try:
        wait_for(lambda: len(sink.messages) == 1)
        assert stop(process) == 0

        _queue(sqlite_url, instance, "second@example.com")
        process = start_scheduler(sqlite_url, instance, sink, log)
        wait_for(lambda: len(sink.messages) == 2)
        time.sleep(0.5)  # anything sent twice would arrive now
        assert stop(process) == 0
    finally:
        kill(process)
        sink.stop()

    assert sorted(m["To"] for m in sink.messages) == ["first@example.com", "second@example.com"]
    engine = sa.create_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            statuses = connection.execute(sa.text("SELECT status FROM outbox_messages")).all()
    finally:
        engine.dispose()
    assert stored_job_ids(sqlite_url) == sorted(spec.id for spec in scheduler.JOBS)
    assert [row.status for row in statuses] == ["sent", "sent"]
    assert log.read_text().count("Scheduler stopped") == 2
