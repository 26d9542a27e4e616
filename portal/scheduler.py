"""The scheduler process: `portal scheduler` runs the background jobs, in one process.

Why one process (TOOLING.md, "APScheduler 3.x"): a job store must never be shared by
two schedulers (each would run every job), so jobs cannot live inside the web workers,
of which production runs several. One `portal scheduler` beside them runs each job once.
Its jobs are kept in the database (table apscheduler_jobs, which Alembic leaves alone),
registered under fixed ids with replace_existing, so a restart updates the same rows
instead of adding copies. The jobs are idempotent besides (the outbox claims what it
sends, events are expanded under a row lock with their "sent" mark, reminders carry a
dedupe key, expiries are claimed by a conditional UPDATE): a
second scheduler started by mistake would waste work, not send an e-mail twice
(tests/integration/test_scheduler_process.py runs two at once to show it).

Later parts add their jobs to JOBS: `JobSpec.every(...)` for an interval (the job also
runs as soon as the process starts), `JobSpec.cron(...)` for wall-clock times in the
organisation's time zone (ORG_TIME_ZONE), e.g. Mondays 07:00:

    JobSpec.cron("email-weekly-reports", "portal.reports.jobs:email_weekly_reports",
                 day_of_week="mon", hour=7)

A cron run missed while the process was down is not lost: it runs once when the
process is back (however late; several missed runs collapse into one).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import ref_to_obj
from flask import Flask

from portal import background
from portal.background import stopping
from portal.db import make_engine
from portal.timeutil import now_utc

log = logging.getLogger(__name__)

JOBSTORE_TABLE = "apscheduler_jobs"


# In-memory store for one-off runs asked for by run_soon(): they need no restart-safety
# (the regular schedule covers them) and must not land in the shared table.
SOON_STORE = "soon"


@dataclass(frozen=True)
class JobSpec:
    """One job of the process, registered under a fixed id.

    kind "interval": `trigger_args` are IntervalTrigger's (seconds=30); the job also runs
    when the process starts. kind "cron": they are CronTrigger's fields (day_of_week="mon",
    hour=7), read in the organisation's zone, so 07:00 stays 07:00 local across DST.
    """

    id: str
    func: str  # "module:function", importable: the job store keeps the reference
    trigger_args: dict[str, Any] = field(default_factory=dict)
    kind: Literal["interval", "cron"] = "interval"

    def __post_init__(self) -> None:
        # A typo in a field name fails at import, not at 07:00 on a Monday.
        self.trigger("UTC")
        # IntervalTrigger() alone means every second: surely a mistake.
        units = ("weeks", "days", "hours", "minutes", "seconds")
        if self.kind == "interval" and not any(self.trigger_args.get(u) for u in units):
            raise ValueError(f"job {self.id!r} needs an interval, e.g. seconds=30")

    @classmethod
    def every(cls, id: str, func: str, **interval: int) -> JobSpec:
        """Run every `interval` (weeks, days, hours, minutes, seconds), and at start."""
        return cls(id, func, interval)

    @classmethod
    def cron(cls, id: str, func: str, **fields: int | str) -> JobSpec:
        """Run at the wall-clock times the cron `fields` give, in the organisation's zone."""
        return cls(id, func, fields, kind="cron")

    def trigger(self, time_zone: str) -> BaseTrigger:
        """The APScheduler trigger; `time_zone` is the organisation's (cron jobs only)."""
        if self.kind == "interval":
            return IntervalTrigger(timezone=UTC, **self.trigger_args)
        if self.kind == "cron":
            return CronTrigger(timezone=ZoneInfo(time_zone), **self.trigger_args)
        raise ValueError(f"unknown kind of job {self.kind!r}")


JOBS = (
    JobSpec.every("send-outbox", "portal.notifications.jobs:send_outbox", seconds=30),
    JobSpec.every("send-webhooks", "portal.webhooks.jobs:send_webhooks", seconds=30),
    # Woken at once when an event commits (see WAKE_CHANNEL); the interval is a backstop.
    JobSpec.every("expand-events", "portal.notifications.jobs:expand_events", seconds=30),
    JobSpec.every("send-reminders", "portal.booking.jobs:send_reminders", minutes=5),
    JobSpec.every("expire-confirmations", "portal.booking.jobs:expire_confirmations", minutes=1),
    # Milestones whose state may change by time alone, then the SLA actions that are due.
    JobSpec.every("evaluate-milestones", "portal.sla.jobs:evaluate_milestones", seconds=30),
    JobSpec.every("run-reports", "portal.reports.jobs:run_queued_reports", seconds=5),
    JobSpec.every("purge-reports", "portal.reports.jobs:purge_expired_reports", hours=1),
    JobSpec.every("purge-counters", "portal.cleanup:purge_request_counters", hours=1),
    JobSpec.every("purge-sessions", "portal.accounts.jobs:purge_sessions", hours=1),
    JobSpec.every("purge-mail-bodies", "portal.notifications.jobs:purge_mail_bodies", hours=1),
    # Files dropped into the watched folders (the account feed's PORTAL_FEED_DIR).
    JobSpec.every("pick-up-imports", "portal.imports.jobs:pick_up_dropped_files", seconds=60),
    JobSpec.cron(
        "email-weekly-reports",
        "portal.reports.jobs:email_weekly_reports",
        day_of_week="mon",
        hour=7,
    ),
)

_app: Flask | None = None
_scheduler: BaseScheduler | None = None


def run_job(func: str) -> None:
    """What the job store runs: the job function `func` ("module:function"), given the
    scheduler's app. Jobs never build an app of their own."""
    if _app is None:
        raise RuntimeError("no scheduler app: build_scheduler() sets it")
    ref_to_obj(func)(_app)


def build_scheduler(
    app: Flask, *, blocking: bool = True, engine: sa.Engine | None = None
) -> BaseScheduler:
    """A scheduler on the app's database with every job of JOBS registered (not started).

    Interval jobs run at once when the scheduler starts, then at their interval; cron
    jobs at their next time, or at once when a run was due while the process was down.
    A job never runs twice at a time, and missed runs collapse into one. `engine`
    (default: a new one on the app's DATABASE_URL) holds the job store.
    """
    global _app, _scheduler
    _app = app
    engine = engine or make_engine(app.config["DATABASE_URL"])
    store = SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)
    _create_jobstore_table(store)
    kind = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = kind(
        jobstores={"default": store, SOON_STORE: MemoryJobStore()},
        # A thread for every job (and spares for run_soon): a job that waits (a slow
        # webhook receiver, a long report, a lock) never holds another one back.
        executors={"default": ThreadPoolExecutor(max_workers=len(JOBS) + 2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone=UTC,
    )
    now = datetime.now(UTC)
    stored = _stored_run_times(engine)
    for spec in JOBS:
        options: dict[str, Any] = {}
        if spec.kind == "interval":
            options["next_run_time"] = now
        else:
            # replace_existing would otherwise compute the next time from now and skip
            # a run that fell due while the process was down: keep a due stored time.
            due = stored.get(spec.id)
            if due is not None and due <= now:
                options["next_run_time"] = due
            options["misfire_grace_time"] = None  # late is better than lost
        scheduler.add_job(
            run_job,
            spec.trigger(app.config["ORG_TIME_ZONE"]),
            args=[spec.func],
            id=spec.id,
            name=spec.id,
            replace_existing=True,
            **options,
        )
    _scheduler = scheduler
    background.set_runner(run_soon)
    return scheduler


def run_soon(job_id: str) -> bool:
    """Ask the scheduler running in this process to run job `job_id` once now, beside its
    schedule (e.g. send the outbox right after queuing alerts); False when none runs here.

    The one-off run is a job of its own, so a run of the regular job in progress does not
    make APScheduler skip it; the jobs are safe to run side by side (they claim rows).
    """
    spec = next((s for s in JOBS if s.id == job_id), None)
    if spec is None:
        raise ValueError(f"no job {job_id!r}")
    scheduler = _scheduler
    if scheduler is None or not scheduler.running:
        return False
    scheduler.add_job(
        run_job,
        "date",
        args=[spec.func],
        run_date=datetime.now(UTC),
        name=f"{job_id} (now)",
        jobstore=SOON_STORE,
        misfire_grace_time=None,
    )
    return True


def _create_jobstore_table(store: SQLAlchemyJobStore) -> None:
    """Create the job table if missing, tolerating another scheduler doing the same.

    APScheduler checks and then creates; two processes starting together on PostgreSQL
    can both find no table, and the slower CREATE then fails. The table exists either
    way, which is all we need.
    """
    try:
        store.jobs_t.create(store.engine, checkfirst=True)
    except sa.exc.DBAPIError:
        if not sa.inspect(store.engine).has_table(JOBSTORE_TABLE):
            raise


def _stored_run_times(engine: sa.Engine) -> dict[str, datetime]:
    """The next run time the job table holds for each job (none for a paused one)."""
    table = sa.table(JOBSTORE_TABLE, sa.column("id"), sa.column("next_run_time"))
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(table.c.id, table.c.next_run_time).where(table.c.next_run_time.is_not(None))
        ).all()
    return {row.id: datetime.fromtimestamp(row.next_run_time, UTC) for row in rows}


# --- waking a job from another process -------------------------------------------------
#
# A transaction asks for a job to run at once with NOTIFY portal_wake, '<job id>', which
# PostgreSQL delivers when (and only if) it commits: the outbox trigger of migration 0009
# does so for every event row, so a web worker's booking wakes "expand-events" here.
# SQLite has no NOTIFY: the jobs in POLLED are woken when their check ("module:function",
# called with a read-only connection and the time) finds work, asked every POLL_SECONDS.
# Wakes closer together than WAKE_GAP are run once, at its end: a burst of bookings
# starts a few runs, not one each (a run takes all that is due).

WAKE_CHANNEL = "portal_wake"
POLLED = {"expand-events": "portal.notifications.events:events_pending"}
POLL_SECONDS = 1.0
WAKE_GAP = 0.1


def start_waker(url: str) -> threading.Thread:
    """Run woken jobs now, until the process stops: LISTEN on PostgreSQL, a poll on SQLite."""
    target = _listen if url.startswith("postgresql") else _poll
    thread = threading.Thread(target=target, args=(url,), name="scheduler-waker", daemon=True)
    thread.start()
    return thread


def _listen(url: str) -> None:
    import psycopg

    dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    known = {spec.id for spec in JOBS}
    while not stopping.is_set():
        try:
            with psycopg.connect(dsn, autocommit=True) as connection:
                connection.execute(f"LISTEN {WAKE_CHANNEL}")
                # What committed while nobody listened is woken for too.
                _wake_loop(connection, owed=set(POLLED), known=known)
        except psycopg.Error as exc:
            log.warning("Cannot listen for wake-ups (%s); trying again in 5 s", exc)
            stopping.wait(5)


def _wake_loop(connection, *, owed: set[str], known: set[str]) -> None:
    last = 0.0
    while not stopping.is_set():
        gap_left = last + WAKE_GAP - time.monotonic()
        if owed and gap_left <= 0:
            for job_id in sorted(owed):
                run_soon(job_id)
            owed.clear()
            last = time.monotonic()
            continue
        # Owed: gather more until the gap ends; otherwise wait (a second at most, so a
        # stop is seen) for the first.
        for notice in connection.notifies(timeout=gap_left if owed else 1.0, stop_after=1):
            if notice.payload in known:
                owed.add(notice.payload)


def _poll(url: str) -> None:
    # A plain engine, not make_engine's: its BEGIN IMMEDIATE would take the write lock.
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    checks = {job_id: ref_to_obj(ref) for job_id, ref in POLLED.items()}
    try:
        while not stopping.wait(POLL_SECONDS):
            try:
                with engine.connect() as connection:
                    due = [
                        job_id for job_id, check in checks.items() if check(connection, now_utc())
                    ]
            except sa.exc.DBAPIError as exc:
                log.warning("Cannot look for work to wake (%s)", exc)
                continue
            for job_id in due:
                run_soon(job_id)
    finally:
        engine.dispose()


def run_scheduler(app: Flask) -> None:
    """Run the jobs until SIGTERM or SIGINT; a job that is running is let finish."""
    scheduler = build_scheduler(app, blocking=True)
    start_waker(app.config["DATABASE_URL"])
    # The shutdown runs in a thread of its own. Raising SystemExit from the signal
    # handler instead could land inside APScheduler while it starts a job's thread,
    # where it is caught and logged, and the process would run on (seen in CI).
    shutdown = threading.Thread(
        target=scheduler.shutdown, kwargs={"wait": True}, name="scheduler-shutdown"
    )

    def stop(signum, _frame):
        if stopping.is_set():
            return
        log.info("Scheduler stopping (%s)", signal.Signals(signum).name)
        stopping.set()
        shutdown.start()  # start() below returns once the main loop sees it

    signal.signal(signal.SIGTERM, stop)
    # Started in the background by a script (`make run`), SIGINT is ignored on purpose:
    # Ctrl-C then reaches the web server only, and the script stops us in order.
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, stop)
    # The clock it reads, in so many words: an operator (or a test run under a fake
    # clock) can see at once which time the jobs act on.
    log.info(
        "Scheduler started at %s with jobs: %s",
        now_utc().isoformat(timespec="seconds"),
        ", ".join(spec.id for spec in JOBS),
    )
    try:
        scheduler.start()
    finally:
        if shutdown.is_alive():
            shutdown.join()
        elif scheduler.running:
            scheduler.shutdown(wait=True)
        log.info("Scheduler stopped")
