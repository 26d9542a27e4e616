"""The webhook job the scheduler process runs (see portal/scheduler.py): "send-webhooks",
a job of its own beside the e-mail sender ("send-outbox"), so that a receiver that is
slow to answer delays other webhooks at most, never an e-mail."""

from __future__ import annotations

import logging

from flask import Flask

from portal.db import get_session
from portal.notifications.jobs import drain
from portal.timeutil import now_utc
from portal.webhooks.delivery import send_due_webhooks

log = logging.getLogger(__name__)

# 20 deliveries of at most DEADLINE_SECONDS each end well within the claim lease (10 min).
BATCH = 20
MAX_BATCHES = 50


def send_webhooks(app: Flask) -> None:
    """Deliver the webhooks that are due (each delivery is committed as it ends)."""
    drain(
        app,
        lambda limit: send_due_webhooks(get_session(), now_utc(), limit=limit),
        batch=BATCH,
        most=MAX_BATCHES,
        what="Webhooks",
    )
