"""A customer's own pages: the list of appointments, booking a window (the week of free
windows htmx keeps fresh, then the confirmation), and adding an address on the way."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from portal.access import customer_required
from portal.accounts.models import CustomerAccount, ServiceLocation
from portal.accounts.services import add_service_location
from portal.booking.forms import ConfirmBookingForm, NewLocationForm
from portal.booking.models import Service
from portal.booking.queries import list_account_appointments, parse_week, week_view
from portal.booking.services import (
    BookingRequest,
    WindowTaken,
    book_window,
)
from portal.booking.suggestions import Preferences
from portal.booking.windows import location_zone, qualified_agent_names, window_end
from portal.db import commit, get_session, rollback_request_session
from portal.errors import Invalid, PortalError
from portal.formatting import org_zone
from portal.ids import parse_id
from portal.timeutil import now_utc, parse_instant


def _account_id() -> int:
    if current_user.account_id is None:
        abort(403)
    return current_user.account_id


def _services() -> list[Service]:
    return list(
        get_session().scalars(sa.select(Service).where(Service.active).order_by(Service.name))
    )


def _int_arg(name: str) -> int | None:
    return parse_id(request.values.get(name, ""))


def _chosen(services: list[Service]) -> tuple[Service | None, ServiceLocation | None]:
    """The service and location named in the request; 404 for another account's address."""
    service_id, location_id = _int_arg("service"), _int_arg("location")
    service = next((s for s in services if s.id == service_id), None)
    location = None
    if location_id is not None:
        location = get_session().get(ServiceLocation, location_id)
        if location is None or location.account_id != _account_id():
            abort(404)
    return service, location


def _booking_links(service: Service, location: ServiceLocation) -> dict:
    """How the windows partial links its weeks, its slots and its own refresh."""
    ids = {"service": service.id, "location": location.id}
    return {
        "week_url": lambda week: url_for("booking.book", **ids, week=str(week)),
        "refresh_url": lambda week: url_for("booking.windows", **ids, week=str(week)),
        "slot_url": lambda w: url_for("booking.confirm", **ids, start=w.starts_at.isoformat()),
    }


@customer_required
def home():
    appointments = list_account_appointments(get_session(), _account_id(), now_utc())
    return render_template("booking/home.html", appointments=appointments)


@customer_required
def book():
    services = _services()
    service, location = _chosen(services)
    account = get_session().get(CustomerAccount, _account_id())
    week, links = None, {}
    if service and location:
        week, links = _week(service, location), _booking_links(service, location)
    return render_template(
        "booking/book.html",
        **links,
        services=services,
        service=service,
        location=location,
        locations=account.locations,
        week=week,
        location_form=NewLocationForm(),
    )


@customer_required
def windows():
    """The live list alone: htmx polls this, and it replaces itself."""
    service, location = _chosen(_services())
    if not (service and location):
        abort(404)
    week = _week(service, location)
    return render_template(
        "booking/_windows.html",
        service=service,
        location=location,
        week=week,
        **_booking_links(service, location),
    )


def _week(service: Service, location: ServiceLocation):
    asked = parse_week(request.args.get("week"))
    return week_view(get_session(), service, location, asked, now_utc(), org_zone=org_zone())


@customer_required
def add_location():
    form = NewLocationForm()
    session = get_session()
    account = get_session().get(CustomerAccount, _account_id())
    service_id = _int_arg("service")
    if form.validate_on_submit():
        try:
            location = add_service_location(
                session,
                account,
                label=form.label.data,
                street=form.street.data,
                city=form.city.data,
                postal_code=form.postal_code.data,
                country=form.country.data,
            )
        except Invalid as err:
            form[err.field or "postal_code"].errors.append(err.message)
        else:
            commit()
            flash(f"Saved {location.label} to your account.", "success")
            return redirect(url_for("booking.book", service=service_id, location=location.id))
    services = _services()
    return render_template(
        "booking/book.html",
        services=services,
        service=next((s for s in services if s.id == service_id), None),
        location=None,
        locations=account.locations,
        week=None,
        location_form=form,
        show_new_location=True,
    ), 422


@customer_required
def confirm():
    services = _services()
    service, location = _chosen(services)
    start = parse_instant(request.values.get("start"))
    if not (service and location and start):
        flash("Choose a service, an address and a window first.", "error")
        return redirect(url_for("booking.book"))
    form = ConfirmBookingForm()
    form.pref_agent.choices = [SelectChoice(0, "No preference")] + [
        SelectChoice(agent_id, name)
        for agent_id, name in qualified_agent_names(get_session(), service, location)
    ]
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
    taken: WindowTaken | None = None
    refused: str | None = None
    if form.validate_on_submit():
        booking = BookingRequest(
            customer=current_user,
            service=service,
            location=location,
            window_start=start,
            note=form.note.data or "",
            idempotency_key=form.idempotency_key.data,
            preferences=Preferences(
                weekdays=frozenset(form.pref_days.data or ()),
                part_of_day=form.pref_part.data,
                earliest=form.pref_earliest.data,
                agent_id=form.pref_agent.data or None,
            ),
        )
        try:
            appt = book_window(get_session(), booking, org_zone=org_zone())
        except WindowTaken as err:
            taken = err
        except PortalError as err:
            rollback_request_session()
            refused = err.message
        else:
            commit()
            flash(f"Booked: {service.name}, appointment {appt.number}.", "success")
            return redirect(url_for("booking.appointment", appointment_id=appt.id))
    zone = location_zone(location)
    status = 409 if taken else (422 if form.errors or refused else 200)
    return render_template(
        "booking/confirm.html",
        form=form,
        refused=refused,
        service=service,
        location=location,
        start=start,
        zone=zone,
        end=window_end(get_session(), start, zone),
        taken=taken,
    ), status


def register(bp: Blueprint) -> None:
    """The customer's own pages: the list, booking a window, adding an address."""
    bp.add_url_rule("/appointments", view_func=home)
    bp.add_url_rule("/book", view_func=book)
    bp.add_url_rule("/book/windows", view_func=windows)
    bp.add_url_rule("/locations", view_func=add_location, methods=["POST"])
    bp.add_url_rule("/book/confirm", view_func=confirm, methods=["GET", "POST"])
