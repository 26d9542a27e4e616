"""A month of demo bookings, made through the booking service and moved along by the
same state machine people use.

The clock is set back for the past fortnight so those bookings pass the same checks
(minimum notice, horizon) as any customer's; past appointments are then accepted,
confirmed, worked and mostly signed off (a few cancelled or missed), and upcoming ones
are at every stage from "waiting for the technician" to "confirmed". Deterministic.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, User
from portal.booking import agent_moves, steps
from portal.booking import lifecycle as lc
from portal.booking.models import Appointment, Service
from portal.booking.services import BookingRequest, WindowTaken, book_window
from portal.booking.windows import get_availability, location_zone
from portal.timeutil import freeze, local_day_bounds, now_utc, to_local
from portal.workorders.models import WorkOrderTask


def book_demo_month(session: so.Session, *, per_day: int = 3, org_zone: str | None = None) -> int:
    """Book `per_day` appointments on each of the 14 days before and after today."""
    real_now = now_utc()
    customers = list(
        session.scalars(sa.select(User).join(Contact, Contact.user_id == User.id).order_by(User.id))
    )
    services = list(session.scalars(sa.select(Service).order_by(Service.id)))
    today = real_now.date()
    booked = 0
    try:
        for offset in range(-14, 15):
            day = today + timedelta(days=offset)
            # Book each day as if two days before it, so the minimum notice holds.
            freeze(min(real_now, datetime.combine(day - timedelta(days=2), time(6), tzinfo=UTC)))
            for i in range(per_day):
                n = (offset + 14) * per_day + i
                customer = customers[n % len(customers)]
                locations = customer.contact.account.locations
                location = locations[n % len(locations)]
                service = services[(n // len(customers) + i) % len(services)]
                zone = location_zone(location, org_zone)
                start, end = local_day_bounds(
                    to_local(datetime.combine(day, time(12), tzinfo=UTC), zone).date(), zone
                )
                windows = get_availability(
                    session,
                    service,
                    location,
                    range_start=start,
                    range_end=end,
                    now=now_utc(),
                    org_zone=org_zone,
                    explain=False,
                ).windows
                if not windows:
                    continue
                window = windows[(i * 2) % len(windows)]
                request = BookingRequest(
                    customer=customer,
                    service=service,
                    location=location,
                    window_start=window.starts_at,
                    note=DEMO_NOTES[n % len(DEMO_NOTES)],
                    idempotency_key=f"demo-{day.isoformat()}-{i}",
                )
                try:
                    appointment = book_window(session, request, org_zone=org_zone)
                except WindowTaken:
                    continue
                booked += 1
                _progress(session, appointment, n, past=offset < 0, soon=offset <= 3)
    finally:
        freeze(None)
    return booked


def _progress(session: so.Session, appointment: Appointment, n: int, *, past: bool, soon: bool):
    """Move a demo appointment along as its agents and customer would have."""
    customer = steps.Actor(appointment.contact.user)
    if past and n % 9 == 4:
        lc.cancel_appointment(session, appointment, customer, "Plans changed")
        return
    if not past and n % 4 == 3:
        return  # still waiting for the technician to accept
    tasks = _tasks(session, appointment)
    for task in tasks:
        agent_moves.accept_task(session, task, task.agent.user)
    if not past and not soon and n % 4 == 2:
        return  # accepted, waiting for the customer
    lc.confirm_appointment(session, appointment, customer)
    if not past:
        return
    freeze(appointment.planned_start)
    if n % 11 == 5:
        agent_moves.mark_no_show(session, appointment, tasks[0].agent.user)
        return
    for task in tasks:
        agent_moves.start_task(session, task, task.agent.user)
    freeze(appointment.planned_end)
    for task in tasks:
        agent_moves.complete_task(
            session, task, task.agent.user, DEMO_WORK_NOTES[n % len(DEMO_WORK_NOTES)]
        )
    if n % 5 != 1:  # a few still wait for the customer's sign-off
        lc.sign_off(
            session,
            appointment,
            customer,
            full_name=appointment.contact.full_name,
            consent=True,
            remote_addr="192.0.2.10",
            user_agent="Demo data",
        )


def _tasks(session: so.Session, appointment: Appointment) -> list[WorkOrderTask]:
    return list(
        session.scalars(
            sa.select(WorkOrderTask)
            .where(
                WorkOrderTask.appointment_id == appointment.id, WorkOrderTask.status == "assigned"
            )
            .order_by(WorkOrderTask.id)
        )
    )


DEMO_WORK_NOTES = [
    "Serviced and tested; all readings within limits.",
    "Replaced a worn washer and checked for further leaks.",
    "Cabling done and labelled; network tested end to end.",
    "Certificate issued; no defects found.",
]

DEMO_NOTES = [
    "Side entrance is on the left; please ring the bell twice.",
    "The boiler makes a knocking noise when the heating starts.",
    "Parking is available in bay 4 behind the building.",
    "Please call 15 minutes before arriving.",
    "Reception will have the key to the plant room.",
    "",
]
