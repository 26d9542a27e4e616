"""Fifty customers race for the last three places of one window.

Each attempt runs in its own process with its own database connection, so no lock
inside one Python process can make this pass: only the database's guard (the exclusion
constraint on PostgreSQL, the trigger under SQLite's single writer) decides.
"""

from __future__ import annotations

import multiprocessing as mp
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal import create_app, timeutil
from portal.accounts.models import ServiceLocation, User
from portal.booking.models import AppointmentHold, Service
from portal.booking.services import BookingRequest, WindowTaken, book_window
from portal.db import get_session
from tests.conftest import app_config
from tests.factories import (
    create_agent,
    create_customer,
    create_location,
    create_service,
    ensure_policy,
)

ATTEMPTS = 50
PLACES = 3
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
WINDOW = datetime(2026, 6, 2, 7, 0, tzinfo=UTC)  # Tuesday 08:00-10:00 London


def _attempt(url, instance, ids, barrier, results):
    """One customer's booking attempt, in a process of its own."""
    app = create_app(app_config(url, instance))
    with app.app_context():
        session = get_session()
        customer = session.get(User, ids["customer"])
        _ = customer.contact.account
        service = session.get(Service, ids["service"])
        location = session.get(ServiceLocation, ids["location"])
        session.commit()  # SQLite: free the write lock before the start signal
        barrier.wait(timeout=60)
        request = BookingRequest(
            customer=customer,
            service=service,
            location=location,
            window_start=WINDOW,
            idempotency_key=uuid.uuid4().hex,
        )
        try:
            book_window(session, request)
            session.commit()
            results.put("booked")
        except WindowTaken as taken:
            session.rollback()
            results.put("taken" if "just taken" in taken.message else f"odd: {taken.message}")
        except Exception as err:  # noqa: BLE001 - the test reports any other outcome
            session.rollback()
            results.put(f"error: {err!r}")
    app.extensions["portal.engine"].dispose()


@pytest.mark.slow
def test_fifty_concurrent_bookings_fill_the_last_places_exactly(database_url, tmp_path):
    timeutil.freeze(NOW)  # forked children inherit the frozen clock
    app = create_app(app_config(database_url, tmp_path / "instance"))
    with app.app_context():
        session = get_session()
        ensure_policy(session, window_minutes=120, min_notice_minutes=60, horizon_days=28)
        user, account, _contact = create_customer(session)
        location = create_location(session, account)
        service = create_service(session, duration_minutes=60)
        for _ in range(PLACES):
            create_agent(session)
        ids = {"customer": user.id, "service": service.id, "location": location.id}
        session.commit()
    app.extensions["portal.engine"].dispose()  # no pooled connection crosses a fork

    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(ATTEMPTS)
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=_attempt, args=(database_url, tmp_path / "instance", ids, barrier, results)
        )
        for _ in range(ATTEMPTS)
    ]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)

    assert sorted(set(outcomes)) == ["booked", "taken"], outcomes
    assert outcomes.count("booked") == PLACES
    assert outcomes.count("taken") == ATTEMPTS - PLACES
    with app.app_context():
        session = get_session()
        holds = session.scalars(sa.select(AppointmentHold)).all()
        assert len(holds) == PLACES
        assert len({h.agent_id for h in holds}) == PLACES
        for a in holds:
            for b in holds:
                if a.id != b.id and a.agent_id == b.agent_id:
                    assert a.ends_at <= b.starts_at or b.ends_at <= a.starts_at
        assert all(WINDOW <= h.starts_at < WINDOW + timedelta(hours=2) for h in holds)
    app.extensions["portal.engine"].dispose()
