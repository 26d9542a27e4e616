"""Work the customer never signs off: a scheduler closes its work order with a reason
(the spine's move completed -> closed), from the staff appointment page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.booking.lifecycle import close_without_sign_off
from portal.booking.steps import Actor
from portal.errors import Invalid, NotAllowed
from portal.workorders.models import TimelineEntry, WorkOrder
from tests.factories import NOW, create_appointment, create_customer, create_user


@pytest.fixture
def finished(session, frozen_now):
    frozen_now(NOW)
    _user, _account, contact = create_customer(session)
    return create_appointment(
        session, start=NOW - timedelta(days=1), contact=contact, status="completed"
    )


def test_a_scheduler_closes_unsigned_work_with_a_reason(session, finished):
    scheduler = create_user(session, role="scheduler")

    close_without_sign_off(session, finished, Actor(scheduler), "Customer unreachable for 2 weeks")

    assert session.get(WorkOrder, finished.work_order_id).status == "closed"
    assert finished.status == "completed"
    note = session.scalar(
        sa.select(TimelineEntry.note).where(TimelineEntry.action == "closed_unsigned")
    )
    assert note == "Customer unreachable for 2 weeks"


def test_closing_unsigned_work_needs_a_reason(session, finished):
    with pytest.raises(Invalid):
        close_without_sign_off(session, finished, Actor(create_user(session, role="scheduler")), "")


def test_an_agent_cannot_close_unsigned_work(session, finished):
    with pytest.raises(NotAllowed):
        close_without_sign_off(session, finished, Actor(create_user(session, role="agent")), "x")


def test_the_staff_page_offers_it_and_closes_the_work_order(session, client, auth, finished):
    create_user(session, role="scheduler", email="sched@example.com")
    session.commit()
    auth.login("sched@example.com")
    url = f"/staff/appointments/{finished.id}"

    assert "Close without the sign-off" in client.get(url).get_data(as_text=True)
    response = client.post_form(
        f"{url}/close_unsigned", {"reason": "Signed on paper; the form was lost"}
    )

    assert response.status_code == 302
    session.expire_all()
    assert session.get(WorkOrder, finished.work_order_id).status == "closed"
