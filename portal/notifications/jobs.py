"""The notification jobs the scheduler process runs (see portal/scheduler.py).

Each job is a module-level function, so the job store keeps it by reference
("portal.notifications.jobs:send_outbox") and calls it with the app to run in; each
opens its own app context and session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask

from portal.background import run_soon, stopping
from portal.db import get_session
from portal.notifications.events import expand_due
from portal.notifications.services import SendReport, purge_secret_bodies, send_due
from portal.timeutil import now_utc

log = logging.getLogger(__name__)

BATCH = 50
MAX_BATCHES = 20
# A round expands at most one event per subject (so a subject's events keep their order):
# rounds go on while they find events, up to EXPAND_ROUNDS per run.
EXPAND_BATCH = 100
EXPAND_ROUNDS = 50


def drain(app: Flask, send: Callable[..., SendReport], *, batch: int, most: int, what: str) -> None:
    """Call `send(session, now, limit=batch)` again while batches come back full (a
    backlog goes out in one run), at most `most` times, stopping early when the process
    is asked to stop."""
    with app.app_context():
        for _ in range(most):
            report = send(get_session(), now_utc(), limit=batch)
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


def send_outbox(app: Flask) -> None:
    """Send the e-mails that are due (send_due commits after each message)."""
    drain(app, send_due, batch=BATCH, most=MAX_BATCHES, what="Outbox")


def purge_mail_bodies(app: Flask) -> None:
    """Remove the bodies of sent e-mails that still hold a private link (sent before the
    sender removed them at once, or kept by the development setting since turned off)."""
    if app.config.get("MAIL_VIEWER_SHOWS_LINKS"):
        return  # a developer follows the links from /admin/mail
    with app.app_context():
        session = get_session()
        removed = 0
        while batch := purge_secret_bodies(session, now_utc()):
            session.commit()
            removed += batch
            if stopping.is_set():
                break
        session.commit()
        if removed:
            log.info("Removed the bodies of %d sent e-mails holding private links", removed)


def expand_events(app: Flask) -> None:
    """Expand the recorded events into notices, e-mails and webhook deliveries, then ask
    the senders to run now. Each round commits once: the rows an event expands into and
    its "sent" mark together (see portal/notifications/events.py)."""
    expanded = 0
    with app.app_context():
        session = get_session()
        for _ in range(EXPAND_ROUNDS):
            report = expand_due(session, now_utc(), limit=EXPAND_BATCH)
            session.commit()
            session.expire_all()  # the next round reads what others changed meanwhile
            expanded += report.expanded
            if report.retrying or report.failed:
                log.warning("Events: %d to retry, %d given up", report.retrying, report.failed)
            if not report.claimed or stopping.is_set():
                break
    if expanded:
        log.info("Expanded %d event(s)", expanded)
        run_soon("send-outbox")
        run_soon("send-webhooks")
