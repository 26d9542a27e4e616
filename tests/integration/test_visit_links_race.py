"""The contact's visit link and schedulers book the same work order at the same instant,
each in a process of its own: one booking is made, every other request is told it is
booked (the work order's row lock and the link's conditional UPDATE decide, not a check
in Python). Two agents are free, so nothing but those guards stops a second booking."""

from __future__ import annotations

import multiprocessing as mp
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from portal import timeutil
from portal.accounts.models import User
from portal.app import create_app
from portal.booking.models import Appointment, Service, VisitLink
from portal.booking.services import AlreadyBooked, BookingRequest, book_work_order
from portal.booking.visit_links import VisitLinkClosed, book_from_link, issue_visit_link
from portal.db import get_session
from portal.workorders.models import WorkOrder
from tests.conftest import app_config
from tests.factories import NOW, build_world, create_work_order

WINDOW = datetime(2026, 6, 2, 7, 0, tzinfo=UTC)  # Tuesday 08:00-10:00 London
LINK_USES = 4
SCHEDULERS = 2


def _attempt(url, instance, ids, how, barrier, results):
    app = create_app(app_config(url, instance))
    with app.app_context():
        session = get_session()
        work_order = session.get(WorkOrder, ids["work_order"])
        link = session.get(VisitLink, ids["link"])
        _ = (work_order.contact, work_order.location, link.contact_id)
        session.commit()  # SQLite: free the write lock before the start signal
        barrier.wait(timeout=60)
        try:
            if how == "link":
                book_from_link(session, link, WINDOW, idempotency_key=uuid.uuid4().hex)
            else:
                request = BookingRequest(
                    customer=work_order.contact.user,
                    contact=work_order.contact,
                    service=session.get(Service, ids["service"]),
                    location=work_order.location,
                    window_start=WINDOW,
                    idempotency_key=uuid.uuid4().hex,
                    work_order=work_order,
                )
                book_work_order(session, request, actor=session.get(User, ids["scheduler"]))
            session.commit()
            results.put("booked")
        except (VisitLinkClosed, AlreadyBooked):
            session.rollback()
            results.put("told it is booked")
        except Exception as err:  # noqa: BLE001 - the test reports any other outcome
            session.rollback()
            results.put(f"error: {err!r}")
    app.extensions["portal.engine"].dispose()


@pytest.mark.slow
def test_the_link_and_schedulers_at_once_book_the_work_order_once(database_url, tmp_path):
    timeutil.freeze(NOW)  # forked children inherit the frozen clock
    app = create_app(app_config(database_url, tmp_path / "instance"))
    with app.app_context():
        session = get_session()
        world = build_world(session, agents=2, scheduler={})
        work_order = create_work_order(
            session,
            account=world.account,
            contact=world.contact,
            location=world.location,
            owner_kind="order",
        )
        issue_visit_link(session, work_order, world.contact, world.service, by=world.scheduler)
        ids = {
            "work_order": work_order.id,
            "link": session.scalar(sa.select(VisitLink.id)),
            "service": world.service.id,
            "scheduler": world.scheduler.id,
        }
        session.commit()
    app.extensions["portal.engine"].dispose()  # no pooled connection crosses a fork

    ctx = mp.get_context("fork")
    hows = ["link"] * LINK_USES + ["scheduler"] * SCHEDULERS
    barrier = ctx.Barrier(len(hows))
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=_attempt,
            args=(database_url, tmp_path / "instance", ids, how, barrier, results),
        )
        for how in hows
    ]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)

    assert sorted(outcomes) == ["booked"] + ["told it is booked"] * (len(hows) - 1), outcomes
    with app.app_context():
        session = get_session()
        (appt,) = session.scalars(sa.select(Appointment)).all()
        assert appt.work_order_id == ids["work_order"]
        assert session.get(WorkOrder, ids["work_order"]).status == "scheduled"
        assert session.get(VisitLink, ids["link"]).appointment_id == appt.id
    app.extensions["portal.engine"].dispose()
    timeutil.freeze(None)
