"""Scheduled clean-up of log-in sessions ("purge-sessions", registered in portal/scheduler.py)."""

from __future__ import annotations

import logging

from flask import Flask

from portal.accounts import sessions
from portal.db import get_session
from portal.timeutil import now_utc

log = logging.getLogger(__name__)


def purge_sessions(app: Flask) -> None:
    """Delete session rows that can never be live again (revoked, idle, past their
    lifetime or their remember-me days): a replayed id then finds no row at all."""
    with app.app_context():
        session = get_session()
        removed = sessions.purge_ended_sessions(
            session, now_utc(), sessions.Limits.from_config(app.config)
        )
        session.commit()
        if removed:
            log.info("Purged %d ended sessions", removed)
