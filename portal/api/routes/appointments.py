"""Appointments: book, read, and every step of the lifecycle, through the same services
(and so the same rules, timeline and notifications) as the pages."""

from __future__ import annotations

import base64
import binascii

from flask import request

from portal.accounts.models import Contact, ServiceLocation, User
from portal.api.registry import operation
from portal.api.routes.common import ID, appointment_out, load_appointment, org_zone
from portal.api.schemas import (
    AppointmentOut,
    AppointmentPage,
    AppointmentsQuery,
    BookIn,
    CancelIn,
    DeclineIn,
    RescheduleIn,
    SignOffIn,
)
from portal.booking import lifecycle as lc
from portal.booking import steps
from portal.booking.models import Service
from portal.booking.services import BookingRequest, book_window
from portal.booking.suggestions import Preferences
from portal.db import commit, get_session
from portal.errors import NotFound
from portal.staff.queries import ALL_ACCOUNTS
from portal.staff.queries import list_appointments as query_appointments

APPOINTMENT = f"/appointments/<{ID}:appointment_id>"


@operation(
    "GET",
    "/appointments",
    summary="List appointments",
    tag="appointments",
    response=AppointmentPage,
    roles=("customer", "scheduler"),
    query=AppointmentsQuery,
)
def list_appointments(user: User, query: AppointmentsQuery) -> AppointmentPage:
    """A customer's account's appointments, or (schedulers) everyone's, or one account's
    with `account`; latest first. A customer user without an account (no contact) gets an
    empty list."""
    if user.is_staff:
        account_id = ALL_ACCOUNTS if query.account is None else query.account
    elif user.account_id is None:
        return AppointmentPage(items=[], page=1, pages=1, total=0)
    else:
        account_id = user.account_id
    found = query_appointments(
        get_session(),
        account_id=account_id,
        status=query.status,
        page=query.page,
        per_page=query.per_page,
        with_tasks=user.is_staff,  # staff see each appointment's tasks
    )
    return AppointmentPage(
        items=[appointment_out(a, user) for a in found.items],
        page=found.number,
        pages=found.pages,
        total=found.total,
    )


@operation(
    "POST",
    "/appointments",
    summary="Book a window",
    tag="appointments",
    response=AppointmentOut,
    status=201,
    roles=("customer", "scheduler"),
    body=BookIn,
    idempotency_key=True,
    errors=(404, 409),
)
def book(user: User, body: BookIn, idempotency_key: str) -> AppointmentOut:
    """Book a window that GET /services/{id}/windows offered. The Idempotency-Key makes a
    retry safe: the same key books once and answers with that appointment again. A window
    taken in the meantime answers 409 window_taken with the nearest free ones. Schedulers
    book for a customer's contact (contact_id) on its behalf."""
    session = get_session()
    service = session.get(Service, body.service_id)
    location = session.get(ServiceLocation, body.location_id)
    if service is None:
        raise NotFound("There is no such service.", field="service_id")
    if location is None:
        raise NotFound("There is no such address.", field="location_id")
    customer, contact, actor = user, None, None
    if user.is_staff:
        contact = session.get(Contact, body.contact_id) if body.contact_id else None
        if contact is None:
            raise NotFound("Name the customer contact to book for.", field="contact_id")
        customer, actor = contact.user, user
    prefs = body.preferences
    appointment = book_window(
        session,
        BookingRequest(
            customer=customer,
            contact=contact,
            service=service,
            location=location,
            window_start=body.start,
            note=body.note,
            idempotency_key=idempotency_key,
            preferences=Preferences(
                weekdays=frozenset(prefs.weekdays),
                part_of_day=prefs.part_of_day,
                earliest=prefs.earliest,
                agent_id=prefs.agent_id,
            )
            if prefs
            else None,
        ),
        actor=actor,
        org_zone=org_zone(),
    )
    commit()
    return appointment_out(appointment, user)


@operation(
    "GET", APPOINTMENT, summary="Get an appointment", tag="appointments", response=AppointmentOut
)
def get_appointment(user: User, appointment_id: int) -> AppointmentOut:
    """One appointment the token's user may see (another account's is 404)."""
    return appointment_out(load_appointment(user, appointment_id), user)


@operation(
    "POST",
    APPOINTMENT + "/reschedule",
    summary="Move to another window",
    tag="appointments",
    response=AppointmentOut,
    body=RescheduleIn,
    errors=(403, 409),
)
def reschedule(user: User, appointment_id: int, body: RescheduleIn) -> AppointmentOut:
    """Move the appointment to another free window. Customers only inside the policy (403
    says why not); the assigned agent and schedulers at any time, on the customer's
    behalf. A window taken meanwhile answers 409 window_taken with the nearest ones."""
    appointment = load_appointment(user, appointment_id)
    actor = steps.Actor(user)
    moved = lc.reschedule_appointment(
        get_session(),
        appointment,
        body.start,
        actor,
        override_reason=body.reason if actor.is_staff else "",
        org_zone=org_zone(),
    )
    commit()
    return appointment_out(moved, user)


@operation(
    "POST",
    APPOINTMENT + "/cancel",
    summary="Cancel",
    tag="appointments",
    response=AppointmentOut,
    body=CancelIn,
    errors=(403, 409),
)
def cancel(user: User, appointment_id: int, body: CancelIn) -> AppointmentOut:
    """Cancel with a reason: customers inside the policy, staff at any time. Every agent
    is freed at once."""
    appointment = load_appointment(user, appointment_id)
    cancelled = lc.cancel_appointment(get_session(), appointment, steps.Actor(user), body.reason)
    commit()
    return appointment_out(cancelled, user)


@operation(
    "POST",
    APPOINTMENT + "/confirm",
    summary="Confirm (customer)",
    tag="appointments",
    response=AppointmentOut,
    roles=("customer",),
    errors=(409,),
)
def confirm(user: User, appointment_id: int) -> AppointmentOut:
    """The customer accepts the appointment its technician accepted."""
    appointment = load_appointment(user, appointment_id)
    confirmed = lc.confirm_appointment(get_session(), appointment, steps.Actor(user))
    commit()
    return appointment_out(confirmed, user)


@operation(
    "POST",
    APPOINTMENT + "/decline",
    summary="Decline (customer)",
    tag="appointments",
    response=AppointmentOut,
    roles=("customer",),
    body=DeclineIn,
    errors=(409,),
)
def decline(user: User, appointment_id: int, body: DeclineIn) -> AppointmentOut:
    """The customer declines the proposed appointment; the scheduler follows up."""
    appointment = load_appointment(user, appointment_id)
    declined = lc.decline_appointment(get_session(), appointment, steps.Actor(user), body.reason)
    commit()
    return appointment_out(declined, user)


@operation(
    "POST",
    APPOINTMENT + "/sign-off",
    summary="Sign off completed work (customer)",
    tag="appointments",
    response=AppointmentOut,
    roles=("customer",),
    body=SignOffIn,
    errors=(409,),
)
def sign_off(user: User, appointment_id: int, body: SignOffIn) -> AppointmentOut:
    """The customer confirms the work was done (typed name, consent, optionally a drawn
    signature as a base64 PNG); that closes the work order."""
    appointment = load_appointment(user, appointment_id)
    session = get_session()
    lc.sign_off(
        session,
        appointment,
        steps.Actor(user),
        full_name=body.full_name,
        consent=body.consent,
        remote_addr=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", ""),
        signature_png=_signature(body.signature_png),
    )
    commit()
    return appointment_out(appointment, user)


def _signature(encoded: str | None) -> bytes | None:
    """PNG bytes from base64; anything unreadable goes on for the service to refuse."""
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return b"not a png"
