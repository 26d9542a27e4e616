"""The scheduler process: `portal scheduler` runs the background jobs, in one process.

Why one process (TOOLING.md, "APScheduler 3.x"): a job store must never be shared by
two schedulers (each would run every job), so jobs cannot live inside the web workers,
of which production runs several. One `portal scheduler` beside them runs each job once.
Its jobs are kept in the database (table apscheduler_jobs, which Alembic leaves alone),
registered under fixed ids with replace_existing, so a restart updates the same rows
instead of adding copies. The jobs are idempotent besides (the outbox claims what it
sends, reminders carry a dedupe key): a second scheduler started by mistake would waste
work, not send an e-mail twice.

Later parts add their jobs to JOBS.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from portal.db import make_engine

log = logging.getLogger(__name__)

JOBSTORE_TABLE = "apscheduler_jobs"


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function", importable: the job store keeps the reference
    trigger_args: dict[str, Any] = field(default_factory=dict)


JOBS = (
    JobSpec("send-outbox", "portal.notifications.jobs:send_outbox", {"seconds": 30}),
    JobSpec("send-reminders", "portal.notifications.jobs:send_reminders", {"minutes": 5}),
)

_app: Flask | None = None
# Set when the process is asked to stop: a long job ends after its current step.
stopping = threading.Event()


def job_app() -> Flask:
    """The app the jobs run in: the scheduler's own, or one built from the environment."""
    global _app
    if _app is None:
        from portal import create_app

        _app = create_app()
    return _app


def build_scheduler(
    app: Flask, *, blocking: bool = True, engine: sa.Engine | None = None
) -> BaseScheduler:
    """A scheduler on the app's database with every job of JOBS registered (not started).

    Each job runs at once when the scheduler starts (then at its interval), never twice
    at a time, and missed runs collapse into one. `engine` (default: a new one on the
    app's DATABASE_URL) holds the job store.
    """
    global _app
    _app = app
    engine = engine or make_engine(app.config["DATABASE_URL"])
    store = SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)
    kind = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = kind(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone=UTC,
    )
    now = datetime.now(UTC)
    for spec in JOBS:
        scheduler.add_job(
            spec.func,
            "interval",
            id=spec.id,
            name=spec.id,
            replace_existing=True,
            next_run_time=now,
            **spec.trigger_args,
        )
    return scheduler


def run_scheduler(app: Flask) -> None:
    """Run the jobs until SIGTERM or SIGINT; a job that is running is let finish."""
    scheduler = build_scheduler(app, blocking=True)

    def stop(signum, _frame):
        log.info("Scheduler stopping (%s)", signal.Signals(signum).name)
        stopping.set()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    # Started in the background by a script (`make run`), SIGINT is ignored on purpose:
    # Ctrl-C then reaches the web server only, and the script stops us in order.
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, stop)
    log.info("Scheduler started with jobs: %s", ", ".join(spec.id for spec in JOBS))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        log.info("Scheduler stopped")
