"""Cron jobs in the scheduler: registered in the organisation's zone, not run when the
process starts, and a run that fell due while the process was down runs after a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal import scheduler
from portal.db import make_engine
from portal.scheduler import JobSpec
from tests import scheduler_process
from tests.scheduler_process import wait_for

WEEKLY = JobSpec.cron(
    "weekly-test", "tests.scheduler_process:record_run", day_of_week="mon", hour=7
)


@pytest.fixture
def engine(database_url, monkeypatch):
    """The job store's engine, with only the weekly test job registered."""
    monkeypatch.setattr(scheduler, "JOBS", (WEEKLY,))
    scheduler_process.runs.clear()
    scheduler_process.ran.clear()
    engine = make_engine(database_url)
    yield engine
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS apscheduler_jobs")
    # Shut down, APScheduler's thread may still look at the store once: dispose last.
    engine.dispose()
    scheduler._app = None
    scheduler._scheduler = None


def start_and_stop(app, engine, *, paused: bool = True):
    """Build the scheduler, start it (paused: jobs are stored, none runs), return the job."""
    background = scheduler.build_scheduler(app, blocking=False, engine=engine)
    background.start(paused=paused)
    job = background.get_job(WEEKLY.id)
    background.shutdown(wait=True)
    return job


def test_a_cron_job_runs_in_the_organisations_time_zone(app, engine):
    app.config["ORG_TIME_ZONE"] = "America/New_York"

    job = start_and_stop(app, engine)

    local = job.next_run_time.astimezone(ZoneInfo("America/New_York"))
    assert (local.weekday(), local.hour, local.minute) == (0, 7, 0)
    assert job.trigger.timezone == ZoneInfo("America/New_York")


def test_a_cron_job_waits_for_its_time_when_the_process_starts(app, engine):
    job = start_and_stop(app, engine)

    assert job.next_run_time > datetime.now(UTC)  # an interval job's would be "now"


def test_a_cron_run_missed_while_the_process_was_down_runs_after_the_restart(app, engine):
    start_and_stop(app, engine)
    # The process was down when the job fell due three hours ago.
    missed = datetime.now(UTC) - timedelta(hours=3)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE apscheduler_jobs SET next_run_time = :at WHERE id = :id"),
            {"at": missed.timestamp(), "id": WEEKLY.id},
        )

    background = scheduler.build_scheduler(app, blocking=False, engine=engine)
    background.start()
    try:
        wait_for(scheduler_process.ran.is_set, timeout=10)
        next_run = background.get_job(WEEKLY.id).next_run_time
    finally:
        background.shutdown(wait=True)

    assert len(scheduler_process.runs) == 1
    assert next_run > datetime.now(UTC)


def test_a_cron_job_not_yet_due_keeps_its_time_across_a_restart(app, engine):
    first = start_and_stop(app, engine)

    again = start_and_stop(app, engine)

    assert again.next_run_time == first.next_run_time
    assert scheduler_process.runs == []
