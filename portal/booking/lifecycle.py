"""The appointment state machine: every change to an appointment, its tasks and its work
order goes through one function here.

Each function checks who may act and when, moves the states, keeps the holds in step
(a hold exists exactly while the appointment keeps its agents busy), writes the
timeline, and announces the change (one event row in the outbox, which the scheduler
process expands into notices and e-mails: nothing is rendered or sent inline). Services
flush and never commit: the caller commits once. A refused action
raises one of our errors with a message a person understands, and changes nothing.

States (PRODUCT.md): appointment requested -> accepted -> confirmed -> in_progress ->
completed -> signed_off, beside them declined_by_customer, needs_reschedule, no_show,
cancelled. Work order new -> scheduled -> in_progress -> completed -> closed, or
cancelled. Task open -> assigned -> accepted -> in_progress -> done, or declined or
cancelled (its appointment was cancelled or parked).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.booking.announce import announce
from portal.booking.models import (
    OVERLAP_CONSTRAINT,
    Appointment,
    AppointmentHold,
    BookingPolicy,
    SignOff,
)
from portal.booking.services import WindowTaken, choose_agents, live_window, nearest_windows
from portal.booking.windows import free_agents_at, get_policy, location_zone
from portal.errors import Conflict, Invalid, NotAllowed, NotFound
from portal.formatting import fmt_window
from portal.timeutil import now_utc
from portal.workforce.models import Agent
from portal.workorders.models import WorkOrder, WorkOrderTask
from portal.workorders.services import SCHEDULING_QUEUE, record

# Which appointment state may follow which. Anything else is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"accepted", "needs_reschedule", "cancelled", "in_progress"}),
    "accepted": frozenset(
        {
            "confirmed",
            "declined_by_customer",
            "requested",
            "needs_reschedule",
            "cancelled",
            "in_progress",
            "no_show",
        }
    ),
    "confirmed": frozenset(
        {"accepted", "requested", "in_progress", "needs_reschedule", "cancelled", "no_show"}
    ),
    "in_progress": frozenset({"completed"}),
    "completed": frozenset({"signed_off", "needs_reschedule"}),
    "needs_reschedule": frozenset({"requested", "cancelled"}),
    "declined_by_customer": frozenset({"requested", "cancelled"}),
    "no_show": frozenset({"requested", "cancelled"}),
    "signed_off": frozenset(),
    "cancelled": frozenset(),
}
ACTIVE_TASKS = ("open", "assigned", "accepted", "in_progress")
# States in which the customer may still change the appointment by itself.
SELF_SERVICE_STATES = frozenset({"requested", "accepted", "confirmed"})
CLOSED_STATES = frozenset({"signed_off", "cancelled"})
MAX_REASON = 1000
MAX_SIGNATURE_BYTES = 200_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
STATUS_WORDS = {
    "requested": "waiting for the technician to accept",
    "accepted": "waiting for your confirmation",
    "confirmed": "confirmed",
    "in_progress": "in progress",
    "completed": "done and waiting for your sign-off",
    "signed_off": "signed off",
    "declined_by_customer": "declined by you",
    "needs_reschedule": "waiting for a new time from our scheduler",
    "no_show": "marked as missed",
    "cancelled": "cancelled",
}


class IllegalTransition(Conflict):
    """The appointment is not in a state that allows this action."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a logged-in user, or the customer through an e-mailed manage link."""

    user: User | None
    via_link: bool = False

    @property
    def is_staff(self) -> bool:
        return self.user is not None and self.user.is_staff

    @property
    def is_scheduler(self) -> bool:
        return self.user is not None and self.user.has_role("scheduler")


# --- who may do what ---------------------------------------------------------------------


def agent_of(session: so.Session, user: User | None) -> Agent | None:
    if user is None or user.role == "customer":
        return None
    return session.scalar(sa.select(Agent).where(Agent.user_id == user.id))


def is_assigned_agent(session: so.Session, user: User | None, appointment: Appointment) -> bool:
    agent = agent_of(session, user)
    if agent is None:
        return False
    return (
        session.scalar(
            sa.select(WorkOrderTask.id).where(
                WorkOrderTask.appointment_id == appointment.id,
                WorkOrderTask.agent_id == agent.id,
                WorkOrderTask.status.in_(ACTIVE_TASKS + ("done",)),
            )
        )
        is not None
    )


def _require_customer(actor: Actor, appointment: Appointment) -> None:
    if actor.via_link:
        return  # the signed link names this one appointment and nothing else
    user = actor.user
    if user is None or user.role != "customer" or user.account_id != appointment.account_id:
        raise NotFound("There is no such appointment on your account.")


def _require_staff_or_customer(session: so.Session, actor: Actor, appt: Appointment) -> None:
    if actor.is_scheduler or (actor.is_staff and is_assigned_agent(session, actor.user, appt)):
        return
    _require_customer(actor, appt)


def self_service_block(
    appointment: Appointment, policy: BookingPolicy, now: datetime, *, zone: str
) -> str | None:
    """Why the customer cannot change this appointment by itself now, or None if it can."""
    if appointment.status not in SELF_SERVICE_STATES:
        return (
            f"This appointment is {STATUS_WORDS[appointment.status]} and can no longer be changed."
        )
    if appointment.confirm_deadline is not None and now > appointment.confirm_deadline:
        return (
            "The deadline our scheduler set for changes has passed "
            f"({appointment.confirm_deadline.astimezone(_zone(zone)):%a %-d %b, %H:%M %Z})."
        )
    cutoff = appointment.window_start - timedelta(hours=policy.reschedule_cutoff_hours)
    if now >= cutoff:
        return (
            f"Changes are possible until {policy.reschedule_cutoff_hours} hours before the "
            "arrival window, and that time has passed."
        )
    return None


def reschedule_block(
    appointment: Appointment, policy: BookingPolicy, now: datetime, *, zone: str
) -> str | None:
    """Why the customer cannot move this appointment by itself now, or None if it can."""
    reason = self_service_block(appointment, policy, now, zone=zone)
    if reason is None and appointment.self_reschedules >= policy.max_self_reschedules:
        times = (
            "once" if policy.max_self_reschedules == 1 else f"{policy.max_self_reschedules} times"
        )
        reason = f"You have already moved this appointment {times}, the most we allow online."
    return reason


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


# --- helpers that keep the pieces in step -------------------------------------------------


def _move(
    session: so.Session,
    appointment: Appointment,
    new: str,
    actor: Actor,
    *,
    note: str = "",
    visibility: str = "customer",
) -> None:
    old = appointment.status
    if new not in TRANSITIONS[old]:
        raise IllegalTransition(
            f"This appointment is {STATUS_WORDS[old]}, so it cannot become {STATUS_WORDS[new]}."
        )
    appointment.status = new
    record(
        session,
        appointment,
        "status",
        actor=actor.user,
        work_order_id=appointment.work_order_id,
        field="status",
        old=old,
        new=new,
        note=note + (" (through the e-mailed link)" if actor.via_link else ""),
        visibility=visibility,
        on_behalf_of=_customer_user(appointment) if actor.is_staff else None,
    )


def _customer_user(appointment: Appointment) -> User | None:
    return appointment.contact.user if appointment.contact else None


def _set_work_order(session: so.Session, work_order: WorkOrder, new: str, actor: Actor) -> None:
    if work_order.status != new:
        _set_status(session, work_order, work_order.id, new, actor)


def _set_task(session: so.Session, task: WorkOrderTask, new: str, actor: Actor, note="") -> None:
    _set_status(session, task, task.work_order_id, new, actor, note=note)


def _set_status(session, subject, work_order_id: int, new: str, actor: Actor, note="") -> None:
    """Change a work order's or task's status and write the change on the timeline."""
    old, subject.status = subject.status, new
    record(
        session,
        subject,
        "status",
        actor=actor.user,
        work_order_id=work_order_id,
        field="status",
        old=old,
        new=new,
        note=note,
    )


def _active_tasks(session: so.Session, appointment: Appointment) -> list[WorkOrderTask]:
    return list(
        session.scalars(
            sa.select(WorkOrderTask)
            .where(
                WorkOrderTask.appointment_id == appointment.id,
                WorkOrderTask.status.in_(ACTIVE_TASKS),
                WorkOrderTask.agent_id.is_not(None),
            )
            .order_by(WorkOrderTask.id)
        )
    )


def _release(session: so.Session, appointment: Appointment, actor: Actor) -> None:
    """Free every agent the appointment holds and cancel their open tasks."""
    for hold in list(appointment.holds):
        appointment.holds.remove(hold)
    for task in _active_tasks(session, appointment):
        _set_task(session, task, "cancelled", actor)
    session.flush()


def _queue_for_scheduler(
    session: so.Session, appointment: Appointment, title: str, actor: Actor
) -> WorkOrderTask:
    task = WorkOrderTask(
        work_order_id=appointment.work_order_id,
        appointment_id=appointment.id,
        queue=SCHEDULING_QUEUE,
        title=title[:200],
        status="open",
        due_at=now_utc() + timedelta(hours=4),
    )
    session.add(task)
    session.flush()
    record(
        session,
        task,
        "queued",
        actor=actor.user,
        work_order_id=task.work_order_id,
        field="queue",
        new=SCHEDULING_QUEUE,
        note=title,
    )
    return task


def _lock(session: so.Session, appointment: Appointment) -> Appointment:
    """Re-read the appointment with a row lock (PostgreSQL) so two changes queue up."""
    locked = session.scalar(
        sa.select(Appointment)
        .where(Appointment.id == appointment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise NotFound("There is no such appointment.")
    return locked


def _require_status(appointment: Appointment, allowed: tuple[str, ...], then: str) -> None:
    """Refuse, in words, an action the appointment's state does not allow."""
    if appointment.status not in allowed:
        raise IllegalTransition(f"This appointment is {STATUS_WORDS[appointment.status]}; {then}")


def _reason(text: str, *, required: bool, what: str) -> str:
    text = (text or "").strip()
    if required and not text:
        raise Invalid(f"Please tell us {what}.", field="reason")
    if len(text) > MAX_REASON:
        raise Invalid(f"Please keep it under {MAX_REASON} characters.", field="reason")
    return text


def _task_for(session: so.Session, appointment: Appointment, user: User | None) -> WorkOrderTask:
    agent = agent_of(session, user)
    task = None
    if agent is not None:
        task = session.scalar(
            sa.select(WorkOrderTask).where(
                WorkOrderTask.appointment_id == appointment.id,
                WorkOrderTask.agent_id == agent.id,
                WorkOrderTask.status.in_(ACTIVE_TASKS),
            )
        )
    if task is None:
        raise NotFound("You have no open task on this appointment.")
    return task


# --- agents -------------------------------------------------------------------------------


def accept_task(session: so.Session, task: WorkOrderTask, user: User) -> WorkOrderTask:
    """The assigned agent accepts; once every agent has, the customer is asked to confirm."""
    actor = Actor(user)
    agent = agent_of(session, user)
    if agent is None or task.agent_id != agent.id:
        raise NotFound("There is no such task in your list.")
    if task.status != "assigned":
        raise IllegalTransition(
            f"This task is {task.status.replace('_', ' ')}, not waiting for you."
        )
    appointment = _lock(session, task.appointment)
    _set_task(session, task, "accepted", actor)
    pending = [t for t in _active_tasks(session, appointment) if t.status == "assigned"]
    if not pending and appointment.status == "requested":
        _move(session, appointment, "accepted", actor)
        announce(session, "confirmation_requested", appointment, actor=user)
    session.flush()
    return task


def decline_task(
    session: so.Session, task: WorkOrderTask, user: User, reason: str = ""
) -> Appointment:
    """The agent declines: the hold moves to another free qualified agent at the same
    time, in this transaction; when nobody is free the appointment needs a new time."""
    actor = Actor(user)
    agent = agent_of(session, user)
    if agent is None or task.agent_id != agent.id:
        raise NotFound("There is no such task in your list.")
    if task.status not in ("assigned", "accepted"):
        raise IllegalTransition("Only a task that has not started can be declined.")
    reason = _reason(reason, required=False, what="why")
    appointment = _lock(session, task.appointment)
    _set_task(session, task, "declined", actor, note=reason)
    for hold in [h for h in appointment.holds if h.agent_id == agent.id]:
        appointment.holds.remove(hold)
    session.flush()
    return _replace_agent(session, appointment, actor, exclude={agent.id})


def _replace_agent(
    session: so.Session, appointment: Appointment, actor: Actor, *, exclude: set[int]
) -> Appointment:
    service, location = appointment.service, appointment.location
    held = {h.agent_id for h in appointment.holds}
    tried = set(exclude) | held | _declined_agents(session, appointment)
    for _attempt in range(5):
        free = free_agents_at(
            session,
            service,
            location,
            appointment.planned_start,
            now=now_utc(),
            exclude=frozenset(tried),
        )
        if not free:
            break
        (chosen,) = choose_agents(session, free, appointment.planned_start, 1)
        try:
            with session.begin_nested():
                _hold(session, appointment, chosen)
        except IntegrityError as err:
            if OVERLAP_CONSTRAINT not in str(err.orig):
                raise
            tried.add(chosen)
            continue
        _assign(session, appointment, chosen, actor, note="replaces an agent who declined")
        if appointment.status == "accepted":
            _move(session, appointment, "requested", actor, visibility="internal")
        announce(session, "assigned", appointment, actor=actor.user)
        session.flush()
        return appointment
    # Nobody can take it at that time: park it with the scheduler, holding nobody.
    _park(session, appointment, actor, "Nobody is free to take this appointment at its time.")
    return appointment


def _assign(
    session: so.Session,
    appointment: Appointment,
    agent_id: int,
    actor: Actor,
    *,
    replaces: int | None = None,
    note: str = "",
) -> WorkOrderTask:
    """Give the agent a task on the appointment (its hold is made by the caller) and
    write the assignment on the timeline."""
    task = WorkOrderTask(
        work_order_id=appointment.work_order_id,
        appointment_id=appointment.id,
        agent_id=agent_id,
        title=appointment.service.name,
        status="assigned",
        due_at=appointment.planned_start,
    )
    session.add(task)
    session.flush()
    record(
        session,
        task,
        "assigned",
        actor=actor.user,
        work_order_id=task.work_order_id,
        field="agent",
        old=replaces,
        new=agent_id,
        note=note,
    )
    return task


def _declined_agents(session: so.Session, appointment: Appointment) -> set[int]:
    return set(
        session.scalars(
            sa.select(WorkOrderTask.agent_id).where(
                WorkOrderTask.appointment_id == appointment.id,
                WorkOrderTask.status == "declined",
            )
        )
    )


def _hold(session: so.Session, appointment: Appointment, agent_id: int) -> None:
    service = appointment.service
    appointment.holds.append(
        AppointmentHold(
            agent_id=agent_id,
            starts_at=appointment.planned_start,
            ends_at=appointment.planned_start
            + timedelta(minutes=service.duration_minutes + service.buffer_minutes),
        )
    )
    session.flush()


def _park(session: so.Session, appointment: Appointment, actor: Actor, why: str) -> None:
    _release(session, appointment, actor)
    _move(session, appointment, "needs_reschedule", actor, note=why)
    _set_work_order(session, appointment.work_order, "new", actor)
    _queue_for_scheduler(session, appointment, f"Find a new time for {appointment.number}", actor)
    announce(session, "needs_reschedule", appointment, actor=actor.user, note=why)
    session.flush()


def start_task(session: so.Session, task: WorkOrderTask, user: User) -> WorkOrderTask:
    actor = Actor(user)
    agent = agent_of(session, user)
    if agent is None or task.agent_id != agent.id:
        raise NotFound("There is no such task in your list.")
    if task.status != "accepted":
        raise IllegalTransition("Accept the task before you start it.")
    appointment = _lock(session, task.appointment)
    if appointment.status not in ("accepted", "confirmed", "in_progress"):
        raise IllegalTransition(
            f"The appointment is {STATUS_WORDS[appointment.status]}; it cannot start now."
        )
    _set_task(session, task, "in_progress", actor)
    if appointment.status != "in_progress":
        _move(session, appointment, "in_progress", actor)
    _set_work_order(session, appointment.work_order, "in_progress", actor)
    session.flush()
    return task


def complete_task(
    session: so.Session, task: WorkOrderTask, user: User, note: str = ""
) -> WorkOrderTask:
    """The agent finishes its task; when every task is done the customer is asked to
    sign off."""
    actor = Actor(user)
    agent = agent_of(session, user)
    if agent is None or task.agent_id != agent.id:
        raise NotFound("There is no such task in your list.")
    if task.status != "in_progress":
        raise IllegalTransition("Start the task before you complete it.")
    note = _reason(note, required=False, what="what was done")
    appointment = _lock(session, task.appointment)
    _set_task(session, task, "done", actor, note=note)
    if note:
        record(
            session,
            appointment.work_order,
            "work_note",
            actor=user,
            work_order_id=appointment.work_order_id,
            note=note,
            visibility="customer",
        )
    if not _active_tasks(session, appointment):
        _move(session, appointment, "completed", actor)
        _set_work_order(session, appointment.work_order, "completed", actor)
        announce(session, "completed", appointment, actor=user)
    session.flush()
    return task


def mark_no_show(session: so.Session, appointment: Appointment, user: User) -> Appointment:
    """The agent found nobody there: free the slot and hand it to the scheduler."""
    actor = Actor(user)
    if not (actor.is_scheduler or is_assigned_agent(session, user, appointment)):
        raise NotFound("There is no such appointment in your list.")
    appointment = _lock(session, appointment)
    if now_utc() < appointment.window_start:
        raise IllegalTransition("A no-show can be recorded only once the window has begun.")
    _move(session, appointment, "no_show", actor)
    _release(session, appointment, actor)
    _set_work_order(session, appointment.work_order, "new", actor)
    _queue_for_scheduler(session, appointment, f"Customer missed {appointment.number}", actor)
    announce(session, "no_show", appointment, actor=user)
    session.flush()
    return appointment


# --- customers ----------------------------------------------------------------------------


def _require_unexpired(appointment: Appointment) -> None:
    """A confirmation request left unanswered past its deadline locks the customer's
    answer too (PRODUCT.md: it locks self-service); a scheduler sets a new deadline."""
    if appointment.confirm_expired_at is not None:
        raise NotAllowed(
            "The time to answer this request has passed. Our scheduling team will be in "
            "touch; you can still send them a change request."
        )


def confirm_appointment(session: so.Session, appointment: Appointment, actor: Actor) -> Appointment:
    _require_customer(actor, appointment)
    appointment = _lock(session, appointment)
    _require_status(appointment, ("accepted",), "there is nothing to confirm.")
    _require_unexpired(appointment)
    _move(session, appointment, "confirmed", actor)
    announce(session, "confirmed", appointment, actor=actor.user)
    session.flush()
    return appointment


def decline_appointment(
    session: so.Session, appointment: Appointment, actor: Actor, reason: str = ""
) -> Appointment:
    """The customer declines the proposed appointment; the scheduler follows up."""
    _require_customer(actor, appointment)
    reason = _reason(reason, required=False, what="why")
    appointment = _lock(session, appointment)
    _require_status(appointment, ("accepted",), "it cannot be declined.")
    _require_unexpired(appointment)
    _move(session, appointment, "declined_by_customer", actor, note=reason)
    _release(session, appointment, actor)
    _set_work_order(session, appointment.work_order, "new", actor)
    _queue_for_scheduler(
        session, appointment, f"Customer declined {appointment.number}: agree a new time", actor
    )
    announce(session, "declined_by_customer", appointment, actor=actor.user, note=reason)
    session.flush()
    return appointment


def cancel_appointment(
    session: so.Session,
    appointment: Appointment,
    actor: Actor,
    reason: str,
    *,
    override_reason: str = "",
) -> Appointment:
    """Cancel: the customer inside the policy, staff at any time. Frees every agent at once."""
    _require_staff_or_customer(session, actor, appointment)
    reason = _reason(reason, required=True, what="why you are cancelling")
    appointment = _lock(session, appointment)
    if appointment.status in CLOSED_STATES or appointment.status in ("in_progress", "completed"):
        raise IllegalTransition(
            f"This appointment is {STATUS_WORDS[appointment.status]}; it cannot be cancelled."
        )
    if not actor.is_staff:
        block = self_service_block(
            appointment, get_policy(session), now_utc(), zone=_location_zone(appointment)
        )
        if block:
            raise NotAllowed(block + " " + CONTACT_SCHEDULER)
    _move(session, appointment, "cancelled", actor, note=reason)
    _release(session, appointment, actor)
    appointment.cancel_reason = reason
    appointment.sequence += 1
    _set_work_order(session, appointment.work_order, "cancelled", actor)
    if override_reason:
        record(
            session,
            appointment,
            "override",
            actor=actor.user,
            work_order_id=appointment.work_order_id,
            note=override_reason,
        )
    announce(session, "cancelled", appointment, actor=actor.user, note=reason)
    session.flush()
    return appointment


CONTACT_SCHEDULER = "You can send our scheduler a change request below, or call us."


def reschedule_appointment(
    session: so.Session,
    appointment: Appointment,
    new_start: datetime,
    actor: Actor,
    *,
    override_reason: str = "",
    org_zone: str = "Europe/London",
) -> Appointment:
    """Move the appointment to another live window; the old one is freed in the same
    transaction. Customers inside the policy; assigned agents and schedulers at any time
    (recorded as on the customer's behalf), keeping the same agents where they are free."""
    _require_staff_or_customer(session, actor, appointment)
    appointment = _lock(session, appointment)
    zone = _location_zone(appointment, org_zone)
    if actor.is_staff:
        if appointment.status in CLOSED_STATES or appointment.status in (
            "in_progress",
            "completed",
        ):
            raise IllegalTransition(
                f"This appointment is {STATUS_WORDS[appointment.status]}; it cannot be moved."
            )
    else:
        block = reschedule_block(appointment, get_policy(session), now_utc(), zone=zone)
        if block:
            raise NotAllowed(block + " " + CONTACT_SCHEDULER)
    if new_start == appointment.window_start and appointment.holds:
        raise Invalid("That is the window the appointment already has.", field="start")
    old_window = (appointment.window_start, appointment.window_end)
    old_agents = frozenset(h.agent_id for h in appointment.holds)
    needed = appointment.service.agents_needed
    for _attempt in range(5):
        try:
            with session.begin_nested():
                for hold in list(appointment.holds):
                    appointment.holds.remove(hold)
                session.flush()
                window = live_window(
                    session, appointment.service, appointment.location, new_start, org_zone
                )
                if window is None:
                    raise WindowTaken(
                        "Sorry, that window is not free any more. Here are the nearest ones.",
                        [],
                    )
                agents = choose_agents(
                    session,
                    list(window.agent_ids),
                    window.planned_start,
                    needed,
                    prefer=old_agents,
                )
                appointment.window_start, appointment.window_end = window.starts_at, window.ends_at
                appointment.planned_start = window.planned_start
                appointment.planned_end = window.planned_start + timedelta(
                    minutes=appointment.service.duration_minutes
                )
                for agent_id in agents:
                    _hold(session, appointment, agent_id)
        except WindowTaken:
            session.expire(appointment)
            raise WindowTaken(
                "Sorry, that window is not free any more. Here are the nearest ones.",
                nearest_windows(
                    session, appointment.service, appointment.location, new_start, org_zone=org_zone
                ),
            ) from None
        except IntegrityError as err:
            if OVERLAP_CONSTRAINT not in str(err.orig):
                raise
            session.expire(appointment)
            continue
        break
    else:
        raise WindowTaken(
            "Sorry, that window is not free any more. Here are the nearest ones.",
            nearest_windows(
                session, appointment.service, appointment.location, new_start, org_zone=org_zone
            ),
        )
    _retask(session, appointment, set(agents), actor)
    appointment.sequence += 1
    if not actor.is_staff:
        appointment.self_reschedules += 1
    record(
        session,
        appointment,
        "rescheduled",
        actor=actor.user,
        work_order_id=appointment.work_order_id,
        field="window",
        old=fmt_window(*old_window, zone),
        new=fmt_window(appointment.window_start, appointment.window_end, zone),
        note=override_reason,
        visibility="customer",
        on_behalf_of=_customer_user(appointment) if actor.is_staff else None,
    )
    changed_agents = set(agents) != set(old_agents)
    if appointment.status in ("needs_reschedule", "declined_by_customer", "no_show"):
        _move(session, appointment, "requested", actor)
        _set_work_order(session, appointment.work_order, "scheduled", actor)
        _close_queue_tasks(session, appointment, actor)
    elif changed_agents and appointment.status in ("accepted", "confirmed"):
        _move(session, appointment, "requested", actor, visibility="internal")
    elif actor.is_staff and appointment.status == "confirmed":
        _move(session, appointment, "accepted", actor, note="moved by staff: please confirm")
    if appointment.confirm_expired_at is not None:
        # The new time is a new request: the lapsed one's lock and deadline go with it.
        appointment.confirm_expired_at = None
        if appointment.confirm_deadline is not None and appointment.confirm_deadline <= now_utc():
            appointment.confirm_deadline = None
    announce(session, "rescheduled", appointment, actor=actor.user, old_window=old_window)
    if appointment.status == "accepted" and actor.is_staff:
        announce(session, "confirmation_requested", appointment, actor=actor.user)
    session.flush()
    return appointment


def _retask(session: so.Session, appointment: Appointment, agents: set[int], actor: Actor) -> None:
    """Keep the tasks of agents who stay, cancel those who left, assign the new ones."""
    current = {t.agent_id: t for t in _active_tasks(session, appointment)}
    for agent_id, task in current.items():
        if agent_id in agents:
            task.due_at = appointment.planned_start
        else:
            _set_task(session, task, "cancelled", actor, note="appointment moved")
    for agent_id in sorted(agents - set(current)):
        _assign(session, appointment, agent_id, actor)
    session.flush()


def _close_queue_tasks(
    session: so.Session, appointment: Appointment, actor: Actor, note: str = "a new time was found"
) -> None:
    for task in session.scalars(
        sa.select(WorkOrderTask).where(
            WorkOrderTask.appointment_id == appointment.id,
            WorkOrderTask.queue == SCHEDULING_QUEUE,
            WorkOrderTask.status.in_(ACTIVE_TASKS),
        )
    ):
        _set_task(session, task, "done", actor, note=note)


def request_change(
    session: so.Session, appointment: Appointment, actor: Actor, message: str
) -> WorkOrderTask:
    """Outside the policy the customer asks the scheduler instead; it lands in the queue."""
    _require_customer(actor, appointment)
    message = _reason(message, required=True, what="what you would like to change")
    appointment = _lock(session, appointment)  # its events keep their order
    if appointment.status in CLOSED_STATES:
        raise IllegalTransition(f"This appointment is {STATUS_WORDS[appointment.status]}.")
    task = _queue_for_scheduler(
        session, appointment, f"Change request for {appointment.number}: {message}", actor
    )
    record(
        session,
        appointment,
        "change_requested",
        actor=actor.user,
        work_order_id=appointment.work_order_id,
        note=message,
        visibility="customer",
    )
    announce(session, "change_request", appointment, actor=actor.user, note=message)
    session.flush()
    return task


def sign_off(
    session: so.Session,
    appointment: Appointment,
    actor: Actor,
    *,
    full_name: str,
    consent: bool,
    remote_addr: str,
    user_agent: str,
    signature_png: bytes | None = None,
) -> SignOff:
    """The customer confirms the work was done; that closes the work order."""
    _require_customer(actor, appointment)
    full_name = (full_name or "").strip()
    if len(full_name) < 2:
        raise Invalid("Type your full name to sign.", field="full_name")
    if len(full_name) > 120:
        raise Invalid("That name is too long.", field="full_name")
    if not consent:
        raise Invalid("Tick the box to confirm the work was done.", field="consent")
    if signature_png is not None and (
        len(signature_png) > MAX_SIGNATURE_BYTES or not signature_png.startswith(PNG_MAGIC)
    ):
        raise Invalid(
            "The drawn signature could not be read; clear it and try again.", field="signature"
        )
    appointment = _lock(session, appointment)
    _require_status(appointment, ("completed",), "there is nothing to sign.")
    signed = SignOff(
        appointment_id=appointment.id,
        user_id=actor.user.id if actor.user else None,
        full_name=full_name,
        consent=True,
        signed_at=now_utc(),
        remote_addr=(remote_addr or "")[:64],
        user_agent=(user_agent or "")[:400],
        signature_png=signature_png or None,
    )
    session.add(signed)
    _move(session, appointment, "signed_off", actor, note=f"signed by {full_name}")
    _set_work_order(session, appointment.work_order, "closed", actor)
    announce(session, "signed_off", appointment, actor=actor.user)
    session.flush()
    return signed


def report_not_done(
    session: so.Session, appointment: Appointment, actor: Actor, note: str
) -> Appointment:
    """The customer says the work was not done: the work order reopens for the scheduler."""
    _require_customer(actor, appointment)
    note = _reason(note, required=True, what="what was not done")
    appointment = _lock(session, appointment)
    _require_status(appointment, ("completed",), "it cannot be reopened.")
    _move(session, appointment, "needs_reschedule", actor, note=note)
    _set_work_order(session, appointment.work_order, "in_progress", actor)
    _queue_for_scheduler(
        session, appointment, f"Work not done on {appointment.number}: {note}", actor
    )
    announce(session, "work_not_done", appointment, actor=actor.user, note=note)
    session.flush()
    return appointment


# --- schedulers ---------------------------------------------------------------------------


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


def _location_zone(appointment: Appointment, default: str = "Europe/London") -> str:
    return location_zone(appointment.location, default)


def load_for_link(session: so.Session, appointment_id: int) -> Appointment:
    """The appointment a manage link names; closed appointments open nothing."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.status in CLOSED_STATES:
        raise NotFound("This link no longer opens an appointment.")
    return appointment


# --- staff console ------------------------------------------------------------------------


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
    if task.appointment is None or task.status not in ("assigned", "accepted"):
        raise IllegalTransition("Only a task that has not started can be reassigned.")
    if task.agent_id == agent_id:
        raise Invalid("The task is already with that agent.", field="agent")
    appointment = _lock(session, task.appointment)
    if appointment.status not in ("requested", "accepted", "confirmed"):
        raise IllegalTransition(
            f"The appointment is {STATUS_WORDS[appointment.status]}; its tasks cannot move."
        )
    new_agent = session.get(Agent, agent_id)
    if new_agent is None or not new_agent.active:
        raise Invalid("Choose an active agent.", field="agent")
    try:
        with session.begin_nested():
            for hold in [h for h in appointment.holds if h.agent_id == task.agent_id]:
                appointment.holds.remove(hold)
            session.flush()
            if not agent_is_free(session, appointment, agent_id):
                raise Conflict(f"{new_agent.name} is not free for this appointment's time.")
            _hold(session, appointment, agent_id)
    except IntegrityError as err:
        if OVERLAP_CONSTRAINT not in str(err.orig):
            raise
        session.expire(appointment)
        raise Conflict(
            f"{new_agent.name} was booked by someone else a moment ago; nothing changed."
        ) from None
    except Conflict:
        session.expire(appointment)
        raise
    _set_task(session, task, "cancelled", actor, note=note or "reassigned")
    new_task = _assign(session, appointment, agent_id, actor, replaces=task.agent_id, note=note)
    if appointment.status == "accepted":
        _move(session, appointment, "requested", actor, visibility="internal")
    announce(session, "assigned", appointment, actor=user)
    session.flush()
    return new_task


def qualified_agent_ids(session: so.Session, appointment: Appointment) -> set[int]:
    """The active agents with the appointment's skill who serve its territory."""
    from portal.booking.windows import qualified_agent_names

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
    note = _reason(note, required=False, what="the note")
    appointment = _lock(session, appointment)
    _require_status(
        appointment,
        ("needs_reschedule",),
        "only an appointment waiting for a new time can be assigned from the queue.",
    )
    if appointment.window_start <= now_utc():
        raise IllegalTransition(
            "This appointment's window has already begun: choose a new time on its page."
        )
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
    try:
        with session.begin_nested():
            for agent in agents:
                _hold(session, appointment, agent.id)
    except IntegrityError as err:
        if OVERLAP_CONSTRAINT not in str(err.orig):
            raise
        session.expire(appointment)
        raise Conflict(
            "One of those agents was booked by someone else a moment ago; nothing changed."
        ) from None
    for agent in agents:
        _assign(session, appointment, agent.id, actor, note=note or "assigned from the queue")
    # A new version for calendars: the customer's invitation is sent again (REQUEST).
    appointment.sequence += 1
    _move(session, appointment, "requested", actor, note=note)
    _set_work_order(session, appointment.work_order, "scheduled", actor)
    _close_queue_tasks(session, appointment, actor, note="agents assigned from the queue")
    announce(session, "booked", appointment, actor=user, agents=agents)
    session.flush()
    return appointment


def park_for_disruption(
    session: so.Session, appointment: Appointment, user: User | None, why: str
) -> Appointment:
    """An agent can no longer keep this booking (hours, leave, deactivation): it holds
    nobody, needs a new time, lands with the scheduler, and the customer is told."""
    appointment = _lock(session, appointment)
    if appointment.status not in ("requested", "accepted", "confirmed"):
        raise IllegalTransition(
            f"The appointment is {STATUS_WORDS[appointment.status]}; it cannot be parked."
        )
    _park(session, appointment, Actor(user), why)
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
    from portal.accounts.models import Contact, ServiceLocation

    actor = Actor(user)
    if not (actor.is_scheduler or is_assigned_agent(session, user, appointment)):
        raise NotFound("There is no such appointment in your list.")
    if appointment.status in CLOSED_STATES:
        raise IllegalTransition(f"This appointment is {STATUS_WORDS[appointment.status]}.")
    changes = []
    if note is not None and note.strip() != appointment.note:
        note = _reason(note, required=False, what="the note")
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
            on_behalf_of=_customer_user(appointment),
        )
    if changes:
        appointment.sequence += 1
    session.flush()
    session.expire(appointment, ["contact", "location"])
    return appointment


def add_work_note(
    session: so.Session, task: WorkOrderTask, user: User, note: str, *, for_customer: bool
) -> None:
    """The agent writes a note on its work order, internal or seen by the customer."""
    agent = agent_of(session, user)
    if agent is None or task.agent_id != agent.id:
        raise NotFound("There is no such task in your list.")
    note = _reason(note, required=True, what="the note")
    record(
        session,
        task.work_order,
        "work_note",
        actor=user,
        work_order_id=task.work_order_id,
        note=note,
        visibility="customer" if for_customer else "internal",
    )
    session.flush()
