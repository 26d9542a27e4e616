"""The clean-up job "purge-counters" forgets request counters of clients that never came
back (API and calendar-feed rate windows, failed log-ins) and keeps those that still
count. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal import ratelimit, scheduler
from portal.accounts.models import LoginAttempt
from portal.cleanup import purge_request_counters
from portal.ratelimit import RateCounter, count_request
from tests.factories import NOW

# On a window start (a whole minute).


def buckets(session) -> set[str]:
    session.expire_all()
    return set(session.scalars(sa.select(RateCounter.bucket)))


def attempts(session) -> set[str]:
    session.expire_all()
    return set(session.scalars(sa.select(LoginAttempt.remote_addr)))


def test_the_clean_up_job_is_scheduled_hourly():
    (spec,) = [s for s in scheduler.JOBS if s.id == "purge-counters"]

    assert spec.func == "portal.cleanup:purge_request_counters"
    assert spec.trigger_args == {"hours": 1}


def test_rate_windows_of_clients_gone_for_an_hour_are_purged_and_live_ones_kept(
    app, session, frozen_now, monkeypatch
):
    gone_at = NOW - timedelta(hours=1, seconds=1)
    count_request(session, "addr:198.51.100.7", gone_at, window_seconds=60)
    count_request(session, "feed-addr:198.51.100.8", gone_at, window_seconds=60)
    count_request(session, "user:7", NOW - timedelta(minutes=30), window_seconds=60)
    count_request(session, "addr:203.0.113.9", NOW, window_seconds=60)
    session.commit()
    frozen_now(NOW)

    purge_request_counters(app)

    assert buckets(session) == {"user:7", "addr:203.0.113.9"}


def test_failed_log_ins_older_than_the_lock_are_purged_and_recent_ones_kept(
    app, session, frozen_now, monkeypatch
):
    app.config["LOGIN_LOCK_MINUTES"] = 15
    session.add_all(
        [
            LoginAttempt(
                email="a@example.com", remote_addr="198.51.100.7", at=NOW - timedelta(minutes=16)
            ),
            LoginAttempt(
                email="b@example.com", remote_addr="203.0.113.9", at=NOW - timedelta(minutes=14)
            ),
        ]
    )
    session.commit()
    frozen_now(NOW)

    purge_request_counters(app)

    assert attempts(session) == {"203.0.113.9"}


def test_a_purged_address_that_comes_back_starts_afresh(
    app, session, client, frozen_now, monkeypatch
):
    app.config["API_AUTH_FAILURE_LIMIT"] = 1
    frozen_now(NOW)
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 429
    frozen_now(NOW + ratelimit.LONGEST_WINDOW)

    purge_request_counters(app)

    assert buckets(session) == set()
    assert client.get("/api/v1/me").status_code == 401
