"""What several API views share: the org's zone, loading a record the caller may see,
and turning appointments into their API shape."""

from __future__ import annotations

from flask import current_app

from portal.accounts.models import User
from portal.api.schemas import AppointmentOut, TaskOut
from portal.booking import states, steps
from portal.booking.models import Appointment
from portal.booking.services import get_customer_appointment
from portal.booking.windows import location_zone
from portal.db import get_session
from portal.errors import NotFound
from portal.ids import MAX_ID
from portal.timeutil import to_local

ID = f"int(min=1, max={MAX_ID})"  # the path converter for record ids


def org_zone() -> str:
    return current_app.config["ORG_TIME_ZONE"]


def load_appointment(user: User, appointment_id: int) -> Appointment:
    """A customer sees its account's appointments; a scheduler every one; an agent those
    it is assigned to (as on the pages). Anything else is 404, never 403."""
    session = get_session()
    if not user.is_staff:
        return get_customer_appointment(session, user, appointment_id)
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or not (
        user.has_role("scheduler") or steps.is_assigned_agent(session, user, appointment)
    ):
        raise NotFound("There is no such appointment in your list.")
    return appointment


def appointment_out(appointment: Appointment, user: User) -> AppointmentOut:
    zone = location_zone(appointment.location, org_zone())
    tasks = None
    if user.is_staff:
        tasks = [
            task_out(t) for t in appointment.work_order.tasks if t.appointment_id == appointment.id
        ]
    return AppointmentOut(
        id=appointment.id,
        number=appointment.number,
        status=appointment.status,
        status_text=states.STATUS_WORDS[appointment.status],
        service_id=appointment.service_id,
        service_name=appointment.service.name,
        account_id=appointment.account_id,
        contact_id=appointment.contact_id,
        location_id=appointment.location_id,
        work_order_id=appointment.work_order_id,
        work_order_number=appointment.work_order.number,
        time_zone=zone,
        window_start=appointment.window_start,
        window_end=appointment.window_end,
        local_window_start=to_local(appointment.window_start, zone),
        local_window_end=to_local(appointment.window_end, zone),
        note=appointment.note,
        confirm_deadline=appointment.confirm_deadline,
        self_reschedules=appointment.self_reschedules,
        tasks=tasks,
    )


def task_out(task) -> TaskOut:
    return TaskOut(
        id=task.id,
        status=task.status,
        agent_id=task.agent_id,
        agent_name=task.agent.name if task.agent else None,
        queue=task.queue,
        title=task.title,
        due_at=task.due_at,
    )
