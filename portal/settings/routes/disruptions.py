"""The scheduler's view of bookings that lost their agent: each with its top three
suggestions, a button to take one, and a bulk move of the ticked ones to their best."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from portal.access import role_required
from portal.booking.models import Appointment
from portal.booking.services import WindowTaken
from portal.booking.windows import location_zone
from portal.db import commit, get_session, rollback_request_session
from portal.dispatch import disruptions
from portal.errors import PortalError
from portal.formatting import fmt_window, org_zone
from portal.ids import parse_id
from portal.pagination import paginate
from portal.settings.forms import MoveOneForm, bulk_move_form
from portal.settings.helpers import me, page_arg
from portal.timeutil import now_utc, parse_instant

PER_PAGE = 10
MAX_BULK = 100
_PICK = re.compile(r"^pick_(\d+)$")


def _zone(appointment: Appointment) -> str:
    return location_zone(appointment.location)


def _window(appointment: Appointment) -> str:
    return fmt_window(appointment.window_start, appointment.window_end, _zone(appointment))


@role_required("scheduler")
def disruptions_page():
    return _page()


def _page(status: int = 200):
    session = get_session()
    page = paginate(session, disruptions.parked_appointments_query(), page_arg(), PER_PAGE)
    suggestions = disruptions.suggestions_for(
        session, page.items, now=now_utc(), org_zone=org_zone()
    )
    return render_template(
        "settings/disruptions.html",
        page=page,
        suggestions=suggestions,
        reasons=disruptions.parked_reasons(session, [a.id for a in page.items]),
        zones={a.id: _zone(a) for a in page.items},
        form=bulk_move_form(page.items),
    ), status


@role_required("scheduler")
def disruptions_move():
    picked = (parse_id(m.group(1)) for key in request.form if (m := _PICK.match(key)))
    ids = [i for i in picked if i is not None][:MAX_BULK]
    # The order of the page: the booking whose old window came first chooses first.
    chosen = (
        get_session()
        .scalars(
            sa.select(Appointment)
            .where(Appointment.id.in_(ids))
            .order_by(Appointment.window_start, Appointment.id)
        )
        .all()
    )
    form = bulk_move_form(chosen)
    if not form.validate_on_submit():
        abort(400)
    if not form.chosen_ids():
        flash("Tick at least one appointment to move.", "error")
        return _page(status=422)
    result = disruptions.move_to_best_suggestions(
        get_session(), form.chosen_ids(), me(), now=now_utc(), org_zone=org_zone()
    )
    commit()
    _report(result)
    return redirect(url_for("settings.disruptions_page", page=page_arg()))


def _report(result: disruptions.BulkMove) -> None:
    moved = result.moved
    if moved:
        lines = "; ".join(
            f"{m.appointment.number} to {_window(m.appointment)}" for m in result.moved
        )
        flash(f"Moved {len(result.moved)}: {lines}. The customers and agents are told.", "success")
    if result.not_moved:
        lines = "; ".join(f"{n.appointment.number}: {n.reason}" for n in result.not_moved)
        flash(f"Could not move {len(result.not_moved)}: {lines}.", "error")


@role_required("scheduler")
def disruption_move_one(appointment_id: int):
    appointment = get_session().get(Appointment, appointment_id) or abort(404)
    form = MoveOneForm()
    start = parse_instant(form.start.data) if form.validate_on_submit() else None
    if start is None:
        abort(400)
    try:
        disruptions.move_to_window(get_session(), appointment, start, me(), org_zone=org_zone())
    except WindowTaken:
        rollback_request_session()
        flash(f"That window for {appointment.number} was just taken; pick another.", "error")
    except PortalError as err:
        rollback_request_session()
        flash(f"{appointment.number}: {err.message}", "error")
    else:
        commit()
        flash(
            f"{appointment.number} moved to {_window(appointment)}. Everybody is told.", "success"
        )
    return redirect(url_for("settings.disruptions_page", page=page_arg()))


def register(bp: Blueprint) -> None:
    """The scheduler's page of bookings to move, and the moves."""
    bp.add_url_rule("/disruptions", view_func=disruptions_page)
    bp.add_url_rule("/disruptions/move", view_func=disruptions_move, methods=["POST"])
    bp.add_url_rule(
        "/disruptions/<int:appointment_id>/move", view_func=disruption_move_one, methods=["POST"]
    )
