"""A scheduler assigns an appointment waiting in the unassigned queue (needs a new time)
to agents free for its current window (dispatch.services.assign_from_queue), without HTTP. On
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.booking import steps
from portal.booking.models import Appointment, AppointmentHold
from portal.booking.services import BookingRequest, book_window
from portal.dispatch import services as dispatch_services
from portal.errors import Conflict, Invalid, NotFound
from portal.notifications.models import OutboxMessage
from portal.workorders.models import ACTIVE_TASK_STATES, TimelineEntry, WorkOrderTask
from portal.workorders.services import in_scheduling_queue
from tests.conftest import expand_all
from tests.factories import (
    NOW,
    build_world,
    create_agent,
    create_appointment,
    create_customer,
    create_location,
)

WINDOW = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)  # Wednesday 08:00-10:00 London
PLANNED = datetime(2026, 6, 3, 8, 0, tzinfo=UTC)  # 09:00 London: the agents start at nine


@pytest.fixture
def parked(session, frozen_now):
    """A leak repair booked with one of two plumbers, then parked (its agent fell ill):
    it needs a new time and holds nobody."""
    frozen_now(NOW)
    world = build_world(
        session,
        skill={"code": "plumbing", "name": "Plumber"},
        customer={"email": "dana@example.com"},
        service={"name": "Leak repair"},
        agents=[
            {"full_name": "Ada First", "email": "ada@example.com"},
            {"full_name": "Ben Second", "email": "ben@example.com"},
        ],
        scheduler={"full_name": "Sam Scheduler"},
    )
    appt = world.appt = book_window(session, BookingRequest(**world.booking_fields(WINDOW)))
    dispatch_services.park_for_disruption(session, appt, None, "The agent is ill.")
    assert appt.status == "needs_reschedule" and not appt.holds
    expand_all(session)  # what everyone was told so far, as the scheduler process does
    return world.add(ada=world.agents[0], ben=world.agents[1])


def assign(session, parked, *agents, user=None):
    return dispatch_services.assign_from_queue(
        session, parked["appt"], [a.id for a in agents], user or parked["scheduler"]
    )


def holds_of(session, appt) -> list[tuple[int, datetime]]:
    session.expire_all()
    return [
        (h.agent_id, h.starts_at)
        for h in session.scalars(
            sa.select(AppointmentHold).where(AppointmentHold.appointment_id == appt.id)
        )
    ]


def mails_to(session, address: str) -> list[OutboxMessage]:
    return list(
        session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.recipient == address)
            .order_by(OutboxMessage.id)
        )
    )


def test_assigning_holds_the_agent_at_the_planned_time_and_waits_for_its_acceptance(
    session, parked
):
    appt = assign(session, parked, parked["ben"])

    assert appt.status == "requested"
    assert appt.work_order.status == "scheduled"
    assert holds_of(session, appt) == [(parked["ben"].id, PLANNED)]
    task = session.scalar(
        sa.select(WorkOrderTask).where(
            WorkOrderTask.appointment_id == appt.id, WorkOrderTask.agent_id == parked["ben"].id
        )
    )
    assert (task.status, task.due_at) == ("assigned", PLANNED)


def test_assigning_closes_the_appointments_scheduling_queue_task(session, parked):
    assign(session, parked, parked["ben"])

    open_queue = session.scalars(
        sa.select(WorkOrderTask).where(
            WorkOrderTask.appointment_id == parked["appt"].id,
            in_scheduling_queue(),
            WorkOrderTask.status.in_(ACTIVE_TASK_STATES),
        )
    ).all()
    assert open_queue == []


def test_the_timeline_records_the_assignment_on_the_customers_behalf(session, parked):
    assign(session, parked, parked["ben"])

    entry = session.scalar(
        sa.select(TimelineEntry)
        .where(
            TimelineEntry.work_order_id == parked["appt"].work_order_id,
            TimelineEntry.field == "status",
            TimelineEntry.new_value == "requested",
        )
        .order_by(TimelineEntry.id.desc())
    )
    assert entry.old_value == "needs_reschedule"
    assert entry.actor_id == parked["scheduler"].id
    assert entry.on_behalf_of_id == parked["customer"].id


def test_the_customer_is_told_with_a_calendar_update(session, parked, expand_events):
    before = len(mails_to(session, "dana@example.com"))

    assign(session, parked, parked["ben"])
    expand_events()

    mail = mails_to(session, "dana@example.com")[before:]
    assert len(mail) == 1
    assert mail[0].subject.startswith("Booked: your leak repair")
    assert mail[0].ics is not None and "METHOD:REQUEST" in mail[0].ics


def test_the_assigned_agent_is_asked_to_accept_and_nobody_else(session, parked, expand_events):
    assign(session, parked, parked["ben"])
    expand_events()

    [task_mail] = mails_to(session, "ben@example.com")
    assert parked["appt"].number in task_mail.body_text
    # Whoever held it before the park is not told of a task they do not have.
    assert all("accept" not in m.subject.lower() for m in mails_to(session, "ada@example.com")[1:])


def test_a_busy_agent_is_refused_with_a_conflict_and_nothing_changes(session, parked):
    other_customer, account, _ = create_customer(session)
    book_window(  # takes the one plumber free at that time, whoever it is
        session,
        BookingRequest(
            customer=other_customer,
            service=parked["service"],
            location=create_location(session, account),
            window_start=WINDOW,
        ),
    )
    busy = next(
        agent
        for agent in (parked["ada"], parked["ben"])
        if session.scalar(
            sa.select(AppointmentHold.id).where(
                AppointmentHold.agent_id == agent.id, AppointmentHold.starts_at == PLANNED
            )
        )
    )
    session.commit()

    with pytest.raises(Conflict, match=f"{busy.name} is not free for this appointment"):
        assign(session, parked, busy)

    session.rollback()
    assert session.get(Appointment, parked["appt"].id).status == "needs_reschedule"
    assert holds_of(session, parked["appt"]) == []


def test_an_agent_taken_in_the_same_instant_is_refused_by_the_database(
    session, parked, monkeypatch
):
    # Another booking holds Ben at that time, but the check before the hold missed it
    # (it ran a moment earlier): the exclusion constraint or trigger has the last word.
    _, account, contact = create_customer(session)
    create_appointment(
        session,
        start=PLANNED,
        contact=contact,
        service=parked["service"],
        location=create_location(session, account),
        agents=[parked["ben"]],
    )
    monkeypatch.setattr(
        dispatch_services, "free_agents_at", lambda *args, **kwargs: [parked["ben"].id]
    )

    with pytest.raises(Conflict, match="booked by someone else a moment ago"):
        assign(session, parked, parked["ben"])


def test_an_unqualified_agent_is_refused(session, parked):
    electrician = create_agent(session, full_name="Eli Sparks")  # not a plumber

    with pytest.raises(Invalid, match="Eli Sparks is not qualified for this job"):
        assign(session, parked, electrician)


def test_an_appointment_that_is_not_in_the_queue_is_refused(session, parked):
    _, account, contact = create_customer(session)
    confirmed = create_appointment(
        session,
        start=WINDOW + timedelta(days=1),
        contact=contact,
        service=parked["service"],
        location=create_location(session, account),
        agents=[parked["ada"]],
    )

    with pytest.raises(steps.IllegalTransition, match="only an appointment waiting for a new time"):
        dispatch_services.assign_from_queue(
            session, confirmed, [parked["ben"].id], parked["scheduler"]
        )


def test_a_window_that_has_begun_is_refused(session, parked, frozen_now):
    frozen_now(WINDOW + timedelta(minutes=5))

    with pytest.raises(steps.IllegalTransition, match="window has already begun"):
        assign(session, parked, parked["ben"])


def test_the_job_needs_its_number_of_agents(session, parked):
    with pytest.raises(Invalid, match="Choose one agent."):
        assign(session, parked, parked["ada"], parked["ben"])


def test_only_a_scheduler_may_assign(session, parked):
    with pytest.raises(NotFound):
        assign(session, parked, parked["ben"], user=parked["ada"].user)
