"""`portal scheduler` as real processes, with the expire-confirmations job: a due job runs
once, a restart neither repeats it nor loses what fell due while the process was down,
and two processes on one database still expire and send everything exactly once; and
with the SLA pass: two processes released together run each milestone's action once."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.pool import NullPool

from portal.app import create_app
from portal.booking.models import Appointment
from portal.calendars.models import BusinessCalendar, BusinessHours
from portal.cases.services import open_case
from portal.db import get_session, make_engine
from portal.notifications.models import OutboxMessage
from portal.notifications.services import queue_email
from portal.sla.models import Milestone, SlaActionRun
from portal.sla.settings import (
    MilestoneData,
    ProcessData,
    add_action,
    add_milestone,
    create_process,
)
from portal.timeutil import freeze, now_utc
from portal.workorders.models import TimelineEntry
from tests.conftest import app_config
from tests.factories import create_appointment, create_customer, create_user
from tests.scheduler_process import drop_job_table, kill, start_scheduler, stop, wait_for
from tests.smtp_sink import SmtpSink

CUSTOMER = "ada@example.com"
SCHEDULER = "sam@example.com"
MANAGER = "morgan@example.com"


@contextmanager
def database(url: str, instance: Path) -> Iterator[so.Session]:
    """A session on the processes' database, committed at the end of the block."""
    app = create_app(app_config(url, instance))
    try:
        with app.app_context():
            session = get_session()
            yield session
            session.commit()
    finally:
        app.extensions["portal.engine"].dispose()


def awaiting_confirmation(session, contact, *, deadline: datetime, days_ahead: int) -> int:
    """An accepted appointment whose confirmation request ends at `deadline`; its id."""
    start = now_utc().replace(microsecond=0) + timedelta(days=days_ahead)
    appt = create_appointment(
        session, start=start, contact=contact, status="accepted", confirm_deadline=deadline
    )
    return appt.id


def set_up_people(session):
    create_user(session, role="scheduler", email=SCHEDULER)
    _user, _account, contact = create_customer(session, email=CUSTOMER)
    return contact


def mails_to(sink: SmtpSink, to: str) -> list[str]:
    return [m["Subject"] for m in sink.messages if m["To"] == to]


def appointments_mailed(sink: SmtpSink, to: str) -> list[str]:
    """The appointment numbers (SA-...) of the mails to `to`, one per mail, sorted."""
    bodies = [m.get_body(("plain",)).get_content() for m in sink.messages if m["To"] == to]
    return sorted(re.search(r"appointment (SA-\d+)", body).group(1) for body in bodies)


@contextmanager
def held_back(url: str, table: str = "appointments"):
    """Hold the processes at their first write to `table` (the expiry's appointments, the
    SLA pass's milestones) until all of them wait there, then let them go together;
    yields `all_waiting(processes)` to poll.

    PostgreSQL: an EXCLUSIVE lock on the table stops each UPDATE or SELECT ... FOR UPDATE
    there (reads and the outbox go on), and pg_locks shows who waits. SQLite: the write
    lock (BEGIN IMMEDIATE) stops each process at its first transaction; one that has the
    file open waits there.
    """
    engine = make_engine(url, poolclass=NullPool)
    path = url.removeprefix("sqlite:///")

    def all_waiting(processes, *, at_least: int | None = None) -> bool:
        """Whether every process (or `at_least` of them) waits at the expiry."""
        wanted = len(processes) if at_least is None else at_least
        if engine.dialect.name == "sqlite":
            return sum(_has_open(process.pid, path) for process in processes) >= wanted
        with engine.connect() as connection:
            waiting = connection.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_locks "
                    "WHERE relation = CAST(:table AS regclass) AND NOT granted"
                ),
                {"table": table},
            )
        # At least one wait per process (another job of a process may wait there too).
        return waiting >= wanted

    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            yield all_waiting
    finally:
        engine.dispose()


def _has_open(pid: int, path: str) -> bool:
    folder = Path(f"/proc/{pid}/fd")
    try:
        return any(os.path.realpath(fd) == os.path.realpath(path) for fd in folder.iterdir())
    except FileNotFoundError:  # the process is gone, or a descriptor closed meanwhile
        return False


@pytest.fixture
def processes(database_url):
    """The scheduler processes a test starts; whatever still runs at the end is killed,
    and APScheduler's job table (not the migrations') is dropped."""
    started: list = []
    yield started
    kill(*started)
    drop_job_table(database_url)


@pytest.mark.slow
def test_a_restart_neither_repeats_an_expiry_nor_loses_one_due_while_down(
    database_url, tmp_path, smtp_server, processes
):
    instance, log = tmp_path / "instance", tmp_path / "scheduler.log"
    now = now_utc()
    with database(database_url, instance) as session:
        contact = set_up_people(session)
        first = awaiting_confirmation(
            session, contact, deadline=now - timedelta(minutes=1), days_ahead=3
        )
        second = awaiting_confirmation(
            session, contact, deadline=now + timedelta(hours=1), days_ahead=4
        )

    processes.append(start_scheduler(database_url, instance, smtp_server, log))
    wait_for(lambda: len(mails_to(smtp_server, CUSTOMER)) == 1)
    wait_for(lambda: len(mails_to(smtp_server, SCHEDULER)) == 1)
    assert stop(processes[-1]) == 0
    with database(database_url, instance) as session:
        first_expired_at = session.get(Appointment, first).confirm_expired_at
        assert session.get(Appointment, second).confirm_expired_at is None
        # While the process is down, the second request's deadline passes. (Written
        # directly: the deadline service refuses a deadline in the past, as it should.)
        session.get(Appointment, second).confirm_deadline = now_utc() - timedelta(seconds=1)

    processes.append(start_scheduler(database_url, instance, smtp_server, log))
    wait_for(lambda: len(mails_to(smtp_server, CUSTOMER)) == 2)
    wait_for(lambda: len(mails_to(smtp_server, SCHEDULER)) == 2)
    time.sleep(0.5)  # anything announced twice would arrive now
    assert stop(processes[-1]) == 0

    assert len(smtp_server.messages) == 4
    with database(database_url, instance) as session:
        numbers = [session.get(Appointment, i).number for i in (first, second)]
        assert session.get(Appointment, first).confirm_expired_at == first_expired_at
        assert session.get(Appointment, second).confirm_expired_at is not None
        statuses = session.scalars(
            sa.select(OutboxMessage.status).where(OutboxMessage.channel != "event")
        ).all()
        events = session.scalars(
            sa.select(OutboxMessage.status).where(OutboxMessage.channel == "event")
        ).all()
    for to in (CUSTOMER, SCHEDULER):
        assert appointments_mailed(smtp_server, to) == numbers
    assert statuses == ["sent"] * 4
    assert events == ["sent"] * 2  # each expiry's event, expanded once
    assert log.read_text().count("Scheduler stopped") == 2


@pytest.mark.slow
def test_two_scheduler_processes_at_once_expire_and_send_everything_once(
    database_url, tmp_path, smtp_server, processes
):
    instance = tmp_path / "instance"
    now = now_utc()
    with database(database_url, instance) as session:
        contact = set_up_people(session)
        expiring = [
            awaiting_confirmation(
                session, contact, deadline=now - timedelta(minutes=n + 1), days_ahead=n + 2
            )
            for n in range(3)
        ]
        for n in range(3):
            queue_email(session, to=f"queued{n}@example.com", subject=f"Queued {n}", text="Hi")
    expected = 3 + 2 * len(expiring)  # the queued mails; a customer and a scheduler mail each

    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    with held_back(database_url) as all_waiting:
        processes.extend(start_scheduler(database_url, instance, smtp_server, log) for log in logs)
        # Usually both processes reach the expiry together and race there. They share one
        # job store, though: a process that reads it just after the other ran the job
        # waits for the job's next turn. So: release once one waits and the other has had
        # a few seconds to join it; exactly-once must hold either way.
        wait_for(lambda: all_waiting(processes, at_least=1), timeout=30)
        with contextlib.suppress(AssertionError):
            wait_for(lambda: all_waiting(processes), timeout=5)
    wait_for(lambda: len(smtp_server.messages) >= expected, timeout=30)
    time.sleep(0.5)  # anything sent twice would arrive now
    assert [stop(process) for process in processes] == [0, 0]

    sent = Counter((m["To"], m["Subject"]) for m in smtp_server.messages)
    assert len(smtp_server.messages) == expected
    assert set(sent.values()) == {1}
    with database(database_url, instance) as session:
        expired = session.scalars(
            sa.select(Appointment.confirm_expired_at).where(Appointment.id.in_(expiring))
        ).all()
        entries = session.scalar(
            sa.select(sa.func.count())
            .select_from(TimelineEntry)
            .where(TimelineEntry.action == "confirmation_expired")
        )
        statuses = session.scalars(
            sa.select(OutboxMessage.status).where(OutboxMessage.channel != "event")
        ).all()
        events = session.scalars(
            sa.select(OutboxMessage.status).where(OutboxMessage.channel == "event")
        ).all()
    assert None not in expired
    assert entries == len(expiring)
    assert statuses == ["sent"] * expected
    assert events == ["sent"] * len(expiring)
    for log in logs:
        text = log.read_text()
        assert "Scheduler started" in text
        assert "Traceback" not in text and "raised an exception" not in text


def missed_cases(session, count: int) -> None:
    """`count` cases opened three hours ago under a one-hour first-response target on a
    round-the-clock calendar: each is past its target, and its two actions on violation (tell
    the managers, e-mail the contact) may run at any hour."""
    create_user(session, role="manager", email=MANAGER)
    _user, account, contact = create_customer(session, email=CUSTOMER)
    calendar = BusinessCalendar(name="Always", time_zone="Europe/London")
    calendar.hours = [BusinessHours(weekday=d, start_minute=0, end_minute=1440) for d in range(7)]
    session.add(calendar)
    session.flush()
    process = create_process(
        session,
        ProcessData(
            name="Support", applies_to="case", rank=1, active=True, calendar_id=calendar.id
        ),
    )
    first = add_milestone(
        session, process, MilestoneData("first_response", "First response", 60, 60, 60, 60)
    )
    add_action(session, first, trigger="violation", action="notify_managers", outside_hours=True)
    add_action(session, first, trigger="violation", action="email_contact", outside_hours=True)
    real_now = now_utc()
    freeze(real_now - timedelta(hours=3))
    try:
        for n in range(count):
            open_case(
                session,
                account=account,
                contact=contact,
                subject=f"Help {n}",
                origin="Portal",
                by=contact.user,
            )
    finally:
        freeze(None)


def sla_mails(sink: SmtpSink, to: str) -> list[str]:
    """The SLA action's e-mails (not the "we received your request" of each new case)."""
    return [subject for subject in mails_to(sink, to) if subject.startswith("Your case")]


def test_two_scheduler_processes_released_together_run_each_sla_action_once(
    database_url, tmp_path, smtp_server, processes
):
    instance = tmp_path / "instance"
    count = 4
    with database(database_url, instance) as session:
        missed_cases(session, count)

    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    with held_back(database_url, table="milestones") as all_waiting:
        processes.extend(start_scheduler(database_url, instance, smtp_server, log) for log in logs)
        wait_for(lambda: all_waiting(processes, at_least=1), timeout=30)
        with contextlib.suppress(AssertionError):
            wait_for(lambda: all_waiting(processes), timeout=5)
    wait_for(lambda: len(sla_mails(smtp_server, CUSTOMER)) >= count, timeout=45)
    wait_for(lambda: len(mails_to(smtp_server, MANAGER)) >= count, timeout=45)
    time.sleep(1)  # anything sent twice would arrive now
    assert [stop(process) for process in processes] == [0, 0]

    assert len(sla_mails(smtp_server, CUSTOMER)) == count
    assert len(mails_to(smtp_server, MANAGER)) == count
    sent = Counter((m["To"], m["Subject"]) for m in smtp_server.messages)
    assert set(sent.values()) == {1}
    with database(database_url, instance) as session:
        runs = session.scalars(sa.select(SlaActionRun)).all()
        states = set(session.scalars(sa.select(Milestone.state)))
    assert len(runs) == 2 * count and all(run.sent_at is not None for run in runs)
    assert states == {"violated"}
    for log in logs:
        text = log.read_text()
        assert "Traceback" not in text and "raised an exception" not in text
