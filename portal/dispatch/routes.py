"""The dispatch board: schedulers see who works when, move tasks in place, and assign
appointments waiting in the unassigned queue in place.

htmx convention on these pages: an expected refusal (the agent is not free, another
booking won the race, the task moved on meanwhile, no agent chosen) is answered 200
with the reassign panel re-rendered around the message, so htmx swaps it in where the
scheduler is looking. Only requests the page never makes go 4xx (a POST without the
CSRF header is 400, an unknown task 404), and htmx leaves those unswapped. Without
JavaScript the same URLs serve full pages (and refusals keep their 409/422 status).

The board polls itself (every 20 s and when the tab becomes visible): the poll, and a
successful reassignment, return the board region with the queue swapped out of band.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from portal.access import role_required
from portal.booking.models import Appointment
from portal.booking.windows import location_zone
from portal.db import commit, get_session, rollback_request_session
from portal.dispatch import bp
from portal.dispatch import services as dispatch_services
from portal.dispatch.board import LEGEND, BoardRange, board_range, load_board
from portal.dispatch.filters import BoardFilters, filter_choices
from portal.dispatch.forms import AssignForm, BoardForm, ReassignForm
from portal.dispatch.panels import assign_options, reassign_options
from portal.dispatch.queues import appointment_number
from portal.errors import PortalError
from portal.extensions import htmx
from portal.ids import parse_id
from portal.timeutil import now_utc, to_local
from portal.workorders.models import WorkOrderTask

REFRESH_SECONDS = 20
# Dates outside these years are typing mistakes; they would also overflow date arithmetic.
FIRST_YEAR, LAST_YEAR = 2000, 2100
FILTER_ARGS = ("skill", "service", "status", "territory")


@dataclass(frozen=True)
class BoardState:
    """What the query string asked for, cleaned: the range, the filters, and the
    arguments that reproduce this board (carried by every link and by the poll)."""

    range: BoardRange
    filters: BoardFilters
    args: dict[str, str]
    form: BoardForm
    problems: list[str]
    today: date


def _board_state() -> BoardState:
    form = BoardForm(formdata=request.args)
    form.set_choices(filter_choices(get_session()))
    problems = form.clean()
    zone = current_user.time_zone
    today = to_local(now_utc(), zone).date()
    anchor = form.date.data or today
    if not FIRST_YEAR <= anchor.year <= LAST_YEAR:
        problems.append(f"Choose a date between {FIRST_YEAR} and {LAST_YEAR}; showing today.")
        anchor = today
    form.date.data = anchor
    view = form.view.data
    filters = BoardFilters(
        skill_id=parse_id(form.skill.data),
        service_id=parse_id(form.service.data),
        status=form.status.data or None,
        territory_id=parse_id(form.territory.data),
    )
    args = {"view": view, "date": anchor.isoformat()}
    args.update({name: form[name].data for name in FILTER_ARGS if form[name].data})
    return BoardState(board_range(view, anchor, zone), filters, args, form, problems, today)


def _board_args() -> dict[str, str]:
    """The board's own arguments from this request (the reassign URLs carry them so the
    board can be redrawn as the scheduler sees it); anything else is dropped."""
    names = ("view", "date", *FILTER_ARGS)
    return {name: request.args[name] for name in names if request.args.get(name)}


def _id_url(endpoint: str, key: str, **values) -> tuple[Markup, Markup]:
    """url_for split around its id, for a board of thousands of links: the template
    writes head, id, tail (a call per link is the slowest part of the page)."""
    marker = "987654321"
    head, tail = url_for(endpoint, **{key: marker}, **values).split(marker)
    return escape(head), escape(tail)


def _context(state: BoardState, **extra) -> dict:
    session = get_session()
    board = load_board(session, state.range, state.filters)

    def board_href(**changes) -> str:
        args = {**state.args, **changes}
        return url_for("dispatch.board", **{k: v for k, v in args.items() if v})

    return {
        "board": board,
        "state": state,
        "legend": LEGEND,
        "refresh_seconds": REFRESH_SECONDS,
        "refreshed_at": now_utc(),
        "board_href": board_href,
        "appt_url": _id_url("staff.appointment", "appointment_id"),
        "reassign_url": _id_url("dispatch.reassign", "task_id"),
        "assign_url": _id_url("dispatch.assign", "appointment_id"),
        **extra,
    }


@bp.get("/")
@role_required("scheduler")
def board():
    state = _board_state()
    context = _context(state)
    if htmx and htmx.target == "board":  # the poll: the region, the queue out of band
        return render_template("dispatch/_refresh.html", **context)
    return render_template("dispatch/board.html", **context)


@bp.route("/tasks/<int:task_id>/reassign", methods=["GET", "POST"])
@role_required("scheduler")
def reassign(task_id: int):
    """GET: the panel of qualified agents, free or not. POST: hand the task over."""
    session = get_session()
    task = session.get(WorkOrderTask, task_id)
    if task is None or task.appointment_id is None:
        abort(404)
    form = ReassignForm()
    message, status = None, 200
    if form.validate_on_submit():
        try:
            new_task = dispatch_services.reassign_task(
                session, task, form.agent_id.data, current_user, note=form.note.data or ""
            )
        except PortalError as err:
            rollback_request_session()
            message, status = err.message, err.status
        else:
            done = (
                f"{appointment_number(new_task.appointment_id)} is now with {new_task.agent.name}."
            )
            commit()
            return _reassigned(done)
    elif form.is_submitted():
        message, status = " ".join(e for errors in form.errors.values() for e in errors), 422
    options = reassign_options(session, task)
    panel = {
        "options": options,
        "form": form,
        "message": message,
        "args": _board_args(),
        "zone": _address_zone(options.appointment),
    }
    if htmx:
        return render_template("dispatch/_reassign_panel.html", **panel)
    page = render_template("dispatch/reassign.html", **panel)
    return page, status


def _address_zone(appointment: Appointment) -> str:
    """The panels show an appointment's time as its customer booked it: on the clock at
    its address, named, whatever the scheduler's own zone."""
    return location_zone(appointment.location)


def _reassigned(done: str, heading: str = "Reassigned"):
    if not htmx:
        flash(done, "success")
        return redirect(url_for("dispatch.board", **_board_args()))
    context = _context(_board_state(), done=done, heading=heading)
    return render_template("dispatch/_reassigned.html", **context)


@bp.route("/appointments/<int:appointment_id>/assign", methods=["GET", "POST"])
@role_required("scheduler")
def assign(appointment_id: int):
    """GET: the panel of agents qualified for a queued appointment's window, free or
    not. POST: assign the chosen ones (the same conventions as the reassign panel)."""
    session = get_session()
    appointment = session.get(Appointment, appointment_id) or abort(404)
    form = AssignForm()
    message, status = None, 200
    if form.validate_on_submit():
        try:
            dispatch_services.assign_from_queue(
                session, appointment, form.agent_id.data or [], current_user, note=form.note.data
            )
        except PortalError as err:
            rollback_request_session()
            message, status = err.message, err.status
        else:
            names = " and ".join(hold.agent.name for hold in appointment.holds)
            done = f"{appointment.number} is now with {names}, waiting for them to accept."
            commit()
            return _reassigned(done, heading="Assigned")
    elif form.is_submitted():
        message, status = " ".join(e for errors in form.errors.values() for e in errors), 422
    panel = {
        "options": assign_options(session, appointment, now_utc()),
        "form": form,
        "message": message,
        "args": _board_args(),
        "zone": _address_zone(appointment),
    }
    if htmx:
        return render_template("dispatch/_assign_panel.html", **panel)
    return render_template("dispatch/assign.html", **panel), status


@bp.get("/panel/close")
@role_required("scheduler")
def close_panel():
    """Empties the reassign or assign panel (htmx); without it, back to the board."""
    if htmx:
        return ""
    return redirect(url_for("dispatch.board", **_board_args()))
