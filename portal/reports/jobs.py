"""The report jobs the scheduler process runs (registered in portal/scheduler.py)."""

from __future__ import annotations

import logging

from flask import Flask

from portal.db import get_session
from portal.reports import services
from portal.timeutil import now_utc

log = logging.getLogger(__name__)


def run_queued_reports(app: Flask) -> None:
    """Make the reports asked for over long ranges, oldest first."""
    with app.app_context():
        made = services.run_queued(get_session(), app.config["ORG_TIME_ZONE"])
        if made:
            log.info("Made %d queued reports", made)


def email_weekly_reports(app: Flask) -> None:
    """Mondays: last week's reports to the managers who subscribed."""
    with app.app_context():
        session = get_session()
        outcome = services.email_weekly(
            session, now_utc(), app.config["ORG_TIME_ZONE"], app.config["BASE_URL"]
        )
        session.commit()
        log.info(
            "Weekly reports: %d e-mailed, %d already sent, %d failed",
            outcome.sent,
            outcome.skipped,
            outcome.failed,
        )


def purge_expired_reports(app: Flask) -> None:
    """Delete report files kept past their week."""
    with app.app_context():
        session = get_session()
        removed = services.purge_expired(session, now_utc())
        session.commit()
        if removed:
            log.info("Removed %d expired reports", removed)
