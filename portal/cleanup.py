"""Clean-up that belongs to no one domain, run by the scheduler process ("purge-counters",
registered in portal/scheduler.py).

Request counters keep a row per client address (API and calendar-feed rate windows,
failed log-ins). A client that comes back replaces its own old rows; one that never
does would leave them for ever, so this job deletes every row too old to count.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask

from portal import ratelimit
from portal.accounts.services import purge_login_attempts
from portal.db import get_session
from portal.timeutil import now_utc

log = logging.getLogger(__name__)


def purge_request_counters(app: Flask) -> None:
    """Delete rate windows that have ended and failed log-ins older than the log-in lock."""
    with app.app_context():
        session = get_session()
        now = now_utc()
        windows = ratelimit.purge_stale(session, now)
        lock = timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"])
        attempts = purge_login_attempts(session, now - lock)
        session.commit()
        if windows or attempts:
            log.info("Purged %d rate windows and %d failed log-ins", windows, attempts)
