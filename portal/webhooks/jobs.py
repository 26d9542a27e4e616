"""The webhook job the scheduler process runs (see portal/scheduler.py): "send-webhooks",
a job of its own beside the e-mail sender ("send-outbox"), so that a receiver that is
slow to answer delays other webhooks at most, never an e-mail."""

from __future__ import annotations

from flask import Flask

from portal.notifications.jobs import drain
from portal.webhooks.delivery import send_due_webhooks

# 20 deliveries of at most DEADLINE_SECONDS each end well within the claim lease (10 min).
BATCH = 20
MAX_BATCHES = 50


def send_webhooks(app: Flask) -> None:
    """Deliver the webhooks that are due (each delivery is committed as it ends)."""
    drain(app, send_due_webhooks, batch=BATCH, most=MAX_BATCHES, what="Webhooks")
