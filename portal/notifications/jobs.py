"""The notification jobs the scheduler process runs (see portal/scheduler.py).

Each job is a module-level function, so the job store keeps it by reference
("portal.notifications.jobs:send_outbox"); each opens its own app context and session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from portal.db import get_session
from portal.notifications.events import queue_reminders
from portal.notifications.services import SendReport, send_due
from portal.scheduler import job_app, stopping
from portal.timeutil import now_utc

log = logging.getLogger(__name__)

BATCH = 50
MAX_BATCHES = 20


def drain(send_batch: Callable[[int], SendReport], *, batch: int, most: int, what: str) -> None:
    """Call `send_batch(batch)` again while batches come back full (a backlog goes out in
    one run), at most `most` times, stopping early when the process is asked to stop."""
    with job_app().app_context():
        for _ in range(most):
            report = send_batch(batch)
            if report.sent or report.retrying or report.failed:
                log.info(
                    "%s: %d sent, %d to retry, %d given up",
                    what,
                    report.sent,
                    report.retrying,
                    report.failed,
                )
            if report.sent < batch or stopping.is_set():
                break


def send_outbox() -> None:
    """Send the e-mails that are due (send_due commits after each message)."""
    drain(
        lambda limit: send_due(get_session(), now_utc(), limit=limit),
        batch=BATCH,
        most=MAX_BATCHES,
        what="Outbox",
    )


def send_reminders() -> None:
    """Queue the 24-hour reminders for confirmed appointments; commits once."""
    with job_app().app_context():
        session = get_session()
        count = queue_reminders(session, now_utc())
        session.commit()
        if count:
            log.info("Queued %d reminders", count)
