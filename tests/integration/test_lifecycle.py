"""The appointment state machine: every allowed move, and the refused ones change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.booking import agent_moves
from portal.booking import lifecycle as lc
from portal.booking.models import Appointment, SignOff
from portal.booking.services import BookingRequest, WindowTaken, book_window
from portal.booking.steps import Actor, IllegalTransition
from portal.dispatch import services as dispatch_services
from portal.errors import Conflict, Invalid, NotAllowed, NotFound
from portal.notifications.models import Notification, OutboxMessage
from portal.workorders.models import TimelineEntry, WorkOrderTask
from portal.workorders.services import in_scheduling_queue
from tests.factories import (
    NOW,
    build_world,
    create_agent,
    create_customer,
    create_location,
    create_service,
    ensure_policy,
)

WINDOW = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)  # Wednesday 08:00-10:00 London
LATER = datetime(2026, 6, 4, 11, 0, tzinfo=UTC)  # Thursday 12:00-14:00 London
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    world = build_world(
        session, service={"duration_minutes": 60, "buffer_minutes": 30}, scheduler={}
    )
    world.appt = book_window(session, BookingRequest(**world.booking_fields(WINDOW)))
    return world


def task_of(session, appt, agent) -> WorkOrderTask:
    return session.scalar(
        sa.select(WorkOrderTask).where(
            WorkOrderTask.appointment_id == appt.id, WorkOrderTask.agent_id == agent.id
        )
    )


def customer(world) -> Actor:
    return Actor(world["customer"])


def accepted(session, world) -> Appointment:
    agent_moves.accept_task(
        session, task_of(session, world["appt"], world["agent"]), world["agent"].user
    )
    return world["appt"]


def confirmed(session, world) -> Appointment:
    appt = accepted(session, world)
    lc.confirm_appointment(session, appt, customer(world))
    return appt


def completed(session, world, frozen_now) -> Appointment:
    appt = confirmed(session, world)
    task = task_of(session, appt, world["agent"])
    frozen_now(WINDOW + timedelta(hours=1))
    agent_moves.start_task(session, task, world["agent"].user)
    agent_moves.complete_task(session, task, world["agent"].user, note="Replaced the washer.")
    return appt


def snapshot(session, appt) -> tuple:
    session.flush()
    session.expire_all()
    fresh = session.get(Appointment, appt.id)
    return (
        fresh.status,
        fresh.window_start,
        fresh.work_order.status,
        sorted((h.agent_id, h.starts_at) for h in fresh.holds),
        session.scalar(sa.select(sa.func.count()).select_from(TimelineEntry)),
    )


# --- the happy path, one step at a time ------------------------------------------------------


def test_accepting_every_task_asks_the_customer_to_confirm(session, world):
    appt = accepted(session, world)

    assert appt.status == "accepted"
    assert task_of(session, appt, world["agent"]).status == "accepted"


def test_the_customer_confirms_an_accepted_appointment(session, world):
    appt = confirmed(session, world)

    assert appt.status == "confirmed"


def test_starting_a_task_moves_appointment_and_work_order_in_progress(session, world, frozen_now):
    appt = confirmed(session, world)
    frozen_now(WINDOW + timedelta(hours=1))

    agent_moves.start_task(session, task_of(session, appt, world["agent"]), world["agent"].user)

    assert appt.status == "in_progress"
    assert appt.work_order.status == "in_progress"


def test_completing_the_last_task_completes_appointment_and_work_order(session, world, frozen_now):
    appt = completed(session, world, frozen_now)

    assert appt.status == "completed"
    assert appt.work_order.status == "completed"


def test_signing_off_closes_the_work_order_and_records_who_when_and_where(
    session, world, frozen_now
):
    appt = completed(session, world, frozen_now)

    signed = lc.sign_off(
        session,
        appt,
        customer(world),
        full_name="Chloe Martin",
        consent=True,
        remote_addr="203.0.113.9",
        user_agent="Firefox",
        signature_png=PNG,
    )

    assert appt.status == "signed_off"
    assert appt.work_order.status == "closed"
    assert (signed.full_name, signed.remote_addr, signed.user_agent) == (
        "Chloe Martin",
        "203.0.113.9",
        "Firefox",
    )
    assert signed.signed_at == WINDOW + timedelta(hours=1)
    assert signed.signature_png == PNG


def test_the_customer_can_say_the_work_was_not_done_which_reopens_it_for_the_scheduler(
    session, world, frozen_now
):
    appt = completed(session, world, frozen_now)

    lc.report_not_done(session, appt, customer(world), "The tap still drips.")

    assert appt.status == "needs_reschedule"
    assert appt.work_order.status == "in_progress"
    queued = session.scalar(sa.select(WorkOrderTask).where(in_scheduling_queue()))
    assert "The tap still drips." in queued.title


def test_the_customer_declines_the_proposed_appointment(session, world):
    appt = accepted(session, world)

    lc.decline_appointment(session, appt, customer(world), "Wrong day for us")

    assert appt.status == "declined_by_customer"
    assert appt.holds == []
    assert session.scalar(sa.select(WorkOrderTask.id).where(in_scheduling_queue()))


def test_an_agent_records_a_no_show_after_the_window_began(session, world, frozen_now):
    appt = confirmed(session, world)
    frozen_now(WINDOW + timedelta(minutes=30))

    agent_moves.mark_no_show(session, appt, world["agent"].user)

    assert appt.status == "no_show"
    assert appt.holds == []


# --- cancel and reschedule -------------------------------------------------------------------


def test_cancelling_frees_the_agent_at_once_and_cancels_the_work_order(session, world):
    appt = confirmed(session, world)

    lc.cancel_appointment(session, appt, customer(world), "We sold the house")

    assert appt.status == "cancelled"
    assert appt.holds == []
    assert appt.work_order.status == "cancelled"
    assert task_of(session, appt, world["agent"]).status == "cancelled"
    assert appt.cancel_reason == "We sold the house"
    assert appt.sequence == 1


def test_a_cancellation_needs_a_reason(session, world):
    before = snapshot(session, world["appt"])

    with pytest.raises(Invalid, match="why you are cancelling"):
        lc.cancel_appointment(session, world["appt"], customer(world), "  ")

    assert snapshot(session, world["appt"]) == before


def test_rescheduling_moves_the_holds_and_records_old_and_new_windows(session, world):
    appt = confirmed(session, world)

    lc.reschedule_appointment(session, appt, LATER, customer(world))

    assert appt.window_start == LATER
    assert [h.starts_at for h in appt.holds] == [appt.planned_start]
    assert appt.planned_start >= LATER
    assert appt.status == "confirmed"  # the customer chose the new time, same agent
    assert appt.sequence == 1
    assert appt.self_reschedules == 1
    entry = session.scalar(sa.select(TimelineEntry).where(TimelineEntry.action == "rescheduled"))
    assert "Wed 3 Jun" in entry.old_value and "Thu 4 Jun" in entry.new_value
    assert entry.actor_id == world["customer"].id


def test_rescheduling_frees_the_old_window_for_others(session, world):
    appt = world["appt"]
    lc.reschedule_appointment(session, appt, LATER, customer(world))
    other, account, _ = create_customer(session)
    there = create_location(session, account)

    again = book_window(
        session,
        BookingRequest(
            customer=other, service=world["service"], location=there, window_start=WINDOW
        ),
    )

    assert again.holds[0].agent_id == world["agent"].id


def test_a_staff_move_of_a_confirmed_booking_asks_the_customer_to_confirm_again(session, world):
    appt = confirmed(session, world)

    lc.reschedule_appointment(session, appt, LATER, Actor(world["scheduler"]))

    assert appt.status == "accepted"
    assert appt.self_reschedules == 0
    entry = session.scalar(sa.select(TimelineEntry).where(TimelineEntry.action == "rescheduled"))
    assert entry.on_behalf_of_id == world["customer"].id


def test_rescheduling_into_a_taken_window_changes_nothing(session, world):
    other, account, _ = create_customer(session)
    there = create_location(session, account)
    for _ in range(2):  # 12:00 and 13:30 London: the window has no start left
        book_window(
            session,
            BookingRequest(
                customer=other, service=world["service"], location=there, window_start=LATER
            ),
        )
    before = snapshot(session, world["appt"])

    with pytest.raises(WindowTaken):
        lc.reschedule_appointment(session, world["appt"], LATER, customer(world))

    assert snapshot(session, world["appt"]) == before


# --- refusals: each changes nothing ----------------------------------------------------------


def test_the_customer_cannot_move_it_after_the_cutoff(session, world, frozen_now):
    frozen_now(WINDOW - timedelta(hours=23))
    before = snapshot(session, world["appt"])

    with pytest.raises(NotAllowed, match="24 hours before"):
        lc.reschedule_appointment(session, world["appt"], LATER, customer(world))

    assert snapshot(session, world["appt"]) == before


def test_the_customer_cannot_cancel_after_the_cutoff(session, world, frozen_now):
    frozen_now(WINDOW - timedelta(hours=2))
    before = snapshot(session, world["appt"])

    with pytest.raises(NotAllowed, match="change request"):
        lc.cancel_appointment(session, world["appt"], customer(world), "Ill")

    assert snapshot(session, world["appt"]) == before


def test_the_customer_cannot_move_it_after_the_schedulers_deadline(session, world, frozen_now):
    dispatch_services.set_confirm_deadline(
        session, world["appt"], world["scheduler"], NOW + timedelta(hours=2)
    )
    frozen_now(NOW + timedelta(hours=3))
    before = snapshot(session, world["appt"])

    with pytest.raises(NotAllowed, match="deadline"):
        lc.reschedule_appointment(session, world["appt"], LATER, customer(world))

    assert snapshot(session, world["appt"]) == before


def test_the_customer_cannot_move_it_more_often_than_the_limit(session, world):
    appt = world["appt"]
    lc.reschedule_appointment(session, appt, LATER, customer(world))
    lc.reschedule_appointment(session, appt, WINDOW, customer(world))
    before = snapshot(session, appt)

    with pytest.raises(NotAllowed, match="already moved this appointment 2 times"):
        lc.reschedule_appointment(session, appt, LATER, customer(world))

    assert snapshot(session, appt) == before


def test_a_scheduler_may_move_it_past_the_cutoff(session, world, frozen_now):
    frozen_now(WINDOW - timedelta(hours=2))

    lc.reschedule_appointment(session, world["appt"], LATER, Actor(world["scheduler"]))

    assert world["appt"].window_start == LATER


def test_another_accounts_customer_gets_not_found(session, world):
    stranger, _, _ = create_customer(session)
    before = snapshot(session, world["appt"])

    for action in (
        lambda: lc.cancel_appointment(session, world["appt"], Actor(stranger), "x"),
        lambda: lc.reschedule_appointment(session, world["appt"], LATER, Actor(stranger)),
        lambda: lc.confirm_appointment(session, world["appt"], Actor(stranger)),
        lambda: lc.request_change(session, world["appt"], Actor(stranger), "x"),
    ):
        with pytest.raises(NotFound):
            action()

    assert snapshot(session, world["appt"]) == before


def test_an_agent_cannot_act_on_another_agents_task(session, world):
    other = create_agent(session)
    task = task_of(session, world["appt"], world["agent"])

    with pytest.raises(NotFound):
        agent_moves.accept_task(session, task, other.user)
    with pytest.raises(NotFound):
        agent_moves.decline_task(session, task, other.user)

    assert task.status == "assigned"


def test_a_customer_cannot_use_staff_transitions(session, world):
    task = task_of(session, world["appt"], world["agent"])

    with pytest.raises(NotFound):
        agent_moves.accept_task(session, task, world["customer"])
    with pytest.raises(NotFound):
        dispatch_services.set_confirm_deadline(session, world["appt"], world["customer"], None)


def test_confirming_twice_is_refused_the_second_time(session, world):
    appt = confirmed(session, world)
    before = snapshot(session, appt)

    with pytest.raises(IllegalTransition, match="nothing to confirm"):
        lc.confirm_appointment(session, appt, customer(world))

    assert snapshot(session, appt) == before


def test_confirming_before_the_agent_accepted_is_refused(session, world):
    with pytest.raises(IllegalTransition):
        lc.confirm_appointment(session, world["appt"], customer(world))


def test_a_cancelled_appointment_cannot_be_moved_or_signed(session, world):
    appt = world["appt"]
    lc.cancel_appointment(session, appt, customer(world), "No longer needed")
    before = snapshot(session, appt)

    with pytest.raises(NotAllowed):
        lc.reschedule_appointment(session, appt, LATER, customer(world))
    with pytest.raises(IllegalTransition):
        lc.sign_off(
            session,
            appt,
            customer(world),
            full_name="A B",
            consent=True,
            remote_addr="",
            user_agent="",
        )
    with pytest.raises(IllegalTransition):
        lc.cancel_appointment(session, appt, Actor(world["scheduler"]), "again")

    assert snapshot(session, appt) == before


def test_sign_off_needs_a_name_and_consent(session, world, frozen_now):
    appt = completed(session, world, frozen_now)

    with pytest.raises(Invalid, match="full name"):
        lc.sign_off(
            session,
            appt,
            customer(world),
            full_name=" ",
            consent=True,
            remote_addr="",
            user_agent="",
        )
    with pytest.raises(Invalid, match="Tick the box"):
        lc.sign_off(
            session,
            appt,
            customer(world),
            full_name="Chloe Martin",
            consent=False,
            remote_addr="",
            user_agent="",
        )
    with pytest.raises(Invalid, match="signature"):
        lc.sign_off(
            session,
            appt,
            customer(world),
            full_name="Chloe Martin",
            consent=True,
            remote_addr="",
            user_agent="",
            signature_png=b"GIF89a",
        )

    assert appt.status == "completed"
    assert session.scalar(sa.select(sa.func.count()).select_from(SignOff)) == 0


def test_completing_before_starting_is_refused(session, world):
    appt = confirmed(session, world)
    task = task_of(session, appt, world["agent"])

    with pytest.raises(IllegalTransition, match="Start the task"):
        agent_moves.complete_task(session, task, world["agent"].user)


def test_a_no_show_before_the_window_is_refused(session, world):
    appt = confirmed(session, world)

    with pytest.raises(IllegalTransition, match="window has begun"):
        agent_moves.mark_no_show(session, appt, world["agent"].user)

    assert appt.status == "confirmed"


def test_a_deadline_after_the_window_is_refused(session, world):
    with pytest.raises(Invalid, match="before the arrival window"):
        dispatch_services.set_confirm_deadline(
            session, world["appt"], world["scheduler"], WINDOW + timedelta(hours=1)
        )


# --- the decline chain -----------------------------------------------------------------------


def test_a_decline_moves_the_hold_to_the_next_free_agent(session, world):
    second = create_agent(session)
    task = task_of(session, world["appt"], world["agent"])

    agent_moves.decline_task(session, task, world["agent"].user, "Off sick")

    appt = world["appt"]
    assert appt.status == "requested"
    assert [h.agent_id for h in appt.holds] == [second.id]
    assert task_of(session, appt, second).status == "assigned"
    assert task.status == "declined"


def test_the_decline_chain_ends_in_needs_reschedule_with_the_scheduler(
    session, world, expand_events
):
    second = create_agent(session)
    appt = world["appt"]

    agent_moves.decline_task(session, task_of(session, appt, world["agent"]), world["agent"].user)
    agent_moves.decline_task(session, task_of(session, appt, second), second.user)
    expand_events()

    assert appt.status == "needs_reschedule"
    assert appt.holds == []
    assert appt.work_order.status == "new"
    queued = session.scalars(sa.select(WorkOrderTask).where(in_scheduling_queue())).all()
    assert len(queued) == 1 and queued[0].status == "open"
    assert session.scalar(
        sa.select(OutboxMessage.id).where(OutboxMessage.recipient == world["customer"].email)
    )


def test_a_scheduler_reschedules_a_parked_appointment_back_into_the_diary(session, world):
    appt = world["appt"]
    agent_moves.decline_task(session, task_of(session, appt, world["agent"]), world["agent"].user)

    lc.reschedule_appointment(session, appt, LATER, Actor(world["scheduler"]))

    assert appt.status == "requested"
    assert appt.work_order.status == "scheduled"
    queued = session.scalar(sa.select(WorkOrderTask).where(in_scheduling_queue()))
    assert queued.status == "done"


def test_a_change_request_lands_in_the_schedulers_queue(session, world, frozen_now, expand_events):
    frozen_now(WINDOW - timedelta(hours=2))

    lc.request_change(session, world["appt"], customer(world), "Could you come at 11?")
    expand_events()

    queued = session.scalar(sa.select(WorkOrderTask).where(in_scheduling_queue()))
    assert "Could you come at 11?" in queued.title
    assert session.scalar(
        sa.select(Notification.id).where(Notification.user_id == world["scheduler"].id)
    )


# --- fairness --------------------------------------------------------------------------------


def test_assignment_spreads_many_bookings_evenly(session, frozen_now):
    frozen_now(NOW)
    ensure_policy(session, window_minutes=120, min_notice_minutes=60, horizon_days=28)
    customer_user, account, _ = create_customer(session)
    location = create_location(session, account)
    service = create_service(session, duration_minutes=60)
    agents = [create_agent(session) for _ in range(3)]
    starts = [
        datetime(2026, 6, day, hour, 0, tzinfo=UTC) for day in (2, 3, 4) for hour in (7, 9, 11, 13)
    ]

    for start in starts:
        book_window(
            session,
            BookingRequest(
                customer=customer_user, service=service, location=location, window_start=start
            ),
        )

    counts = {
        a.id: session.scalar(
            sa.select(sa.func.count())
            .select_from(WorkOrderTask)
            .where(WorkOrderTask.agent_id == a.id)
        )
        for a in agents
    }
    assert sorted(counts.values()) == [4, 4, 4]


# --- the manage link -------------------------------------------------------------------------


def test_a_closed_appointment_opens_nothing_through_its_link(session, world):
    lc.cancel_appointment(session, world["appt"], customer(world), "Not needed")

    with pytest.raises(NotFound):
        lc.load_for_link(session, world["appt"].id)


def test_the_link_acts_for_the_customer_and_says_so(session, world):
    appt = accepted(session, world)

    lc.confirm_appointment(session, appt, Actor(world["customer"], via_link=True))

    entry = session.scalar(
        sa.select(TimelineEntry).where(
            TimelineEntry.action == "status", TimelineEntry.new_value == "confirmed"
        )
    )
    assert "e-mailed link" in entry.note


# --- staff console ---------------------------------------------------------------------------


def test_a_scheduler_reassigns_a_task_to_a_free_agent(session, world):
    second = create_agent(session)
    task = task_of(session, world["appt"], world["agent"])

    new_task = dispatch_services.reassign_task(session, task, second.id, world["scheduler"])

    assert [h.agent_id for h in world["appt"].holds] == [second.id]
    assert task.status == "cancelled"
    assert new_task.agent_id == second.id and new_task.status == "assigned"


def test_reassigning_to_a_busy_agent_is_refused_and_changes_nothing(session, world):
    second = create_agent(session)
    other, account, _ = create_customer(session)
    there = create_location(session, account)
    # The second agent is the only one free for another booking in the same window.
    book_window(
        session,
        BookingRequest(
            customer=other, service=world["service"], location=there, window_start=WINDOW
        ),
    )
    task = task_of(session, world["appt"], world["agent"])
    before = snapshot(session, world["appt"])

    with pytest.raises(Conflict, match="not free"):
        dispatch_services.reassign_task(session, task, second.id, world["scheduler"])

    assert snapshot(session, world["appt"]) == before


def test_an_agent_cannot_reassign_tasks(session, world):
    second = create_agent(session)
    task = task_of(session, world["appt"], world["agent"])

    with pytest.raises(NotFound):
        dispatch_services.reassign_task(session, task, second.id, world["agent"].user)


def test_a_disruption_parks_the_appointment_and_tells_the_customer(session, world):
    appt = confirmed(session, world)

    dispatch_services.park_for_disruption(session, appt, world["scheduler"], "Agent on sick leave")

    assert appt.status == "needs_reschedule"
    assert appt.holds == []


def test_staff_edit_the_meeting_details_on_the_customers_behalf(session, world):
    appt = world["appt"]
    account = world["account"]
    second_site = create_location(session, account, label="Annex")

    dispatch_services.edit_details(
        session, appt, world["scheduler"], note="Gate code 1234", location_id=second_site.id
    )

    assert appt.note == "Gate code 1234"
    assert appt.location_id == second_site.id
    entry = session.scalar(
        sa.select(TimelineEntry).where(
            TimelineEntry.action == "details", TimelineEntry.field == "location"
        )
    )
    assert entry.on_behalf_of_id == world["customer"].id


def test_an_address_of_another_account_cannot_be_chosen(session, world):
    _, other_account, _ = create_customer(session)
    elsewhere = create_location(session, other_account)

    with pytest.raises(Invalid, match="address of this customer"):
        dispatch_services.edit_details(
            session, world["appt"], world["scheduler"], location_id=elsewhere.id
        )
