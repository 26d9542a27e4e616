"""The SLA clocks driven by the real case services (open, wait, comment, hand off, take,
complete, close) and an SLA action that changes the case through them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.cases import comments, handoff
from portal.cases import services as cases
from portal.sla.jobs import evaluate_milestones
from portal.sla.models import MilestoneEvent, SlaActionRun
from portal.timeutil import freeze
from portal.workorders.models import TimelineEntry
from tests.integration.sla_world import (
    build_sla_world,
    london,
    make_process,
    milestone,
)


@pytest.fixture
def world(session, frozen_now):
    frozen_now(london(1, 7))
    world = build_sla_world(session)
    make_process(session, "Standard support", calendar=world.support)
    make_process(
        session,
        "Finance OLA",
        applies_to="work_order",
        queue_id=world.finance.id,
        first_response=(60, 60, 30, 15),
        resolution=(480, 240, 120, 60),
    )
    return world


def open_at(session, world, moment, **fields):
    freeze(moment)
    return cases.open_case(
        session,
        account=world.account,
        contact=world.contact,
        subject="Invoice is wrong",
        origin="Phone",
        owner_user=world.agent,
        by=world.agent,
        **fields,
    )


def test_a_case_through_its_life_meets_both_milestones_on_business_time(session, world):
    case = open_at(session, world, london(1, 10))  # medium: response 60, resolution 480

    freeze(london(1, 10, 30))
    comments.add_comment(session, case, "We are on it.", visibility="customer", by=world.agent)
    assert milestone(session, case, "first_response").state == "completed_on_time"

    freeze(london(1, 11))
    cases.set_status(session, case, "Waiting on customer", world.agent)
    assert milestone(session, case).paused

    # The customer answers on Wednesday at 10:00: the clock runs again, 60 minutes used.
    freeze(london(3, 10))
    comments.add_comment(
        session, case, "Here is the invoice.", visibility="customer", by=world.contact.user
    )
    assert case.status == "In progress"
    assert milestone(session, case).due_at == london(3, 17)

    freeze(london(3, 11))
    work_order = handoff.send_to_back_office(
        session, case, world.finance, "Refund the overcharge", "", world.agent
    )
    internal = milestone(session, work_order=work_order)
    assert (internal.calendar_id, internal.due_at) == (world.back_office.id, london(3, 16))

    freeze(london(3, 14))
    handoff.take_work_order(session, work_order, world.member)
    freeze(london(3, 15))
    handoff.complete_work_order(session, work_order, world.member, "Refunded")

    assert milestone(session, work_order=work_order).state == "completed_on_time"
    assert case.is_closed  # the last back-office work order closed the case
    assert milestone(session, case).state == "completed_on_time"
    assert milestone(session, case).used_seconds == (60 + 5 * 60) * 60


def test_raising_the_priority_through_the_service_recomputes_from_the_log(session, world):
    case = open_at(session, world, london(1, 9))

    freeze(london(1, 11))
    cases.set_priority(session, case, "high", world.agent)

    assert milestone(session, case).due_at == london(1, 13)


VIOLATION_URGENT = ("resolution", "violation", "set_priority", "urgent", False)
VIOLATION_NO_SUCH_STATUS = ("resolution", "violation", "set_status", "Escalated", False)


def test_a_violation_can_raise_the_priority_through_the_case_services(app, session, frozen_now):
    frozen_now(london(1, 7))
    world = build_sla_world(session)
    make_process(
        session,
        "Escalating",
        calendar=world.support,
        actions=(VIOLATION_URGENT, VIOLATION_NO_SUCH_STATUS),
    )
    case = open_at(session, world, london(1, 9), priority="high")  # resolution 240: 13:00
    session.commit()

    freeze(london(1, 13))
    evaluate_milestones(app)
    session.expire_all()

    assert case.priority == "urgent"
    change = session.scalar(sa.select(TimelineEntry).where(TimelineEntry.field == "priority"))
    assert (change.old_value, change.new_value) == ("high", "urgent")
    first = milestone(session, case, "first_response")
    last_event = session.scalar(
        sa.select(MilestoneEvent)
        .where(MilestoneEvent.milestone_id == first.id)
        .order_by(MilestoneEvent.id.desc())
        .limit(1)
    )
    assert (last_event.kind, last_event.minutes) == ("target", 15)
    outcomes = sorted(session.scalars(sa.select(SlaActionRun.outcome)))
    assert outcomes[0] == "priority set to urgent"
    assert outcomes[1].startswith("skipped: ")  # no status "Escalated": said, not raised


def test_the_case_page_shows_the_clocks_as_of_now(client, auth, session, world):
    case = open_at(session, world, london(1, 9))  # first response 60, resolution 480
    freeze(london(1, 10, 30))
    cases.set_status(session, case, "Waiting on customer", world.agent)
    freeze(london(1, 12))

    auth.login(world.agent.email)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)

    assert "Service levels" in page
    assert "Missed" in page  # the first response: 90 of 60 minutes, paused or not
    assert "paused: waiting on the customer" in page
    assert "1 h 30 min of 8 h 00 min" in page


def test_the_case_page_has_no_sla_block_without_milestones(client, auth, session, frozen_now):
    frozen_now(london(1, 7))
    world = build_sla_world(session)
    case = open_at(session, world, london(1, 9))

    auth.login(world.agent.email)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)

    assert "Service levels" not in page
