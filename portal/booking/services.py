"""Booking: turn a chosen window into an appointment, a work order and its tasks.

`book_window` is the one way an appointment comes into being with its own new work
order; `book_work_order` books an existing one (an order's field visit, through the site
contact's visit link or by a scheduler), which moves it from new to scheduled. Both
re-check the window against live availability, pick the agents fairly, and write
everything in one transaction. The database has the last word on overlaps: if another
booking took the same agent a moment earlier, the insert of the hold fails, and the
service looks again (another agent may still be free) before it tells the customer the
window is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Contact, ServiceLocation, User
from portal.accounts.services import require_verified
from portal.availability import engine
from portal.booking.announce import announce
from portal.booking.holds import place_holds
from portal.booking.models import Appointment, AppointmentHold, Service, VisitLink
from portal.booking.states import CLOSED_STATES
from portal.booking.suggestions import Preferences
from portal.booking.windows import get_availability, location_zone
from portal.errors import Conflict, Invalid, NotAllowed, NotFound, PortalError
from portal.formatting import fmt_window
from portal.timeutil import now_utc, week_start
from portal.workforce.models import Agent
from portal.workorders.models import WorkOrder, WorkOrderTask
from portal.workorders.services import record
from portal.workorders.status import set_work_order_status

MAX_NOTE_LENGTH = 2000


class WindowTaken(Conflict):
    """The window is no longer bookable; `alternatives` are the nearest that are."""

    def __init__(self, message: str, alternatives: list[engine.Window]):
        super().__init__(message)
        self.alternatives = alternatives


@dataclass(frozen=True)
class BookingRequest:
    # The customer's portal user; None when staff book for a contact who has no log-in.
    customer: User | None
    service: Service
    location: ServiceLocation
    window_start: datetime
    note: str = ""
    idempotency_key: str | None = None
    contact: Contact | None = None  # defaults to the customer's own contact
    preferences: Preferences | None = None
    # An existing work order to book (book_work_order) rather than a new one.
    work_order: WorkOrder | None = None

    @property
    def booking_contact(self) -> Contact | None:
        if self.contact is not None:
            return self.contact
        return self.customer.contact if self.customer is not None else None


def book_window(
    session: so.Session,
    request: BookingRequest,
    *,
    actor: User | None = None,
    org_zone: str | None = None,
) -> Appointment:
    """Book the window for the customer (or, with `actor`, on its behalf); the same
    idempotency key books only once."""
    contact = request.booking_contact
    if contact is None:
        raise Invalid("Only a customer contact can book an appointment.")
    account_id = contact.account_id
    if actor is None or (request.customer is not None and actor.id == request.customer.id):
        actor = request.customer
        if actor is None:
            raise NotAllowed("Only a customer contact can book an appointment.")
        require_verified(actor)
    elif not actor.is_staff:
        raise NotFound("There is no such customer.")
    # The idempotency key is not looked up first: a repeat is rare, and the database
    # finds it for us (the appointment's insert breaks its unique key, or the window is
    # gone because the first request took it); both paths below look the key up then.
    try:
        _validate(session, request, account_id)
    except PortalError:
        # A repeat of a booking made before the rules changed still answers with it.
        found = _existing(session, account_id, request.idempotency_key)
        if found is not None:
            return found
        raise

    if request.work_order is not None:
        raise Invalid("An existing work order is booked with book_work_order.")
    try:
        appointment = _hold_and_write(session, request, actor, org_zone)
    except IntegrityError as err:
        if "idempotency" not in str(err.orig):
            raise
        appointment = _existing(session, account_id, request.idempotency_key)
        if appointment is None:
            raise
    if appointment is not None:
        return appointment
    # Every place is gone. A twin request with the same idempotency key (a double
    # click, a client's retry) may be the one that took the last: it committed after our
    # check at the start, so look again in a fresh statement, and answer with its
    # booking rather than "taken".
    found = _existing(session, account_id, request.idempotency_key)
    if found is not None:
        return found
    raise _taken(session, request, org_zone)


def _hold_and_write(
    session: so.Session, request: BookingRequest, actor: User | None, org_zone: str | None
) -> Appointment | None:
    """Hold the window's agents and write the booking; None when the window is gone."""

    def attempt() -> Appointment | None:
        window = live_window(
            session, request.service, request.location, request.window_start, org_zone
        )
        if window is None:
            return None
        agent_ids = choose_agents(
            session, list(window.agent_ids), window.planned_start, request.service.agents_needed
        )
        return _write_booking(session, request, window, agent_ids, actor)

    return place_holds(session, attempt)


class AlreadyBooked(Conflict):
    """The work order has an appointment already; `appointment` is it."""

    def __init__(self, message: str, appointment: Appointment):
        super().__init__(message)
        self.appointment = appointment


def lock_work_order(session: so.Session, work_order_id: int) -> WorkOrder:
    """Re-read the work order with a row lock (PostgreSQL), so that two bookings of it
    (the contact's link and a scheduler, or a double submit) queue up."""
    locked = session.scalar(
        sa.select(WorkOrder)
        .where(WorkOrder.id == work_order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise NotFound("There is no such work order.")
    return locked


def current_appointment(session: so.Session, work_order: WorkOrder) -> Appointment | None:
    """The work order's latest appointment that is not cancelled or signed off."""
    return session.scalar(
        sa.select(Appointment)
        .where(
            Appointment.work_order_id == work_order.id,
            Appointment.status.not_in(CLOSED_STATES),
        )
        .order_by(Appointment.id.desc())
        .limit(1)
    )


def book_work_order(
    session: so.Session,
    request: BookingRequest,
    *,
    actor: User | None,
    by_link: bool = False,
    org_zone: str | None = None,
) -> Appointment:
    """Book the window for the existing work order `request.work_order` (new, with a
    location and a contact, no appointment): the appointment, holds and tasks as any
    booking, and the work order moves new -> scheduled. Either a scheduler books it on
    the contact's behalf (`actor`), or the contact does through its visit link
    (`by_link`: the caller has checked and claimed the link; `actor` is the contact's
    user or None). Live visit links of the work order are used up by the booking.
    A repeat with the same idempotency key answers with the first booking."""
    if request.work_order is None:
        raise Invalid("Name the work order to book.")
    work_order = lock_work_order(session, request.work_order.id)
    contact = request.booking_contact
    if contact is None or work_order.contact_id is None or contact.id != work_order.contact_id:
        raise NotFound("This work order is not this contact's.")
    if by_link:
        if actor is not None and (contact.user_id is None or actor.id != contact.user_id):
            raise NotFound("This work order is not yours.")
    elif actor is None or not actor.has_role("scheduler"):
        raise NotAllowed("Only a scheduler books a work order on the customer's behalf.")
    if work_order.location_id is None or request.location.id != work_order.location_id:
        raise Invalid("The work order's visit is at its own address.", field="location")
    booked = current_appointment(session, work_order)
    if booked is not None:
        if request.idempotency_key and booked.idempotency_key == request.idempotency_key:
            return booked
        raise AlreadyBooked(f"Work order {work_order.number} is booked already.", booked)
    if work_order.status != "new":
        raise Conflict(
            f"Work order {work_order.number} is {work_order.status.replace('_', ' ')}, "
            "so it cannot be booked."
        )
    _validate(session, request, contact.account_id)
    appointment = _hold_and_write(session, replace(request, work_order=work_order), actor, org_zone)
    if appointment is None:
        raise _taken(session, request, org_zone)
    set_work_order_status(session, work_order, "scheduled", by=actor)
    now = now_utc()
    session.execute(
        sa.update(VisitLink)
        .where(
            VisitLink.work_order_id == work_order.id,
            VisitLink.used_at.is_(None),
            VisitLink.revoked_at.is_(None),
        )
        .values(used_at=now, appointment_id=appointment.id)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return appointment


def _taken(session: so.Session, request: BookingRequest, org_zone: str | None) -> WindowTaken:
    alternatives = nearest_windows(
        session, request.service, request.location, request.window_start, org_zone=org_zone
    )
    return WindowTaken(
        "Sorry, this window was just taken. Here are the nearest free ones.", alternatives
    )


def _existing(session: so.Session, account_id: int, key: str | None) -> Appointment | None:
    if not key:
        return None
    return session.scalar(
        sa.select(Appointment).where(
            Appointment.account_id == account_id, Appointment.idempotency_key == key
        )
    )


def _validate(session: so.Session, request: BookingRequest, account_id: int) -> None:
    if not request.service.active:
        raise Invalid("That service cannot be booked at the moment.", field="service")
    if request.location.account_id != account_id:
        raise NotFound("That address is not one of your account's addresses.")
    if request.location.territory_id is None:
        raise Invalid(
            f"We do not serve postcode {request.location.postal_code} yet.", field="location"
        )
    if len(request.note) > MAX_NOTE_LENGTH:
        raise Invalid(f"Keep the note under {MAX_NOTE_LENGTH} characters.", field="note")
    if request.idempotency_key is not None and len(request.idempotency_key) > 64:
        raise Invalid("The form was malformed; please reload the page.")
    wanted = request.preferences.agent_id if request.preferences else None
    if wanted is not None and session.get(Agent, wanted) is None:
        raise Invalid("There is no such technician.", field="preferences.agent_id")


def live_window(
    session: so.Session,
    service: Service,
    location: ServiceLocation,
    start: datetime,
    org_zone: str | None = None,
) -> engine.Window | None:
    """The window starting at `start` as live availability sees it now, or None."""
    found = get_availability(
        session,
        service,
        location,
        range_start=start,
        range_end=start + timedelta(minutes=1),
        now=now_utc(),
        org_zone=org_zone,
        explain=False,
    ).windows
    return next((w for w in found if w.starts_at == start), None)


def nearest_windows(
    session: so.Session,
    service: Service,
    location: ServiceLocation,
    start: datetime,
    *,
    count: int = 3,
    org_zone: str | None = None,
) -> list[engine.Window]:
    """The bookable windows closest in time to `start` (before or after)."""
    found = get_availability(
        session,
        service,
        location,
        range_start=start - timedelta(days=3),
        range_end=start + timedelta(days=4),
        now=now_utc(),
        org_zone=org_zone,
        explain=False,
    ).windows
    found.sort(key=lambda w: (abs((w.starts_at - start).total_seconds()), w.starts_at))
    return sorted(found[:count], key=lambda w: w.starts_at)


def choose_agents(
    session: so.Session,
    candidates: list[int],
    planned_start: datetime,
    needed: int,
    *,
    prefer: frozenset[int] = frozenset(),
) -> list[int]:
    """Fair choice among free agents: those in `prefer` first (keep the same agent on a
    move), then fewest booked hours that week, then the one assigned least recently
    (round robin), then the lowest id."""
    candidates = list(candidates)
    if len(candidates) <= needed:
        return sorted(candidates)
    week_first = week_start(planned_start.date())
    lo = datetime.combine(week_first, datetime.min.time(), tzinfo=planned_start.tzinfo)
    hi = lo + timedelta(days=7)
    booked: dict[int, float] = {}
    last_assigned: dict[int, int] = {}
    rows = session.execute(
        _fairness_statement(session.get_bind().dialect.name),
        {"candidates": candidates, "week_from": lo, "week_to": hi},
    )
    for agent_id, held, last_task in rows:
        booked[agent_id] = float(held or 0)
        last_assigned[agent_id] = last_task or 0  # None: the agent has no task yet
    candidates.sort(key=lambda a: (a not in prefer, booked.get(a, 0.0), last_assigned.get(a, 0), a))
    return sorted(candidates[:needed])


@cache
def _fairness_statement(dialect: str) -> sa.Select:
    """One row per candidate: the seconds it is held in the week (summed by the database,
    however full the week) and its latest task. Built once per dialect: building a
    statement costs more Python than running this one."""
    held = (
        sa.select(sa.func.sum(_held_seconds(dialect)))
        .where(
            AppointmentHold.agent_id == Agent.id,
            AppointmentHold.starts_at >= sa.bindparam("week_from"),
            AppointmentHold.starts_at < sa.bindparam("week_to"),
        )
        .scalar_subquery()
    )
    # One max() per candidate (an index descent each), not one GROUP BY over the
    # candidates' whole task history.
    latest_task = (
        sa.select(sa.func.max(WorkOrderTask.id))
        .where(WorkOrderTask.agent_id == Agent.id)
        .scalar_subquery()
    )
    return sa.select(Agent.id, held, latest_task).where(
        Agent.id.in_(sa.bindparam("candidates", expanding=True))
    )


def _held_seconds(dialect: str) -> sa.ColumnElement:
    """A hold's length in whole seconds, computed by the database."""
    if dialect == "postgresql":
        span = sa.extract("epoch", AppointmentHold.ends_at - AppointmentHold.starts_at)
    else:  # SQLite keeps instants as text, which julianday() reads
        days = sa.func.julianday(AppointmentHold.ends_at) - sa.func.julianday(
            AppointmentHold.starts_at
        )
        span = days * 86400
    return sa.func.round(span)


def _write_booking(
    session: so.Session,
    request: BookingRequest,
    window: engine.Window,
    agent_ids: list[int],
    actor: User | None,
) -> Appointment:
    service, location, customer = request.service, request.location, request.customer
    contact = request.booking_contact
    acting_for = actor is not None and customer is not None and actor.id != customer.id
    on_behalf = customer if acting_for else None
    prefs = request.preferences
    planned_end = window.planned_start + timedelta(minutes=service.duration_minutes)
    hold_end = planned_end + timedelta(minutes=service.buffer_minutes)
    # An existing work order (book_work_order) moves to scheduled through the status
    # service once the holds are placed; a new one is made scheduled.
    work_order = request.work_order or WorkOrder(
        account_id=location.account_id,
        contact_id=contact.id,
        location_id=location.id,
        status="scheduled",
        summary=f"{service.name} at {location.label}",
        description=request.note.strip(),
    )
    appointment = Appointment(
        work_order=work_order,
        service_id=service.id,
        account_id=location.account_id,
        contact_id=contact.id,
        location_id=location.id,
        status="requested",
        window_start=window.starts_at,
        window_end=window.ends_at,
        planned_start=window.planned_start,
        planned_end=planned_end,
        note=request.note.strip(),
        idempotency_key=request.idempotency_key or None,
        created_by_id=actor.id if actor is not None else None,
    )
    if prefs is not None:
        appointment.pref_weekdays = "".join(str(d) for d in sorted(prefs.weekdays))
        appointment.pref_part_of_day = prefs.part_of_day
        appointment.pref_earliest = prefs.earliest
        appointment.pref_agent_id = prefs.agent_id
    # Holds go in agent order so concurrent multi-agent bookings lock in one order. One
    # flush writes work order, appointment, holds and tasks (a batched INSERT per table).
    tasks = []
    assigned = {
        "work_order": work_order,
        "appointment": appointment,
        "title": service.name,
        "status": "assigned",
        "due_at": window.planned_start,
    }
    for agent_id in sorted(agent_ids):
        appointment.holds.append(
            AppointmentHold(agent_id=agent_id, starts_at=window.planned_start, ends_at=hold_end)
        )
        tasks.append(WorkOrderTask(agent_id=agent_id, **assigned))
    session.add_all([work_order, appointment, *tasks])
    session.flush()
    for task in tasks:
        record(
            session,
            task,
            "assigned",
            actor=actor,
            work_order_id=work_order.id,
            field="agent",
            new=task.agent_id,
        )
    if request.work_order is None:
        record(
            session,
            work_order,
            "created",
            actor=actor,
            work_order_id=work_order.id,
            on_behalf_of=on_behalf,
            new=work_order.summary,
            visibility="customer",
        )
    record(
        session,
        appointment,
        "booked",
        actor=actor,
        work_order_id=work_order.id,
        on_behalf_of=on_behalf,
        field="window",
        new=fmt_window(window.starts_at, window.ends_at, location_zone(location, "UTC")),
        note=request.note.strip(),
        visibility="customer",
    )
    announce(session, "booked", appointment, actor=actor, working=agent_ids)
    session.flush()  # the timeline and the event: one more batched INSERT per table
    return appointment


def get_customer_appointment(session: so.Session, user: User, appointment_id: int) -> Appointment:
    """The appointment if it belongs to the user's account; otherwise NotFound (404)."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or user.account_id is None or appointment.account_id != user.account_id:
        raise NotFound("There is no such appointment on your account.")
    return appointment
