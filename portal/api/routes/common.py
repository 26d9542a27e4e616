"""What several API views share: the org's zone, loading a record the caller may see,
and an appointment in its public shape (portal/booking/shapes.py) as the caller sees it."""

from __future__ import annotations

from portal.accounts.models import User
from portal.booking import steps
from portal.booking.models import Appointment
from portal.booking.services import get_customer_appointment
from portal.booking.shapes import AppointmentOut, appointment_out
from portal.db import get_session
from portal.errors import NotFound
from portal.formatting import org_zone


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


def shown_to(user: User, appointment: Appointment) -> AppointmentOut:
    """The appointment as `user` sees it: staff see its tasks, customers do not."""
    return appointment_out(appointment, org_zone=org_zone(), with_tasks=user.is_staff)
