"""Visit links: a signed, single-use link that lets a site contact book the field visit of
an existing work order (an order's) without logging in.

The URL carries a random token (`secrets.token_urlsafe(32)`); only its SHA-256 is kept
(VisitLink.token_hash), so the table opens nothing to whoever reads it. A link works
until it expires, a newer link for the same work order revokes it, or it is used: the
booking claims it with a conditional UPDATE of `used_at` in the booking's transaction,
after locking the work order, so two submits (or the link and a scheduler at once)
book once and the second sees the booking. The booking itself is
`services.book_work_order`: the same work order, new -> scheduled.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, render_template

from portal.accounts.models import Contact, User
from portal.booking.models import Appointment, Service, VisitLink
from portal.booking.services import (
    BookingRequest,
    book_work_order,
    current_appointment,
    lock_work_order,
)
from portal.booking.states import PARKED_STATES
from portal.booking.windows import location_zone
from portal.errors import Conflict, Invalid, NotFound
from portal.formatting import fmt_datetime, fmt_window
from portal.notifications.services import queue_email
from portal.ratelimit import RateLimited, count_request, current_count
from portal.timeutil import now_utc
from portal.workorders.models import WorkOrder
from portal.workorders.services import record

VISIT_PATH = "/visit/"
LINK_DAYS = 30
MAX_LINK_DAYS = 90
SUBJECT = "Book your visit"
# Requests to one link (the page, its windows list refreshing itself every 15 seconds,
# the confirm step) and refused requests (an unknown token) from one address, per
# window: the calendar feeds' measures.
RATE_LIMIT = 60
REFUSAL_LIMIT = 30
RATE_WINDOW_SECONDS = 60


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- issuing and sending ----------------------------------------------------------------


def _issue(
    session: so.Session,
    work_order: WorkOrder,
    contact: Contact,
    service: Service,
    *,
    by: User | None,
    days: int,
    fresh: bool = False,
) -> tuple[VisitLink, str]:
    if contact.account_id != work_order.account_id:
        raise NotFound("That contact is not one of the work order's account.")
    if work_order.location_id is None:
        raise Invalid("The work order has no address to visit.")
    if work_order.status != "new":
        raise Conflict(f"Work order {work_order.number} is not waiting to be booked.")
    if not service.active:
        raise Invalid(f"{service.name} cannot be booked at the moment.")
    if not 1 <= days <= MAX_LINK_DAYS:
        raise Invalid(f"A visit link works for 1 to {MAX_LINK_DAYS} days.")
    now = now_utc()
    # A newer link ends the older ones: only the latest e-mail books. (A work order made
    # in this transaction has none: an approval sends hundreds of links at once.)
    if not fresh:
        session.execute(
            sa.update(VisitLink)
            .where(
                VisitLink.work_order_id == work_order.id,
                VisitLink.used_at.is_(None),
                VisitLink.revoked_at.is_(None),
            )
            .values(revoked_at=now)
            .execution_options(synchronize_session="fetch")
        )
    token = secrets.token_urlsafe(32)
    link = VisitLink(
        work_order_id=work_order.id,
        contact_id=contact.id,
        service_id=service.id,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(link)  # written with the e-mail's flush (one round trip for both)
    record(
        session,
        work_order,
        "visit_link",
        actor=by,
        work_order_id=work_order.id,
        new=contact.full_name,
        note=f"Visit link for {service.name}, works until "
        f"{fmt_datetime(link.expires_at, location_zone(work_order.location))}",
    )
    return link, f"{VISIT_PATH}{token}"


def issue_visit_link(
    session: so.Session,
    work_order: WorkOrder,
    contact: Contact,
    service: Service,
    *,
    by: User | None,
    days: int = LINK_DAYS,
) -> str:
    """A new single-use link (its URL path) for `contact` to book `service` for the work
    order; older live links of the work order are revoked."""
    path = _issue(session, work_order, contact, service, by=by, days=days)[1]
    session.flush()
    return path


def send_visit_link(
    session: so.Session,
    work_order: WorkOrder,
    contact: Contact,
    service: Service,
    *,
    by,
    fresh: bool = False,
) -> VisitLink:
    """Issue a link and queue the "Book your visit" e-mail to the contact: which work,
    where, the link, until when it works and who to call (text and HTML). `fresh`: the
    work order was made in this transaction, so it has no older link to revoke."""
    link, path = _issue(session, work_order, contact, service, by=by, days=LINK_DAYS, fresh=fresh)
    base = current_app.config["BASE_URL"]
    location = work_order.location
    context = {
        "subject": SUBJECT,
        "portal_url": base,
        "name": contact.full_name,
        "link": f"{base}{path}",
        "work_order": work_order,
        "service": service,
        "address": f"{location.label}: {location.one_line}",
        "until": fmt_datetime(link.expires_at, location_zone(location)),
        "sender": by,
    }
    queue_email(
        session,
        to=contact.email,
        subject=f"{SUBJECT}: {service.name}",
        text=render_template("email/customer/visit_link.txt", **context),
        html=render_template("email/customer/visit_link.html", **context),
        subject_type="WorkOrder",
        subject_id=work_order.id,
        reply_to=by.email if by is not None else None,
        flush=not fresh,  # an approval's links are written in one batch by its flush
    )
    return link


# --- opening a link -----------------------------------------------------------------------


def open_visit_link(
    session: so.Session,
    token: str,
    *,
    client: str,
    now: datetime,
    limit: int = RATE_LIMIT,
    refusal_limit: int = REFUSAL_LIMIT,
    window_seconds: int = RATE_WINDOW_SECONDS,
) -> VisitLink | None:
    """The link `token` opens (whatever its state), after counting the request; None
    for an unknown token (counted against the `client` address). RateLimited past
    either limit. The counts are flushed: the caller commits them whatever the answer."""
    refusals = f"visit-addr:{client}"[:80]
    refused, retry_after = current_count(session, refusals, now, window_seconds=window_seconds)
    if refused >= refusal_limit:
        raise RateLimited(
            f"Too many requests with a wrong link came from your address. Try again in "
            f"{retry_after} seconds.",
            retry_after=retry_after,
        )
    link = None
    if 20 <= len(token) <= 100:
        link = session.scalar(sa.select(VisitLink).where(VisitLink.token_hash == token_hash(token)))
    if link is None:
        count_request(session, refusals, now, window_seconds=window_seconds)
        return None
    count, retry_after = count_request(
        session, f"visit:{link.id}", now, window_seconds=window_seconds
    )
    if count > limit:
        raise RateLimited(
            f"This link was opened too often. Try again in {retry_after} seconds.",
            retry_after=retry_after,
        )
    return link


@dataclass(frozen=True)
class VisitState:
    """What a link can do now: `state` is live, booked, expired, revoked or closed (the
    work order no longer waits for a visit); `message` says so to the contact."""

    state: str
    message: str = ""
    appointment: Appointment | None = None

    @property
    def live(self) -> bool:
        return self.state == "live"


def visit_state(session: so.Session, link: VisitLink, now: datetime) -> VisitState:
    """Whether the link still books, and if not, why (with the booking when there is one)."""
    work_order = session.get(WorkOrder, link.work_order_id)
    booked = current_appointment(session, work_order)
    if booked is None and link.appointment_id is not None:
        booked = session.get(Appointment, link.appointment_id)
    if booked is not None and (link.used_at is not None or work_order.status != "new"):
        if booked.status == "cancelled":
            return VisitState("closed", "This visit was booked and then cancelled.", booked)
        if booked.status in PARKED_STATES:
            message = "We need to find a new time for this visit: our scheduler will contact you."
            return VisitState("booked", message, booked)
        zone = location_zone(booked.location)
        when = fmt_window(booked.window_start, booked.window_end, zone)
        return VisitState("booked", f"This visit is booked: {when}.", booked)
    if work_order.status != "new":
        return VisitState("closed", "This visit is no longer waiting to be booked.")
    if link.used_at is not None:
        return VisitState("closed", "This link has been used.")
    if link.revoked_at is not None:
        return VisitState("revoked", "A newer link was sent for this visit: use that one.")
    if link.expires_at <= now:
        return VisitState("expired", "This link has expired.")
    return VisitState("live")


class VisitLinkClosed(Conflict):
    """The link no longer books; `state` says why (and names the booking, if any)."""

    def __init__(self, state: VisitState):
        super().__init__(state.message or "This link no longer books a visit.")
        self.state = state


def book_from_link(
    session: so.Session,
    link: VisitLink,
    start: datetime,
    *,
    note: str = "",
    idempotency_key: str | None = None,
    org_zone: str | None = None,
) -> Appointment:
    """Book the window from `start` for the link's work order, as its contact: the link
    is claimed (used_at) in this transaction, so it books once. A repeat with the same
    idempotency key answers with the booking; any other use raises VisitLinkClosed. On
    WindowTaken the caller rolls back (the claim with it)."""
    now = now_utc()
    work_order = lock_work_order(session, link.work_order_id)
    claimed = 0
    if work_order.status == "new":  # not booked, cancelled or done meanwhile
        claimed = session.execute(
            sa.update(VisitLink)
            .where(
                VisitLink.id == link.id,
                VisitLink.used_at.is_(None),
                VisitLink.revoked_at.is_(None),
                VisitLink.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    session.refresh(link)
    if not claimed:
        state = visit_state(session, link, now)
        repeat = state.appointment
        if repeat is not None and idempotency_key and repeat.idempotency_key == idempotency_key:
            return repeat
        raise VisitLinkClosed(state)
    contact = session.get(Contact, link.contact_id)
    request = BookingRequest(
        customer=contact.user,
        contact=contact,
        service=session.get(Service, link.service_id),
        location=work_order.location,
        window_start=start,
        note=note,
        idempotency_key=idempotency_key,
        work_order=work_order,
    )
    appointment = book_work_order(
        session, request, actor=contact.user, by_link=True, org_zone=org_zone
    )
    link.appointment_id = appointment.id
    record(
        session,
        link,
        "used",
        actor=contact.user,
        work_order_id=work_order.id,
        note=f"Booked by {contact.full_name} through the e-mailed visit link",
    )
    session.flush()
    return appointment


def latest_service(session: so.Session, work_order: WorkOrder) -> Service | None:
    """The service the work order's latest visit link books, if it had one."""
    return session.scalar(
        sa.select(Service)
        .join(VisitLink, VisitLink.service_id == Service.id)
        .where(VisitLink.work_order_id == work_order.id)
        .order_by(VisitLink.id.desc())
        .limit(1)
    )
