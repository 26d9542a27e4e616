"""The agent's moves on an appointment: accept or decline its task, start it, complete
it, record a no-show, write a work note.

A declined task goes to another free qualified agent at the same time, in the same
transaction; when nobody is free the appointment is parked with the scheduler. Services
flush and never commit: the caller commits once.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.booking.announce import announce
from portal.booking.holds import add_hold, place_holds
from portal.booking.models import Appointment
from portal.booking.services import choose_agents
from portal.booking.states import STATUS_WORDS
from portal.booking.steps import (
    Actor,
    IllegalTransition,
    active_tasks,
    agent_of,
    assign,
    clean_reason,
    hand_back,
    is_assigned_agent,
    lock,
    move,
    park,
    release,
    set_task,
    set_work_order,
)
from portal.booking.windows import free_agents_at
from portal.errors import NotFound
from portal.timeutil import now_utc
from portal.workorders.models import WorkOrderTask
from portal.workorders.services import record

# A declined task looks for another agent this many times before the scheduler gets it.
REPLACE_ATTEMPTS = 5


def _own_task(session: so.Session, task: WorkOrderTask, user: User) -> None:
    agent = agent_of(session, user)
    if agent is None or task.agent_id != agent.id:
        raise NotFound("There is no such task in your list.")


def accept_task(session: so.Session, task: WorkOrderTask, user: User) -> WorkOrderTask:
    """The assigned agent accepts; once every agent has, the customer is asked to confirm."""
    actor = Actor(user)
    _own_task(session, task, user)
    if task.status != "assigned":
        raise IllegalTransition(
            f"This task is {task.status.replace('_', ' ')}, not waiting for you."
        )
    appointment = lock(session, task.appointment)
    set_task(session, task, "accepted", actor)
    pending = [t for t in active_tasks(session, appointment) if t.status == "assigned"]
    if not pending and appointment.status == "requested":
        move(session, appointment, "accepted", actor)
        announce(session, "confirmation_requested", appointment, actor=user)
    session.flush()
    return task


def decline_task(
    session: so.Session, task: WorkOrderTask, user: User, reason: str = ""
) -> Appointment:
    """The agent declines: the hold moves to another free qualified agent at the same
    time, in this transaction; when nobody is free the appointment needs a new time."""
    actor = Actor(user)
    _own_task(session, task, user)
    if task.status not in ("assigned", "accepted"):
        raise IllegalTransition("Only a task that has not started can be declined.")
    reason = clean_reason(reason, required=False, what="why")
    appointment = lock(session, task.appointment)
    set_task(session, task, "declined", actor, note=reason)
    for hold in [h for h in appointment.holds if h.agent_id == task.agent_id]:
        appointment.holds.remove(hold)
    session.flush()
    return _replace_agent(session, appointment, actor, exclude={task.agent_id})


def _replace_agent(
    session: so.Session, appointment: Appointment, actor: Actor, *, exclude: set[int]
) -> Appointment:
    service, location = appointment.service, appointment.location
    held = {h.agent_id for h in appointment.holds}
    tried = set(exclude) | held | _declined_agents(session, appointment)

    def attempt() -> int | None:
        free = free_agents_at(
            session,
            service,
            location,
            appointment.planned_start,
            now=now_utc(),
            exclude=frozenset(tried),
        )
        if not free:
            return None
        (chosen,) = choose_agents(session, free, appointment.planned_start, 1)
        tried.add(chosen)  # if the database refuses the hold, look past this agent
        add_hold(session, appointment, chosen)
        return chosen

    chosen = place_holds(session, attempt, attempts=REPLACE_ATTEMPTS)
    if chosen is None:
        # Nobody can take it at that time: park it with the scheduler, holding nobody.
        park(session, appointment, actor, "Nobody is free to take this appointment at its time.")
        return appointment
    assign(session, appointment, chosen, actor, note="replaces an agent who declined")
    if appointment.status == "accepted":
        move(session, appointment, "requested", actor)
    announce(session, "assigned", appointment, actor=actor.user)
    session.flush()
    return appointment


def _declined_agents(session: so.Session, appointment: Appointment) -> set[int]:
    return set(
        session.scalars(
            sa.select(WorkOrderTask.agent_id).where(
                WorkOrderTask.appointment_id == appointment.id,
                WorkOrderTask.status == "declined",
            )
        )
    )


def start_task(session: so.Session, task: WorkOrderTask, user: User) -> WorkOrderTask:
    """The agent starts work; the appointment and its work order are in progress."""
    actor = Actor(user)
    _own_task(session, task, user)
    if task.status != "accepted":
        raise IllegalTransition("Accept the task before you start it.")
    appointment = lock(session, task.appointment)
    if appointment.status not in ("accepted", "confirmed", "in_progress"):
        raise IllegalTransition(
            f"The appointment is {STATUS_WORDS[appointment.status]}; it cannot start now."
        )
    set_task(session, task, "in_progress", actor)
    if appointment.status != "in_progress":
        move(session, appointment, "in_progress", actor)
    set_work_order(session, appointment.work_order, "in_progress", actor)
    session.flush()
    return task


def complete_task(
    session: so.Session, task: WorkOrderTask, user: User, note: str = ""
) -> WorkOrderTask:
    """The agent finishes its task; when every task is done the customer is asked to
    sign off."""
    actor = Actor(user)
    _own_task(session, task, user)
    if task.status != "in_progress":
        raise IllegalTransition("Start the task before you complete it.")
    note = clean_reason(note, required=False, what="what was done")
    appointment = lock(session, task.appointment)
    set_task(session, task, "done", actor, note=note)
    if note:
        _work_note(session, task, user, note, visibility="customer")
    if not active_tasks(session, appointment):
        move(session, appointment, "completed", actor)
        set_work_order(session, appointment.work_order, "completed", actor)
        announce(session, "completed", appointment, actor=user)
    session.flush()
    return task


def mark_no_show(session: so.Session, appointment: Appointment, user: User) -> Appointment:
    """The agent found nobody there: free the slot and hand it to the scheduler."""
    actor = Actor(user)
    if not (actor.is_scheduler or is_assigned_agent(session, user, appointment)):
        raise NotFound("There is no such appointment in your list.")
    appointment = lock(session, appointment)
    if now_utc() < appointment.window_start:
        raise IllegalTransition("A no-show can be recorded only once the window has begun.")
    move(session, appointment, "no_show", actor)
    release(session, appointment, actor)
    hand_back(session, appointment, actor, "no_show")
    return appointment


def add_work_note(
    session: so.Session, task: WorkOrderTask, user: User, note: str, *, for_customer: bool
) -> None:
    """The agent writes a note on its work order, internal or seen by the customer."""
    _own_task(session, task, user)
    note = clean_reason(note, required=True, what="the note")
    _work_note(session, task, user, note, visibility="customer" if for_customer else "internal")
    session.flush()


def _work_note(
    session: so.Session, task: WorkOrderTask, user: User, note: str, *, visibility: str
) -> None:
    record(
        session,
        task.work_order,
        "work_note",
        actor=user,
        work_order_id=task.work_order_id,
        note=note,
        visibility=visibility,
    )
