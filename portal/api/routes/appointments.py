"""Appointments: book, read, and every step of the lifecycle, through the same services
(and so the same rules, timeline and notifications) as the pages."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from flask import request

from portal.accounts.models import Contact, ServiceLocation, User
from portal.api.registry import ID, operation
from portal.api.routes.common import load_appointment, org_zone, shown_to
from portal.api.schemas import (
    AppointmentPage,
    AppointmentsQuery,
    BookIn,
    CancelIn,
    DeclineIn,
    RescheduleIn,
    SignOffIn,
    page_out,
)
from portal.booking import lifecycle as lc
from portal.booking import steps
from portal.booking.models import Service
from portal.booking.services import BookingRequest, book_window
from portal.booking.shapes import AppointmentOut
from portal.booking.suggestions import Preferences
from portal.db import commit, get_session
from portal.errors import NotFound
from portal.staff.queries import ALL_ACCOUNTS
from portal.staff.queries import list_appointments as query_appointments

APPOINTMENT = f"/appointments/<{ID}:appointment_id>"
CUSTOMER = ("customer",)


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
    return page_out(AppointmentPage, found, lambda a: shown_to(user, a))


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
    return shown_to(user, appointment)


@operation(
    "GET", APPOINTMENT, summary="Get an appointment", tag="appointments", response=AppointmentOut
)
def get_appointment(user: User, appointment_id: int) -> AppointmentOut:
    """One appointment the token's user may see (another account's is 404)."""
    return shown_to(user, load_appointment(user, appointment_id))


def step(name: str, summary: str, **declared) -> Callable:
    """Register a step of an appointment's lifecycle: POST .../appointments/{id}/`name`,
    answering with the appointment as it stands after the step."""
    return operation(
        "POST",
        f"{APPOINTMENT}/{name}",
        summary=summary,
        tag="appointments",
        response=AppointmentOut,
        **declared,
    )


def take_step(user: User, appointment_id: int, service: Callable, **given) -> AppointmentOut:
    """Load the appointment `user` may see, have `service` change it as `user` (the same
    service and rules as the pages), commit, and answer with it."""
    appointment = load_appointment(user, appointment_id)
    changed = service(get_session(), appointment, actor=steps.Actor(user), **given)
    commit()
    return shown_to(user, changed)


@step("reschedule", "Move to another window", body=RescheduleIn, errors=(403, 409))
def reschedule(user: User, appointment_id: int, body: RescheduleIn) -> AppointmentOut:
    """Move the appointment to another free window. Customers only inside the policy (403
    says why not); the assigned agent and schedulers at any time, on the customer's
    behalf. A window taken meanwhile answers 409 window_taken with the nearest ones."""
    return take_step(
        user,
        appointment_id,
        lc.reschedule_appointment,
        new_start=body.start,
        override_reason=body.reason if user.is_staff else "",
        org_zone=org_zone(),
    )


@step("cancel", "Cancel", body=CancelIn, errors=(403, 409))
def cancel(user: User, appointment_id: int, body: CancelIn) -> AppointmentOut:
    """Cancel with a reason: customers inside the policy, staff at any time. Every agent
    is freed at once."""
    return take_step(user, appointment_id, lc.cancel_appointment, reason=body.reason)


@step("confirm", "Confirm (customer)", roles=CUSTOMER, errors=(409,))
def confirm(user: User, appointment_id: int) -> AppointmentOut:
    """The customer accepts the appointment its technician accepted."""
    return take_step(user, appointment_id, lc.confirm_appointment)


@step("decline", "Decline (customer)", roles=CUSTOMER, body=DeclineIn, errors=(409,))
def decline(user: User, appointment_id: int, body: DeclineIn) -> AppointmentOut:
    """The customer declines the proposed appointment; the scheduler follows up."""
    return take_step(user, appointment_id, lc.decline_appointment, reason=body.reason)


@step(
    "sign-off", "Sign off completed work (customer)", roles=CUSTOMER, body=SignOffIn, errors=(409,)
)
def sign_off(user: User, appointment_id: int, body: SignOffIn) -> AppointmentOut:
    """The customer confirms the work was done (typed name, consent, optionally a drawn
    signature as a base64 PNG); that closes the work order."""
    appointment = load_appointment(user, appointment_id)
    lc.sign_off(
        get_session(),
        appointment,
        steps.Actor(user),
        full_name=body.full_name,
        consent=body.consent,
        remote_addr=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", ""),
        signature_png=_signature(body.signature_png),
    )
    commit()
    return shown_to(user, appointment)


def _signature(encoded: str | None) -> bytes | None:
    """PNG bytes from base64; anything unreadable goes on for the service to refuse."""
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return b"not a png"
