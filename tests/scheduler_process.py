"""Run `portal scheduler` as a real process in tests: start it on a database with a
given SMTP server, poll for what it did, stop it as an operator would (SIGTERM).

Used by tests/integration/test_scheduler.py and test_scheduler_process.py.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from portal.timeutil import CLOCK_OFFSET_VARIABLE
from tests.conftest import SECRET_KEY, report_clock
from tests.smtp_sink import SmtpSink

PORTAL = Path(sys.executable).parent / "portal"


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll `predicate` every 50 ms until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def start_scheduler(url: str, instance: Path, sink: SmtpSink, log: Path) -> subprocess.Popen:
    """`portal scheduler` on `url`, sending to `sink`, its output appended to `log`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=url,
        PORTAL_INSTANCE_PATH=str(instance),
        PORTAL_SECRET_KEY=SECRET_KEY,
        PORTAL_SMTP_HOST="127.0.0.1",
        PORTAL_SMTP_PORT=str(sink.port),
    )
    if CLOCK_OFFSET_VARIABLE in os.environ:  # make test-calendar: the same moved clock
        env[CLOCK_OFFSET_VARIABLE] = os.environ[CLOCK_OFFSET_VARIABLE]
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        start = out.tell()
        process = subprocess.Popen([str(PORTAL), "scheduler"], env=env, stdout=out, stderr=out)
    process.portal_log = (log, start)  # where its own lines begin, for report_clock
    return process


def stop(process: subprocess.Popen) -> int:
    """SIGTERM, as systemd or `make run` would; returns the exit status."""
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=45)  # generous: a loaded CI box starts and stops slowly
    _report_started_at(process)
    return status


_STARTED_AT = re.compile(rb"Scheduler started at (\S+)")


def _report_started_at(process: subprocess.Popen) -> None:
    """Pass on the instant the process's clock read at start (make test-calendar)."""
    log, start = process.portal_log
    with log.open("rb") as lines:
        lines.seek(start)
        found = _STARTED_AT.search(lines.read())
    if found:
        report_clock("scheduler process", found.group(1).decode())


def kill(*processes: subprocess.Popen) -> None:
    """For a test's `finally`: end whatever is still running after a failure."""
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def stored_job_ids(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT id FROM apscheduler_jobs ORDER BY id"))
            return [row.id for row in rows]
    finally:
        engine.dispose()


def drop_job_table(url: str) -> None:
    """The job table is APScheduler's, not the migrations': drop it after a test."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS apscheduler_jobs")
    finally:
        engine.dispose()


# A job target for in-process scheduler tests ("tests.scheduler_process:record_run"):
# the job store keeps functions by reference, so it must live in an importable module.
runs: list[float] = []
ran = threading.Event()


def record_run(_app) -> None:
    runs.append(time.time())
    ran.set()
