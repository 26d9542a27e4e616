"""The webhook job the scheduler process runs (see portal/scheduler.py): "send-webhooks",
a job of its own beside the e-mail sender ("send-outbox"), so that a receiver that is
slow to answer delays other webhooks at most, never an e-mail."""

from __future__ import annotations

import logging

from portal.db import get_session
from portal.scheduler import job_app, stopping
from portal.timeutil import now_utc
from portal.webhooks.delivery import send_due_webhooks

log = logging.getLogger(__name__)

# 20 deliveries of at most DEADLINE_SECONDS each end well within the claim lease (10 min).
BATCH = 20
MAX_BATCHES = 50


def send_webhooks() -> None:
    """Deliver the webhooks that are due, batch after batch while batches come back full
    (each delivery is committed as it ends)."""
    with job_app().app_context():
        session = get_session()
        for _ in range(MAX_BATCHES):
            report = send_due_webhooks(session, now_utc(), limit=BATCH)
            if report.sent or report.retrying or report.failed:
                log.info(
                    "Webhooks: %d delivered, %d to retry, %d given up",
                    report.sent,
                    report.retrying,
                    report.failed,
                )
            if report.sent < BATCH or stopping.is_set():
                break
