"""The SLA clocks of cases and back-office work orders, on a frozen clock, without HTTP.

Times are London wall times in the week of Monday 1 June 2026 (sla_world.london); the
support calendar is open Monday to Friday 09:00-17:00, the back office's has a lunch
break 12:30-13:30.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.sla.lifecycle import choose_process, milestones_of_case
from portal.sla.models import Milestone, MilestoneEvent
from portal.workorders.status import set_work_order_status
from tests.factories import create_account
from tests.integration.sla_world import (
    build_sla_world,
    hand_off,
    hear,
    london,
    make_process,
    milestone,
    open_case,
    support_type,
)


@pytest.fixture
def world(session, frozen_now):
    frozen_now(london(1, 7))
    return build_sla_world(session)


@pytest.fixture
def support(session, world):
    return make_process(session, "Standard support", calendar=world.support)


def kinds_of_log(session, m: Milestone) -> list[str]:
    return list(
        session.scalars(
            sa.select(MilestoneEvent.kind)
            .where(MilestoneEvent.milestone_id == m.id)
            .order_by(MilestoneEvent.at, MilestoneEvent.id)
        )
    )


# --- starting -------------------------------------------------------------------------------


def test_a_new_case_gets_one_milestone_per_definition_with_its_priority_target(
    session, world, support
):
    case = open_case(session, world, london(1, 10), priority="high")

    found = {m.kind: m for m in milestones_of_case(session, case)}
    assert set(found) == {"first_response", "resolution"}
    assert found["first_response"].target_minutes == 30
    assert found["resolution"].target_minutes == 240
    assert found["first_response"].calendar_id == world.support.id
    assert found["first_response"].due_at == london(1, 10, 30)
    assert found["first_response"].next_check_at == found["first_response"].warn_at


def test_the_due_time_skips_the_night_and_the_weekend(session, world, support):
    friday_afternoon = london(5, 15)
    case = open_case(session, world, friday_afternoon, priority="high")  # 240 minutes

    assert milestone(session, case).due_at == london(8, 11)  # 2 h on Friday, 2 on Monday


def test_a_case_opened_at_night_starts_counting_at_opening(session, world, support):
    case = open_case(session, world, london(2, 22), priority="urgent")  # 15 minutes

    assert milestone(session, case, "first_response").due_at == london(3, 9, 15)


def test_the_lowest_ranked_process_whose_conditions_hold_applies(session, world, support):
    vip = create_account(session, name="VIP Ltd")
    make_process(session, "VIP", calendar=world.support, rank=10, account_id=vip.id)
    urgent = make_process(session, "Urgent", rank=20, priority="urgent")

    chosen = choose_process(
        session,
        applies_to="case",
        case_type_id=support_type(session).id,
        priority="urgent",
        account_id=world.account.id,
    )

    assert chosen.id == urgent.id  # VIP ranks first, but this is not a VIP account


def test_an_inactive_process_or_one_for_work_orders_never_applies_to_a_case(session, world):
    make_process(session, "Off", calendar=world.support, active=False)
    make_process(session, "Internal", applies_to="work_order", queue_id=world.finance.id)

    case = open_case(session, world, london(1, 10))

    assert milestones_of_case(session, case) == []


# --- pause and resume -----------------------------------------------------------------------


def test_waiting_on_the_customer_pauses_the_clock_and_counts_only_business_time(
    session, world, support
):
    case = open_case(session, world, london(1, 10))  # resolution: 480 minutes
    hear(session, case, "status", london(1, 11), new="Waiting on customer", meaning="waiting")
    paused = milestone(session, case)
    assert (paused.paused, paused.due_at, paused.next_check_at) == (True, None, None)
    assert paused.used_seconds == 3600

    # Back on Wednesday at 15:00: 60 minutes used, 420 left, Wednesday 2 h, Thursday 5 h.
    hear(session, case, "status", london(3, 15), new="In progress", meaning="open")

    resumed = milestone(session, case)
    assert not resumed.paused
    assert resumed.due_at == london(4, 14)
    assert kinds_of_log(session, resumed) == ["start", "pause", "resume"]


def test_a_second_waiting_status_appends_no_second_pause(session, world, support):
    case = open_case(session, world, london(1, 10))
    hear(session, case, "status", london(1, 11), new="Waiting on customer", meaning="waiting")
    hear(session, case, "status", london(1, 12), new="Waiting on customer", meaning="waiting")

    assert kinds_of_log(session, milestone(session, case)) == ["start", "pause"]


def test_a_paused_milestone_is_not_looked_at_by_the_pass(session, world, support):
    case = open_case(session, world, london(1, 10))
    hear(session, case, "status", london(1, 10, 5), new="Waiting on customer", meaning="waiting")

    assert milestone(session, case).next_check_at is None


# --- priority ------------------------------------------------------------------------------


def test_a_priority_change_recomputes_the_due_time_from_the_log(session, world, support):
    case = open_case(session, world, london(1, 9))  # medium: resolution 480
    case.priority = "high"  # 240
    hear(session, case, "priority", london(1, 11), old="medium", new="high")

    m = milestone(session, case)
    assert m.target_minutes == 240
    assert m.due_at == london(1, 13)  # from the start at 09:00, not from 11:00
    assert kinds_of_log(session, m)[-1] == "target"


def test_a_lower_target_already_used_up_violates_at_once(session, world, support):
    case = open_case(session, world, london(1, 9), priority="low")  # first response 120
    case.priority = "urgent"  # 15
    hear(session, case, "priority", london(1, 10), old="low", new="urgent")

    m = milestone(session, case, "first_response")
    assert m.state == "violated"
    assert m.due_at == london(1, 9, 15)


# --- completion -----------------------------------------------------------------------------


def test_the_first_reply_by_staff_completes_the_first_response(session, world, support):
    case = open_case(session, world, london(1, 10))  # first response: 60
    hear(session, case, "responded", london(1, 10, 40), by=world.agent)

    first = milestone(session, case, "first_response")
    assert (first.state, first.completed_at) == ("completed_on_time", london(1, 10, 40))
    assert milestone(session, case).state == "pending"


def test_a_customer_visible_comment_by_staff_also_counts_as_the_response(session, world, support):
    case = open_case(session, world, london(1, 10))
    hear(session, case, "comment", london(1, 10, 20), by=world.agent, new="customer")

    assert milestone(session, case, "first_response").state == "completed_on_time"


def test_an_internal_note_is_no_response(session, world, support):
    case = open_case(session, world, london(1, 10))
    hear(session, case, "comment", london(1, 10, 20), by=world.agent, new="internal")

    assert milestone(session, case, "first_response").state == "pending"


def test_closing_late_completes_late(session, world, support):
    case = open_case(session, world, london(1, 9), priority="urgent")  # resolution 120
    hear(session, case, "closed", london(1, 12), old="New", new="Closed", meaning="closed")

    assert milestone(session, case).state == "completed_late"
    assert milestone(session, case, "first_response").state == "completed_late"
    assert milestone(session, case).used_seconds == 3 * 3600


def test_events_after_closing_change_nothing(session, world, support):
    case = open_case(session, world, london(1, 9))
    hear(session, case, "closed", london(1, 10), old="New", new="Closed", meaning="closed")
    case.priority = "urgent"
    hear(session, case, "priority", london(1, 11), old="medium", new="urgent")

    m = milestone(session, case)
    assert (m.state, m.target_minutes) == ("completed_on_time", 480)
    assert kinds_of_log(session, m) == ["start", "complete"]


# --- back-office work orders ------------------------------------------------------------------


@pytest.fixture
def internal(session, world):
    return make_process(
        session,
        "Finance OLA",
        applies_to="work_order",
        queue_id=world.finance.id,
        first_response=(60, 60, 30, 15),
        resolution=(480, 240, 120, 60),
    )


def test_a_hand_off_starts_internal_milestones_on_the_queues_calendar(
    session, world, support, internal
):
    case = open_case(session, world, london(1, 11))
    work_order = hand_off(session, world, case, london(1, 12))  # medium: resolution 240

    m = milestone(session, work_order=work_order)
    assert m.calendar_id == world.back_office.id
    # 30 minutes before lunch, an hour off for it, then 210 minutes from 13:30.
    assert m.due_at == london(1, 17)


def test_taking_the_work_order_completes_its_first_response(session, world, support, internal):
    case = open_case(session, world, london(1, 11))
    work_order = hand_off(session, world, case, london(1, 12))

    set_work_order_status(session, work_order, "in_progress", by=world.member)

    assert milestone(session, work_order=work_order, kind="first_response").state == (
        "completed_on_time"
    )
    assert milestone(session, work_order=work_order).state == "pending"


def test_completing_the_work_order_completes_its_resolution(session, world, support, internal):
    case = open_case(session, world, london(1, 11))
    work_order = hand_off(session, world, case, london(1, 12))
    set_work_order_status(session, work_order, "in_progress", by=world.member)
    set_work_order_status(session, work_order, "completed", by=world.member)

    assert milestone(session, work_order=work_order).state == "completed_on_time"


def test_the_case_waiting_on_the_customer_does_not_pause_the_back_office(
    session, world, support, internal
):
    case = open_case(session, world, london(1, 9))
    work_order = hand_off(session, world, case, london(1, 9, 30))
    hear(session, case, "status", london(1, 10), new="Waiting on customer", meaning="waiting")

    assert milestone(session, case).paused
    assert not milestone(session, work_order=work_order).paused


def test_a_priority_change_retargets_the_back_office_too(session, world, support, internal):
    case = open_case(session, world, london(1, 9))
    work_order = hand_off(session, world, case, london(1, 9))
    case.priority = "urgent"
    hear(session, case, "priority", london(1, 9, 30), old="medium", new="urgent")

    m = milestone(session, work_order=work_order)
    assert (m.target_minutes, m.due_at) == (60, london(1, 10))


def test_a_work_order_handed_off_twice_starts_its_milestones_once(
    session, world, support, internal
):
    case = open_case(session, world, london(1, 11))
    work_order = hand_off(session, world, case, london(1, 12))
    hear(session, case, "handed_off", london(1, 12, 5), new=str(work_order.id))

    count = session.scalar(
        sa.select(sa.func.count())
        .select_from(Milestone)
        .where(Milestone.work_order_id == work_order.id)
    )
    assert count == 2
