"""The scheduler's console: find a customer, book or move on its behalf (with ranked
suggestions), cancel, edit the meeting details; agents do the same for their bookings.
Views only: every rule lives in the booking services and the state machine."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import role_required, staff_required
from portal.accounts.models import Contact, CustomerAccount, ServiceLocation
from portal.booking import lifecycle as lc
from portal.booking import states, steps
from portal.booking.models import APPOINTMENT_STATES, Appointment, Service
from portal.booking.queries import parse_week, week_view
from portal.booking.services import BookingRequest, WindowTaken, book_window
from portal.booking.suggestions import preferences_of, suggest_windows
from portal.booking.windows import location_zone
from portal.db import commit, get_session, rollback_request_session
from portal.dispatch import services as dispatch_services
from portal.errors import PortalError
from portal.formatting import org_zone
from portal.ids import parse_id
from portal.pagination import page_arg
from portal.staff.feed_panel import feed_panel
from portal.staff.forms import (
    CloseUnsignedForm,
    DeadlineForm,
    DetailsForm,
    MoveForm,
    OnBehalfForm,
    StaffCancelForm,
)
from portal.staff.queries import (
    ALL_ACCOUNTS,
    list_appointments,
    list_work_orders,
    search_customers,
)
from portal.timeutil import now_utc, parse_instant, to_local
from portal.workorders.models import WORK_ORDER_STATES
from portal.workorders.services import agent_names, timeline_for_work_order

# --- customers -------------------------------------------------------------------------------


@role_required("scheduler")
def customers():
    q = request.args.get("q", "")[:100]
    found = search_customers(get_session(), q, page=page_arg(request.args.get("page")))
    return render_template("staff/customers.html", q=q, found=found)


@role_required("scheduler")
def customer(account_id: int):
    return customer_page(get_session().get(CustomerAccount, account_id) or abort(404))


def customer_page(
    account: CustomerAccount, *, feed_forms: dict | None = None, error=None, status: int = 200
):
    """The customer page; the feed panel's forms (staff/routes/feed.py) come back to it
    with their errors."""
    session = get_session()
    appointments = list_appointments(
        session, account_id=account.id, page=page_arg(request.args.get("page"))
    )
    services = session.scalars(sa.select(Service).where(Service.active).order_by(Service.name))
    return render_template(
        "staff/customer.html",
        account=account,
        appointments=appointments,
        services=list(services),
        feed_error=error,
        **feed_panel(account, feed_forms),
    ), status


def _on_behalf_choice(account: CustomerAccount):
    """The contact, service and address named in the request, all of this account."""
    session = get_session()
    ids = {k: parse_id(request.values.get(k, "")) for k in ("contact", "service", "location")}
    if None in ids.values():
        abort(404)
    contact = session.get(Contact, ids["contact"])
    service = session.get(Service, ids["service"])
    location = session.get(ServiceLocation, ids["location"])
    if (
        contact is None
        or location is None
        or service is None
        or not service.active
        or contact.account_id != account.id
        or location.account_id != account.id
    ):
        abort(404)
    return contact, service, location


@role_required("scheduler")
def book_for(account_id: int):
    account = get_session().get(CustomerAccount, account_id) or abort(404)
    contact, service, location = _on_behalf_choice(account)
    ids = {
        "account_id": account.id,
        "contact": contact.id,
        "service": service.id,
        "location": location.id,
    }
    week = week_view(
        get_session(),
        service,
        location,
        parse_week(request.args.get("week")),
        now_utc(),
        org_zone=org_zone(),
    )
    links = {
        "week_url": lambda w: url_for("staff.book_for", **ids, week=str(w)),
        "refresh_url": lambda w: url_for("staff.book_for", **ids, week=str(w), partial=1),
        "slot_url": lambda w: url_for(
            "staff.book_for_confirm", **ids, start=w.starts_at.isoformat()
        ),
    }
    template = "booking/_windows.html" if request.args.get("partial") else "staff/book_for.html"
    return render_template(
        template,
        account=account,
        contact=contact,
        service=service,
        location=location,
        week=week,
        **links,
    )


@role_required("scheduler")
def book_for_confirm(account_id: int):
    account = get_session().get(CustomerAccount, account_id) or abort(404)
    contact, service, location = _on_behalf_choice(account)
    start = parse_instant(request.values.get("start"))
    if start is None:
        abort(404)
    form = OnBehalfForm()
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
    taken = None
    if form.validate_on_submit():
        booking = BookingRequest(
            customer=contact.user,
            contact=contact,
            service=service,
            location=location,
            window_start=start,
            note=form.note.data or "",
            idempotency_key=form.idempotency_key.data,
        )
        try:
            appt = book_window(get_session(), booking, actor=current_user, org_zone=org_zone())
        except WindowTaken as err:
            rollback_request_session()
            taken = err
        else:
            commit()
            flash(f"Booked {appt.number} for {contact.full_name}.", "success")
            return redirect(url_for("staff.appointment", appointment_id=appt.id))
    return render_template(
        "staff/book_for_confirm.html",
        account=account,
        contact=contact,
        service=service,
        location=location,
        start=start,
        form=form,
        taken=taken,
        zone=location_zone(location),
    ), (409 if taken else 200)


# --- one appointment -------------------------------------------------------------------------


def _staff_appointment(appointment_id: int) -> Appointment:
    """Schedulers see every appointment; an agent only those it is assigned to."""
    session = get_session()
    appt = session.get(Appointment, appointment_id)
    if appt is None or not (
        current_user.has_role("scheduler") or steps.is_assigned_agent(session, current_user, appt)
    ):
        abort(404)
    return appt


def appointment_page(appt: Appointment, *, forms: dict | None = None, error=None, status=200):
    session = get_session()
    zone = location_zone(appt.location)
    bound = {
        "deadline": DeadlineForm(),
        "move": MoveForm(),
        "cancel": StaffCancelForm(),
        "close_unsigned": CloseUnsignedForm(),
        "details": _details_form(appt),
    }
    if appt.confirm_deadline:
        bound["deadline"].deadline.data = to_local(appt.confirm_deadline, zone).replace(tzinfo=None)
    bound.update(forms or {})
    movable = appt.status not in states.FIXED_STATES
    suggestions = (
        suggest_windows(session, appt, preferences_of(appt), now=now_utc(), org_zone=org_zone())
        if movable
        else []
    )
    timeline = timeline_for_work_order(session, appt.work_order, include_internal=True)
    return render_template(
        "staff/appointment.html",
        timeline=timeline,
        agent_names=agent_names(session, timeline),
        appt=appt,
        zone=zone,
        forms=bound,
        error=error,
        suggestions=suggestions,
        movable=movable,
        status_words=states.STATUS_WORDS,
        preferences=preferences_of(appt),
    ), status


def _details_form(appt: Appointment, formdata=None) -> DetailsForm:
    form = (
        DetailsForm(formdata=formdata)
        if formdata is not None
        else DetailsForm(note=appt.note, contact=appt.contact_id, location=appt.location_id)
    )
    account = appt.account
    form.contact.choices = [(c.id, f"{c.full_name} ({c.email})") for c in account.contacts]
    form.location.choices = [(loc.id, f"{loc.label}: {loc.one_line}") for loc in account.locations]
    return form


@staff_required
def appointment(appointment_id: int):
    return appointment_page(_staff_appointment(appointment_id))


@staff_required
def appointment_action(appointment_id: int, action: str):
    appt = _staff_appointment(appointment_id)
    forms = {
        "move": MoveForm,
        "cancel": StaffCancelForm,
        "deadline": DeadlineForm,
        "close_unsigned": CloseUnsignedForm,
    }
    if action == "details":
        form = _details_form(appt, formdata=request.form)
    elif action in forms:
        form = forms[action]()
    else:
        abort(404)
    if not form.validate_on_submit():
        return appointment_page(
            appt, forms={action: form}, error="Please check the form.", status=422
        )
    try:
        message = _perform(appt, action, form)
    except WindowTaken as err:
        rollback_request_session()
        return appointment_page(
            get_session().get(Appointment, appointment_id), error=err.message, status=409
        )
    except PortalError as err:
        rollback_request_session()
        return appointment_page(
            get_session().get(Appointment, appointment_id),
            forms={action: form},
            error=err.message,
            status=err.status,
        )
    commit()
    flash(message, "success")
    return redirect(url_for("staff.appointment", appointment_id=appointment_id))


def _perform(appt: Appointment, action: str, form) -> str:
    session, actor = get_session(), steps.Actor(current_user)
    if action == "move":
        start = parse_instant(form.start.data)
        if start is None:
            raise PortalError("Choose one of the suggested windows.")
        lc.reschedule_appointment(
            session,
            appt,
            start,
            actor,
            override_reason=form.reason.data or "",
            org_zone=org_zone(),
        )
        return "Moved; the customer and the agents are told."
    if action == "cancel":
        lc.cancel_appointment(session, appt, actor, form.reason.data)
        return "Cancelled; the customer and the agents are told."
    if action == "close_unsigned":
        lc.close_without_sign_off(session, appt, actor, form.reason.data)
        return f"{appt.work_order.number} is closed without the customer's sign-off."
    if action == "details":
        dispatch_services.edit_details(
            session,
            appt,
            current_user,
            note=form.note.data or "",
            contact_id=form.contact.data,
            location_id=form.location.data,
        )
        return "Details saved."
    zone = location_zone(appt.location)
    local = form.deadline.data
    dispatch_services.set_confirm_deadline(
        session, appt, current_user, local.replace(tzinfo=ZoneInfo(zone)) if local else None
    )
    return "Deadline saved."


@role_required("scheduler")
def appointments():
    status = request.args.get("status") or None
    if status not in (None, *APPOINTMENT_STATES):
        status = None
    found = list_appointments(
        get_session(),
        account_id=ALL_ACCOUNTS,
        status=status,
        page=page_arg(request.args.get("page")),
    )
    return render_template(
        "staff/appointments.html", found=found, status=status, states=APPOINTMENT_STATES
    )


@role_required("scheduler")
def work_orders():
    status = request.args.get("status") or None
    if status not in (None, *WORK_ORDER_STATES):
        status = None
    found = list_work_orders(get_session(), status=status, page=page_arg(request.args.get("page")))
    return render_template(
        "staff/work_orders.html", found=found, status=status, states=WORK_ORDER_STATES
    )


def register(bp: Blueprint) -> None:
    """The console: customers, booking on their behalf, appointments, work orders."""
    bp.add_url_rule("/customers", view_func=customers)
    bp.add_url_rule("/customers/<int:account_id>", view_func=customer)
    bp.add_url_rule("/customers/<int:account_id>/book", view_func=book_for)
    bp.add_url_rule(
        "/customers/<int:account_id>/book/confirm",
        view_func=book_for_confirm,
        methods=["GET", "POST"],
    )
    bp.add_url_rule("/appointments/<int:appointment_id>", view_func=appointment)
    bp.add_url_rule(
        "/appointments/<int:appointment_id>/<action>",
        view_func=appointment_action,
        methods=["POST"],
    )
    bp.add_url_rule("/appointments", view_func=appointments)
    bp.add_url_rule("/work-orders", view_func=work_orders)
