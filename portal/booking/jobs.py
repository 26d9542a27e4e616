"""The booking jobs the scheduler process runs (see portal/scheduler.py).

Each job is a module-level function, so the job store keeps it by reference
("portal.booking.jobs:expire_confirmations") and calls it with the app to run in; each
opens its own app context and session and commits once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from portal.background import run_soon
from portal.booking.announce import queue_reminders
from portal.booking.expiry import expire_confirmations as _expire_confirmations
from portal.db import get_session
from portal.timeutil import now_utc

log = logging.getLogger(__name__)


def expire_confirmations(app: Flask) -> None:
    """Lock and announce the confirmation requests whose deadline passed; commits once.

    The customer and the schedulers should hear at once, not at the next turn of the
    expander: when anything expired, its events are expanded now (which then sends).
    """
    _record_and_expand(app, _expire_confirmations, "Expired %d unanswered confirmation request(s)")


def send_reminders(app: Flask) -> None:
    """Record the 24-hour reminders for confirmed appointments; commits once."""
    _record_and_expand(app, queue_reminders, "Queued %d reminders")


def _record_and_expand(app: Flask, record: Callable[[Session, datetime], int], done: str) -> None:
    """Run `record` in its own session and commit once; when it recorded any event,
    expand the events now rather than at the expander's next turn."""
    with app.app_context():
        session = get_session()
        count = record(session, now_utc())
        session.commit()
    if count:
        log.info(done, count)
        run_soon("expand-events")
