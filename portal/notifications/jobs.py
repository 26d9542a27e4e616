"""The notification jobs the scheduler process runs (see portal/scheduler.py).

Each job is a module-level function, so the job store keeps it by reference
("portal.notifications.jobs:send_outbox"); each opens its own app context and session.
"""

from __future__ import annotations

import logging

from portal.db import get_session
from portal.notifications.events import queue_reminders
from portal.notifications.services import send_due
from portal.scheduler import job_app, stopping
from portal.timeutil import now_utc

log = logging.getLogger(__name__)

BATCH = 50
MAX_BATCHES = 20


def send_outbox() -> None:
    """Send the e-mails that are due, batch after batch while batches come back full
    (send_due commits after each message); a backlog goes out in one run, not 50 a run."""
    with job_app().app_context():
        session = get_session()
        for _ in range(MAX_BATCHES):
            report = send_due(session, now_utc(), limit=BATCH)
            if report.sent or report.retrying or report.failed:
                log.info(
                    "Outbox: %d sent, %d to retry, %d given up",
                    report.sent,
                    report.retrying,
                    report.failed,
                )
            if report.sent < BATCH or stopping.is_set():
                break


def send_reminders() -> None:
    """Queue the 24-hour reminders for confirmed appointments; commits once."""
    with job_app().app_context():
        session = get_session()
        count = queue_reminders(session, now_utc())
        session.commit()
        if count:
            log.info("Queued %d reminders", count)
