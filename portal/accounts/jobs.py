"""Scheduled clean-up of log-in sessions ("purge-sessions", registered in portal/scheduler.py)."""

from __future__ import annotations

import logging

from portal.accounts import sessions
from portal.db import get_session
from portal.scheduler import job_app
from portal.timeutil import now_utc

log = logging.getLogger(__name__)


def purge_sessions() -> None:
    """Delete session rows that can never be live again (revoked, idle, past their
    lifetime or their remember-me days): a replayed id then finds no row at all."""
    app = job_app()
    with app.app_context():
        session = get_session()
        removed = sessions.purge_ended_sessions(
            session, now_utc(), sessions.Limits.from_config(app.config)
        )
        session.commit()
        if removed:
            log.info("Purged %d ended sessions", removed)
