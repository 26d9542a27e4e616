"""The scheduler's moves on appointments: assign one waiting in the queue, hand a task
to another agent, park a booking an agent can no longer keep, set a confirmation
deadline, and edit a booking's details on the customer's behalf.

They are made of the same steps as the customer's and the agent's moves
(portal/booking/steps.py) and refused by the same predicates the board's panels show
(portal/booking/states.py). The database has the last word on holds: if another booking
takes an agent in the same instant, the hold is refused and so is the move. Services
flush and never commit.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy.orm as so

from portal.accounts.models import Contact, ServiceLocation, User
from portal.booking.announce import announce
from portal.booking.holds import add_hold, place_holds
from portal.booking.models import Appointment
from portal.booking.states import (
    CLOSED_STATES,
    PENDING_STATES,
    STATUS_WORDS,
    assign_block,
    reassign_block,
)
from portal.booking.steps import (
    Actor,
    IllegalTransition,
    assign,
    clean_reason,
    close_queue_tasks,
    customer_user,
    is_assigned_agent,
    lock,
    move,
    park,
    set_task,
    set_work_order,
)
from portal.booking.windows import free_agents_at, qualified_agent_names
from portal.errors import Conflict, Invalid, NotFound
from portal.timeutil import now_utc
from portal.workforce.models import Agent
from portal.workorders.models import WorkOrderTask
from portal.workorders.services import record


def set_confirm_deadline(
    session: so.Session, appointment: Appointment, user: User, deadline: datetime | None
) -> Appointment:
    """After the deadline the customer can no longer change the appointment by itself.
    Setting one (or none) lifts the lock of an expired confirmation request."""
    if not user.has_role("scheduler"):
        raise NotFound("There is no such appointment.")
    if appointment.status in CLOSED_STATES:
        raise IllegalTransition(f"This appointment is {STATUS_WORDS[appointment.status]}.")
    if deadline is not None:
        if deadline <= now_utc():
            raise Invalid("The deadline must be in the future.", field="deadline")
        if deadline >= appointment.window_start:
            raise Invalid("The deadline must come before the arrival window.", field="deadline")
    old = appointment.confirm_deadline
    appointment.confirm_deadline = deadline
    appointment.confirm_expired_at = None  # a new deadline is a new request
    record(
        session,
        appointment,
        "deadline",
        actor=user,
        work_order_id=appointment.work_order_id,
        field="confirm_deadline",
        old=old.isoformat() if old else None,
        new=deadline.isoformat() if deadline else None,
        visibility="customer",
    )
    session.flush()
    return appointment


def agent_is_free(session: so.Session, appointment: Appointment, agent_id: int) -> bool:
    """Whether the agent could take this appointment at its planned time (qualified,
    working, not on leave, not held elsewhere). Shown before a reassignment; the
    database still has the last word when it is made."""
    free = free_agents_at(
        session,
        appointment.service,
        appointment.location,
        appointment.planned_start,
        now=min(now_utc(), appointment.planned_start),
    )
    return agent_id in free


def reassign_task(
    session: so.Session, task: WorkOrderTask, agent_id: int, user: User, *, note: str = ""
) -> WorkOrderTask:
    """A scheduler hands an agent's task (and its hold) to another agent, same time.

    Refused with a clear message when the new agent is not free; if another booking takes
    the agent in the same instant, the database refuses the hold and so do we."""
    actor = Actor(user)
    if not actor.is_scheduler:
        raise NotFound("There is no such task.")
    _refuse_reassign(task.status, task.appointment)
    if task.agent_id == agent_id:
        raise Invalid("The task is already with that agent.", field="agent")
    appointment = lock(session, task.appointment)
    _refuse_reassign(task.status, appointment)
    new_agent = session.get(Agent, agent_id)
    if new_agent is None or not new_agent.active:
        raise Invalid("Choose an active agent.", field="agent")

    def attempt() -> bool:
        for hold in [h for h in appointment.holds if h.agent_id == task.agent_id]:
            appointment.holds.remove(hold)
        session.flush()
        if not agent_is_free(session, appointment, agent_id):
            raise Conflict(f"{new_agent.name} is not free for this appointment's time.")
        add_hold(session, appointment, agent_id)
        return True

    try:
        placed = place_holds(session, attempt, attempts=1)
    except Conflict:
        session.expire(appointment)
        raise
    if placed is None:
        session.expire(appointment)
        raise Conflict(
            f"{new_agent.name} was booked by someone else a moment ago; nothing changed."
        )
    set_task(session, task, "cancelled", actor, note=note or "reassigned")
    new_task = assign(session, appointment, agent_id, actor, replaces=task.agent_id, note=note)
    if appointment.status == "accepted":
        move(session, appointment, "requested", actor)
    announce(session, "assigned", appointment, actor=user)
    session.flush()
    return new_task


def _refuse_reassign(task_status: str, appointment: Appointment | None) -> None:
    block = reassign_block(task_status, appointment.status if appointment else None)
    if block:
        raise IllegalTransition(block)


def qualified_agent_ids(session: so.Session, appointment: Appointment) -> set[int]:
    """The active agents with the appointment's skill who serve its territory."""
    return {
        agent_id
        for agent_id, _name in qualified_agent_names(
            session, appointment.service, appointment.location
        )
    }


def assign_from_queue(
    session: so.Session,
    appointment: Appointment,
    agent_ids: list[int],
    user: User,
    *,
    note: str = "",
) -> Appointment:
    """A scheduler gives an appointment that needs a new time to agents free for its
    current window: they are held, get tasks to accept, and the appointment waits for
    them again (requested). Recorded on the customer's behalf; customer and agents told.

    Refused when the window has begun, when the choice is not the number of agents the
    job needs, or an agent is not qualified or not free; if another booking takes an
    agent in the same instant, the database refuses the hold and so do we."""
    actor = Actor(user)
    if not actor.is_scheduler:
        raise NotFound("There is no such appointment.")
    note = clean_reason(note, required=False, what="the note")
    appointment = lock(session, appointment)
    block = assign_block(appointment.status, appointment.window_start, now_utc())
    if block:
        raise IllegalTransition(block)
    chosen = sorted(set(agent_ids))
    needed = appointment.service.agents_needed
    if len(chosen) != needed:
        raise Invalid(
            "Choose one agent." if needed == 1 else f"Choose {needed} agents: the job needs them.",
            field="agent",
        )
    agents = [session.get(Agent, agent_id) for agent_id in chosen]
    qualified = qualified_agent_ids(session, appointment)
    for agent_id, agent in zip(chosen, agents, strict=True):
        if agent is None or agent_id not in qualified:
            who = agent.name if agent is not None else "That agent"
            raise Invalid(f"{who} is not qualified for this job in its territory.", field="agent")
    free = set(
        free_agents_at(
            session,
            appointment.service,
            appointment.location,
            appointment.planned_start,
            now=now_utc(),
        )
    )
    for agent in agents:
        if agent.id not in free:
            raise Conflict(f"{agent.name} is not free for this appointment's time.")

    def attempt() -> bool:
        for agent in agents:
            add_hold(session, appointment, agent.id)
        return True

    if place_holds(session, attempt, attempts=1) is None:
        session.expire(appointment)
        raise Conflict(
            "One of those agents was booked by someone else a moment ago; nothing changed."
        )
    for agent in agents:
        assign(session, appointment, agent.id, actor, note=note or "assigned from the queue")
    # A new version for calendars: the customer's invitation is sent again (REQUEST).
    appointment.sequence += 1
    move(session, appointment, "requested", actor, note=note)
    set_work_order(session, appointment.work_order, "scheduled", actor)
    close_queue_tasks(session, appointment, actor, note="agents assigned from the queue")
    announce(session, "booked", appointment, actor=user, agents=agents)
    session.flush()
    return appointment


def park_for_disruption(
    session: so.Session, appointment: Appointment, user: User | None, why: str
) -> Appointment:
    """An agent can no longer keep this booking (hours, leave, deactivation): it holds
    nobody, needs a new time, lands with the scheduler, and the customer is told."""
    appointment = lock(session, appointment)
    if appointment.status not in PENDING_STATES:
        raise IllegalTransition(
            f"The appointment is {STATUS_WORDS[appointment.status]}; it cannot be parked."
        )
    park(session, appointment, Actor(user), why)
    return appointment


def edit_details(
    session: so.Session,
    appointment: Appointment,
    user: User,
    *,
    note: str | None = None,
    contact_id: int | None = None,
    location_id: int | None = None,
) -> Appointment:
    """Staff (or the assigned agent) change the meeting details on the customer's behalf."""
    actor = Actor(user)
    if not (actor.is_scheduler or is_assigned_agent(session, user, appointment)):
        raise NotFound("There is no such appointment in your list.")
    if appointment.status in CLOSED_STATES:
        raise IllegalTransition(f"This appointment is {STATUS_WORDS[appointment.status]}.")
    changes = []
    if note is not None and note.strip() != appointment.note:
        note = clean_reason(note, required=False, what="the note")
        changes.append(("note", appointment.note, note))
        appointment.note = note
    if contact_id is not None and contact_id != appointment.contact_id:
        contact = session.get(Contact, contact_id)
        if contact is None or contact.account_id != appointment.account_id:
            raise Invalid("Choose a contact of this customer's account.", field="contact")
        changes.append(("contact", appointment.contact.full_name, contact.full_name))
        appointment.contact_id = contact.id
        appointment.work_order.contact_id = contact.id
    if location_id is not None and location_id != appointment.location_id:
        location = session.get(ServiceLocation, location_id)
        if location is None or location.account_id != appointment.account_id:
            raise Invalid("Choose an address of this customer's account.", field="location")
        if location.territory_id != appointment.location.territory_id:
            raise Invalid(
                "That address is served by other agents: move the appointment instead.",
                field="location",
            )
        changes.append(("location", appointment.location.one_line, location.one_line))
        appointment.location_id = location.id
        appointment.work_order.location_id = location.id
    for field_name, old, new in changes:
        record(
            session,
            appointment,
            "details",
            actor=user,
            work_order_id=appointment.work_order_id,
            field=field_name,
            old=old,
            new=new,
            visibility="customer",
            on_behalf_of=customer_user(appointment),
        )
    if changes:
        appointment.sequence += 1
    session.flush()
    session.expire(appointment, ["contact", "location"])
    return appointment
