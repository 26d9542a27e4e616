"""A scheduler books an existing work order (an order's field visit, waiting for its
contact to pick a time) on the contact's behalf: the free windows for the service at the
work order's address, a confirm step, then the same booking the contact's visit link
makes (portal/booking/services.py `book_work_order`), recorded as the scheduler's on
the contact's behalf."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import role_required
from portal.booking.forms import ActionForm
from portal.booking.models import Service
from portal.booking.queries import parse_week, week_view
from portal.booking.services import (
    AlreadyBooked,
    BookingRequest,
    WindowTaken,
    book_work_order,
    current_appointment,
)
from portal.booking.visit_links import latest_service, send_visit_link
from portal.booking.windows import location_zone, window_end
from portal.db import commit, get_session, rollback_request_session
from portal.errors import PortalError
from portal.formatting import org_zone
from portal.ids import parse_id
from portal.staff.forms import OnBehalfForm
from portal.timeutil import now_utc, parse_instant
from portal.workorders.models import WorkOrder


def _work_order(work_order_id: int) -> WorkOrder:
    return get_session().get(WorkOrder, work_order_id) or abort(404)


def _services() -> list[Service]:
    query = sa.select(Service).where(Service.active).order_by(Service.name)
    return list(get_session().scalars(query))


def _service(work_order: WorkOrder) -> Service | None:
    """The service named in the request, else the one the work order's visit link books."""
    raw = request.values.get("service")
    if raw:
        service = get_session().get(Service, parse_id(raw) or 0)
        if service is None or not service.active:
            abort(404)
        return service
    return latest_service(get_session(), work_order)


def _block(work_order: WorkOrder) -> str | None:
    """Why the work order cannot be booked here, if it cannot."""
    if work_order.location_id is None or work_order.contact_id is None:
        return f"Work order {work_order.number} has no address or contact to book a visit for."
    if current_appointment(get_session(), work_order) is not None:
        return f"Work order {work_order.number} is booked already."
    if work_order.status != "new":
        return f"Work order {work_order.number} is {work_order.status.replace('_', ' ')}."
    return None


def _links(work_order: WorkOrder, service: Service) -> dict:
    ids = {"work_order_id": work_order.id, "service": service.id}
    return {
        "week_url": lambda w: url_for("staff.work_order_book", **ids, week=str(w)),
        "refresh_url": lambda w: url_for("staff.work_order_book", **ids, week=str(w), partial=1),
        "slot_url": lambda w: url_for(
            "staff.work_order_book_confirm", **ids, start=w.starts_at.isoformat()
        ),
    }


@role_required("scheduler")
def work_order_book(work_order_id: int):
    work_order = _work_order(work_order_id)
    service = _service(work_order)
    block = _block(work_order)
    week, links = None, {}
    if block is None and service is not None:
        asked = parse_week(request.args.get("week"))
        location = work_order.location
        week = week_view(get_session(), service, location, asked, now_utc(), org_zone=org_zone())
        links = _links(work_order, service)
        if request.args.get("partial"):
            return render_template(
                "booking/_windows.html", service=service, location=location, week=week, **links
            )
    return render_template(
        "staff/work_order_book.html",
        work_order=work_order,
        service=service,
        services=_services(),
        block=block,
        booked=current_appointment(get_session(), work_order),
        send_form=ActionForm(),
        week=week,
        **links,
    )


@role_required("scheduler")
def work_order_book_confirm(work_order_id: int):
    work_order = _work_order(work_order_id)
    service = _service(work_order)
    start = parse_instant(request.values.get("start"))
    if service is None or start is None:
        abort(404)
    form = OnBehalfForm()
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
    taken, refused = None, _block(work_order)
    if refused is None and form.validate_on_submit():
        booking = BookingRequest(
            customer=work_order.contact.user,
            contact=work_order.contact,
            service=service,
            location=work_order.location,
            window_start=start,
            note=form.note.data or "",
            idempotency_key=form.idempotency_key.data,
            work_order=work_order,
        )
        try:
            appt = book_work_order(get_session(), booking, actor=current_user, org_zone=org_zone())
        except AlreadyBooked as err:
            rollback_request_session()
            flash(err.message, "error")
            return redirect(url_for("staff.appointment", appointment_id=err.appointment.id))
        except WindowTaken as err:
            rollback_request_session()
            taken = err
        except PortalError as err:
            rollback_request_session()
            refused = err.message
        else:
            commit()
            flash(f"Booked {appt.number} for {work_order.contact.full_name}.", "success")
            return redirect(url_for("staff.appointment", appointment_id=appt.id))
        work_order = _work_order(work_order_id)
        service = get_session().get(Service, service.id)
    zone = location_zone(work_order.location)
    return render_template(
        "staff/work_order_book_confirm.html",
        work_order=work_order,
        service=service,
        start=start,
        end=window_end(get_session(), start, zone),
        zone=zone,
        form=form,
        taken=taken,
        refused=refused,
        slot_url=_links(work_order, service)["slot_url"],
    ), (409 if taken else 422 if refused and request.method == "POST" else 200)


@role_required("scheduler")
def work_order_send_link(work_order_id: int):
    """Send the contact a new visit link (the earlier one stops working)."""
    work_order = _work_order(work_order_id)
    service = _service(work_order)
    if service is None:
        abort(404)
    back = url_for("staff.work_order_book", work_order_id=work_order.id, service=service.id)
    if not ActionForm().validate_on_submit():
        flash("The form was out of date; please try again.", "error")
        return redirect(back)
    block = _block(work_order)
    if block is not None:
        flash(block, "error")
        return redirect(back)
    try:
        send_visit_link(get_session(), work_order, work_order.contact, service, by=current_user)
    except PortalError as err:
        rollback_request_session()
        flash(err.message, "error")
        return redirect(back)
    commit()
    flash(
        f"Sent {work_order.contact.full_name} a new link to book the visit; "
        "the earlier link no longer works.",
        "success",
    )
    return redirect(back)


def register(bp: Blueprint) -> None:
    """Booking an existing work order on the contact's behalf (windows, confirm), or
    sending its contact a new visit link."""
    bp.add_url_rule("/work-orders/<int:work_order_id>/book", view_func=work_order_book)
    bp.add_url_rule(
        "/work-orders/<int:work_order_id>/book/confirm",
        view_func=work_order_book_confirm,
        methods=["GET", "POST"],
    )
    bp.add_url_rule(
        "/work-orders/<int:work_order_id>/visit-link",
        view_func=work_order_send_link,
        methods=["POST"],
    )
