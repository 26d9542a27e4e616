"""The customer's moves on an appointment: confirm, decline, cancel, move, ask for a
change, sign off, or say the work was not done. Staff use cancel and move too, on the
customer's behalf and beyond the self-service policy.

Each function checks who may act and when, moves the states (the table is in
states.py), keeps the holds in step, writes the timeline, and announces the change (one
event row in the outbox, which the scheduler process expands into notices and e-mails:
nothing is rendered or sent inline). Services flush and never commit: the caller
commits once. A refused action raises one of our errors with a message a person
understands, and changes nothing. The agent's moves are in agent_moves.py, the
scheduler's in portal/dispatch/services.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy.orm as so

from portal.booking.announce import announce
from portal.booking.holds import add_hold, place_holds
from portal.booking.models import Appointment, SignOff
from portal.booking.services import WindowTaken, choose_agents, live_window, nearest_windows
from portal.booking.states import (
    CLOSED_STATES,
    PARKED_STATES,
    STATUS_WORDS,
    reschedule_block,
    self_service_block,
    staff_block,
)
from portal.booking.steps import (
    Actor,
    IllegalTransition,
    active_tasks,
    assign,
    clean_reason,
    close_queue_tasks,
    customer_user,
    hand_back,
    lock,
    move,
    queue_for_scheduler,
    release,
    require_customer,
    require_staff_or_customer,
    require_status,
    set_task,
    set_work_order,
)
from portal.booking.windows import get_policy, location_zone
from portal.errors import Invalid, NotAllowed, NotFound
from portal.formatting import fmt_window
from portal.timeutil import now_utc
from portal.workorders.models import WorkOrderTask
from portal.workorders.services import record
from portal.workorders.status import set_work_order_status

MAX_SIGNATURE_BYTES = 200_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CONTACT_SCHEDULER = "You can send our scheduler a change request below, or call us."
# A move looks this many times for the agents of its new window before giving up.
MOVE_ATTEMPTS = 5


def load_for_link(session: so.Session, appointment_id: int) -> Appointment:
    """The appointment a manage link names; closed appointments open nothing."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.status in CLOSED_STATES:
        raise NotFound("This link no longer opens an appointment.")
    return appointment


def _location_zone(appointment: Appointment, default: str | None = None) -> str:
    return location_zone(appointment.location, default)


def _require_unexpired(appointment: Appointment) -> None:
    """A confirmation request left unanswered past its deadline locks the customer's
    answer too (PRODUCT.md: it locks self-service); a scheduler sets a new deadline."""
    if appointment.confirm_expired_at is not None:
        raise NotAllowed(
            "The time to answer this request has passed. Our scheduling team will be in "
            "touch; you can still send them a change request."
        )


def confirm_appointment(session: so.Session, appointment: Appointment, actor: Actor) -> Appointment:
    """The customer confirms the time the agents accepted."""
    require_customer(actor, appointment)
    appointment = lock(session, appointment)
    require_status(appointment, ("accepted",), "there is nothing to confirm.")
    _require_unexpired(appointment)
    move(session, appointment, "confirmed", actor)
    announce(session, "confirmed", appointment, actor=actor.user)
    session.flush()
    return appointment


def decline_appointment(
    session: so.Session, appointment: Appointment, actor: Actor, reason: str = ""
) -> Appointment:
    """The customer declines the proposed appointment; the scheduler follows up."""
    require_customer(actor, appointment)
    reason = clean_reason(reason, required=False, what="why")
    appointment = lock(session, appointment)
    require_status(appointment, ("accepted",), "it cannot be declined.")
    _require_unexpired(appointment)
    move(session, appointment, "declined_by_customer", actor, note=reason)
    release(session, appointment, actor)
    hand_back(session, appointment, actor, "declined_by_customer", reason)
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
    require_staff_or_customer(session, actor, appointment)
    reason = clean_reason(reason, required=True, what="why you are cancelling")
    appointment = lock(session, appointment)
    block = staff_block(appointment.status, "cancelled")
    if block:
        raise IllegalTransition(block)
    if not actor.is_staff:
        block = self_service_block(
            appointment, get_policy(session), now_utc(), zone=_location_zone(appointment)
        )
        if block:
            raise NotAllowed(block + " " + CONTACT_SCHEDULER)
    move(session, appointment, "cancelled", actor, note=reason)
    release(session, appointment, actor)
    appointment.cancel_reason = reason
    appointment.sequence += 1
    set_work_order(session, appointment.work_order, "cancelled", actor)
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


def reschedule_appointment(
    session: so.Session,
    appointment: Appointment,
    new_start: datetime,
    actor: Actor,
    *,
    override_reason: str = "",
    org_zone: str | None = None,
) -> Appointment:
    """Move the appointment to another live window; the old one is freed in the same
    transaction. Customers inside the policy; assigned agents and schedulers at any time
    (recorded as on the customer's behalf), keeping the same agents where they are free."""
    require_staff_or_customer(session, actor, appointment)
    appointment = lock(session, appointment)
    zone = _location_zone(appointment, org_zone)
    if actor.is_staff:
        block = staff_block(appointment.status, "moved")
        if block:
            raise IllegalTransition(block)
    else:
        block = reschedule_block(appointment, get_policy(session), now_utc(), zone=zone)
        if block:
            raise NotAllowed(block + " " + CONTACT_SCHEDULER)
    if new_start == appointment.window_start and appointment.holds:
        raise Invalid("That is the window the appointment already has.", field="start")
    old_window = (appointment.window_start, appointment.window_end)
    old_agents = frozenset(h.agent_id for h in appointment.holds)
    service = appointment.service

    def gone(alternatives: list) -> WindowTaken:
        return WindowTaken(
            "Sorry, that window is not free any more. Here are the nearest ones.", alternatives
        )

    def attempt() -> list[int]:
        for hold in list(appointment.holds):
            appointment.holds.remove(hold)
        session.flush()
        window = live_window(session, service, appointment.location, new_start, org_zone)
        if window is None:
            raise gone([])
        agents = choose_agents(
            session,
            list(window.agent_ids),
            window.planned_start,
            service.agents_needed,
            prefer=old_agents,
        )
        appointment.window_start, appointment.window_end = window.starts_at, window.ends_at
        appointment.planned_start = window.planned_start
        appointment.planned_end = window.planned_start + timedelta(minutes=service.duration_minutes)
        for agent_id in agents:
            add_hold(session, appointment, agent_id)
        return agents

    try:
        agents = place_holds(
            session,
            attempt,
            attempts=MOVE_ATTEMPTS,
            on_lost=lambda: session.expire(appointment),
        )
    except WindowTaken:
        session.expire(appointment)
        agents = None
    if agents is None:
        raise gone(
            nearest_windows(
                session, appointment.service, appointment.location, new_start, org_zone=org_zone
            )
        ) from None
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
        on_behalf_of=customer_user(appointment) if actor.is_staff else None,
    )
    changed_agents = set(agents) != set(old_agents)
    if appointment.status in PARKED_STATES:
        move(session, appointment, "requested", actor)
        set_work_order(session, appointment.work_order, "scheduled", actor)
        close_queue_tasks(session, appointment, actor)
    elif changed_agents and appointment.status in ("accepted", "confirmed"):
        move(session, appointment, "requested", actor)
    elif actor.is_staff and appointment.status == "confirmed":
        move(session, appointment, "accepted", actor, note="moved by staff: please confirm")
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
    current = {t.agent_id: t for t in active_tasks(session, appointment)}
    for agent_id, task in current.items():
        if agent_id in agents:
            task.due_at = appointment.planned_start
        else:
            set_task(session, task, "cancelled", actor, note="appointment moved")
    for agent_id in sorted(agents - set(current)):
        assign(session, appointment, agent_id, actor)
    session.flush()


def request_change(
    session: so.Session, appointment: Appointment, actor: Actor, message: str
) -> WorkOrderTask:
    """Outside the policy the customer asks the scheduler instead; it lands in the queue."""
    require_customer(actor, appointment)
    message = clean_reason(message, required=True, what="what you would like to change")
    appointment = lock(session, appointment)  # its events keep their order
    if appointment.status in CLOSED_STATES:
        raise IllegalTransition(f"This appointment is {STATUS_WORDS[appointment.status]}.")
    task = queue_for_scheduler(
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
    require_customer(actor, appointment)
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
    appointment = lock(session, appointment)
    require_status(appointment, ("completed",), "there is nothing to sign.")
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
    move(session, appointment, "signed_off", actor, note=f"signed by {full_name}")
    set_work_order(session, appointment.work_order, "closed", actor)
    announce(session, "signed_off", appointment, actor=actor.user)
    session.flush()
    return signed


def report_not_done(
    session: so.Session, appointment: Appointment, actor: Actor, note: str
) -> Appointment:
    """The customer says the work was not done: the work order reopens for the scheduler."""
    require_customer(actor, appointment)
    note = clean_reason(note, required=True, what="what was not done")
    appointment = lock(session, appointment)
    require_status(appointment, ("completed",), "it cannot be reopened.")
    move(session, appointment, "needs_reschedule", actor, note=note)
    hand_back(session, appointment, actor, "work_not_done", note)
    return appointment


def close_without_sign_off(
    session: so.Session, appointment: Appointment, actor: Actor, reason: str
) -> Appointment:
    """The work is done but the customer never signs it off: a scheduler closes the work
    order with a reason (the spine's move completed -> closed; the appointment stays
    completed, its sign-off never given). Whoever watches the work order hears of it (an
    order counts it as final)."""
    if not actor.is_scheduler:
        raise NotAllowed("Only a scheduler can close work the customer has not signed off.")
    reason = clean_reason(
        reason, required=True, what="why the work closes without the customer's sign-off"
    )
    appointment = lock(session, appointment)
    require_status(appointment, ("completed",), "only finished work waits for a sign-off.")
    work_order = appointment.work_order
    record(
        session,
        appointment,
        "closed_unsigned",
        actor=actor.user,
        work_order_id=work_order.id,
        note=reason,
    )
    set_work_order_status(session, work_order, "closed", by=actor.user, why=reason)
    session.flush()
    return appointment
