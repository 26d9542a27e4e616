"""The appointment page and what a customer can do there, logged in or through the
signed link every customer e-mail carries (which opens that one appointment and
nothing else). Both doors lead to the same views; only the actor differs."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import customer_required
from portal.booking import lifecycle as lc
from portal.booking import states, steps
from portal.booking.forms import (
    ActionForm,
    CancelForm,
    ChangeRequestForm,
    NotDoneForm,
    ReasonForm,
    RescheduleForm,
    SignOffForm,
)
from portal.booking.links import MANAGE_LINK_MAX_AGE, manage_link_revoked
from portal.booking.models import Appointment
from portal.booking.queries import parse_week, week_view
from portal.booking.services import WindowTaken, get_customer_appointment
from portal.booking.windows import get_policy, location_zone, window_end
from portal.db import commit, get_session, rollback_request_session
from portal.errors import PortalError
from portal.formatting import org_zone
from portal.timeutil import now_utc
from portal.tokens import TokenInvalid, read_token_issued
from portal.workorders.services import timeline_for_work_order


@dataclass(frozen=True)
class Door:
    """How the customer reached the appointment, and where its actions post to."""

    appointment: Appointment
    actor: steps.Actor
    base: str  # URL prefix: /appointments/12 or /manage/<token>

    def url(self, suffix: str = "") -> str:
        return f"{self.base}{suffix}"


def _by_login(appointment_id: int) -> Door:
    appt = get_customer_appointment(get_session(), current_user, appointment_id)
    return Door(appt, steps.Actor(current_user), f"/appointments/{appt.id}")


def _by_link(token: str) -> Door:
    try:
        payload, signed_at = read_token_issued("manage", token, max_age=MANAGE_LINK_MAX_AGE)
    except TokenInvalid as err:
        abort(404, description=err.message)
    if not isinstance(payload, dict) or not isinstance(payload.get("appointment"), int):
        abort(404)
    appt = lc.load_for_link(get_session(), payload["appointment"])
    user = appt.contact.user if appt.contact else None
    if manage_link_revoked(user, signed_at):
        abort(404, description="This link no longer works: log in to see the appointment.")
    return Door(appt, steps.Actor(user, via_link=True), f"/manage/{token}")


def _no_store_for_manage_pages(response):
    # A manage link opens an appointment without a password: neither the page nor its
    # refusal may be kept by a shared cache or the browser's history.
    if (request.endpoint or "").startswith("booking.manage"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _zone(appt: Appointment) -> str:
    return location_zone(appt.location)


FORMS = {
    "confirm": ActionForm,
    "decline": ReasonForm,
    "cancel": CancelForm,
    "change": ChangeRequestForm,
    "sign-off": SignOffForm,
    "not-done": NotDoneForm,
}


def _page(door: Door, *, forms: dict | None = None, error: str | None = None, status=200):
    session, appt = get_session(), door.appointment
    zone, policy, now = _zone(appt), get_policy(session), now_utc()
    bound = {name: form() for name, form in FORMS.items()}
    bound.update(forms or {})
    return render_template(
        "booking/appointment.html",
        appt=appt,
        door=door,
        zone=zone,
        forms=bound,
        error=error,
        timeline=timeline_for_work_order(session, appt.work_order, include_internal=False),
        move_block=states.reschedule_block(appt, policy, now, zone=zone),
        cancel_block=states.self_service_block(appt, policy, now, zone=zone),
        status_words=states.STATUS_WORDS,
    ), status


def _act(door: Door, action: str):
    if action not in FORMS:
        abort(404)
    form = FORMS[action]()
    if not form.validate_on_submit():
        return _page(door, forms={action: form}, error="Please check the form below.", status=422)
    try:
        message = _perform(door, action, form)
    except PortalError as err:
        rollback_request_session()
        if err.field and err.field in form:
            form[err.field].errors.append(err.message)
        return _page(door, forms={action: form}, error=err.message, status=err.status)
    commit()
    flash(message, "success")
    if door.appointment.status in states.CLOSED_STATES and door.actor.via_link:
        return redirect(url_for("booking.manage_done", status=door.appointment.status))
    return redirect(door.url())


def _perform(door: Door, action: str, form) -> str:
    session, appt, actor = get_session(), door.appointment, door.actor
    if action == "confirm":
        lc.confirm_appointment(session, appt, actor)
        return "Thank you: your appointment is confirmed."
    if action == "decline":
        lc.decline_appointment(session, appt, actor, form.reason.data or "")
        return "You declined this time. Our scheduler will contact you to agree another."
    if action == "cancel":
        lc.cancel_appointment(session, appt, actor, form.reason.data)
        return "Your appointment is cancelled."
    if action == "change":
        lc.request_change(session, appt, actor, form.message.data)
        return "Your request is with our scheduler, who will get back to you."
    if action == "not-done":
        lc.report_not_done(session, appt, actor, form.note.data)
        return "Thank you for telling us. Our scheduler will arrange a return visit."
    lc.sign_off(
        session,
        appt,
        actor,
        full_name=form.full_name.data,
        consent=bool(form.consent.data),
        remote_addr=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", ""),
        signature_png=_signature(form.signature.data),
    )
    return "Thank you: the work is signed off and the work order is closed."


def _signature(data_url: str | None) -> bytes | None:
    """PNG bytes from the canvas's data URL; anything else is refused by the service."""
    if not data_url:
        return None
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        return b"not a png"
    try:
        return base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        return b"not a png"


def manage_done(status: str):
    if status not in states.CLOSED_STATES:
        abort(404)
    return render_template("booking/manage_done.html", status=status)


# --- moving to another window ------------------------------------------------------------------


def _move_links(door: Door) -> dict:
    return {
        "week_url": lambda week: f"{door.url('/move')}?week={week}",
        "refresh_url": lambda week: f"{door.url('/move/windows')}?week={week}",
        "slot_url": lambda w: f"{door.url('/move/confirm')}?start={_q(w.starts_at)}",
    }


def _q(moment: datetime) -> str:
    return moment.isoformat().replace("+", "%2B")


def _move_week(door: Door):
    appt = door.appointment
    return week_view(
        get_session(),
        appt.service,
        appt.location,
        parse_week(request.args.get("week")),
        now_utc(),
        org_zone=org_zone(),
    )


def _move_page(door: Door):
    appt = door.appointment
    block = states.reschedule_block(appt, get_policy(get_session()), now_utc(), zone=_zone(appt))
    if block and not door.actor.is_staff:
        flash(block + " " + lc.CONTACT_SCHEDULER, "error")
        return redirect(door.url())
    return render_template(
        "booking/move.html",
        appt=appt,
        door=door,
        service=appt.service,
        location=appt.location,
        zone=_zone(appt),
        week=_move_week(door),
        **_move_links(door),
    )


def _move_windows(door: Door):
    appt = door.appointment
    return render_template(
        "booking/_windows.html",
        service=appt.service,
        location=appt.location,
        week=_move_week(door),
        **_move_links(door),
    )


def _move_confirm(door: Door):
    appt = door.appointment
    form = RescheduleForm()
    raw = request.values.get("start", "")
    try:
        start = datetime.fromisoformat(raw)
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        flash("Choose one of the free windows.", "error")
        return redirect(door.url("/move"))
    form.start.data = raw
    taken = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            lc.reschedule_appointment(
                get_session(),
                appt,
                start,
                door.actor,
                org_zone=org_zone(),
            )
        except WindowTaken as err:
            rollback_request_session()
            taken = err
        except PortalError as err:
            rollback_request_session()
            flash(err.message, "error")
            return redirect(door.url())
        else:
            commit()
            flash("Your appointment has moved.", "success")
            return redirect(door.url())
    return render_template(
        "booking/move_confirm.html",
        appt=appt,
        door=door,
        form=form,
        start=start,
        zone=_zone(appt),
        end=window_end(get_session(), start, _zone(appt)),
        taken=taken,
        slot_url=_move_links(door)["slot_url"],
    ), (409 if taken else 200)


# Every page and action of an appointment opens through both doors: (the path after the
# door, the view, its endpoint through the login door, through the link door, methods).
THROUGH_BOTH_DOORS = (
    ("", _page, "appointment", "manage", ["GET"]),
    ("/do/<action>", _act, "act", "manage_act", ["POST"]),
    ("/move", _move_page, "move", "manage_move", ["GET"]),
    ("/move/windows", _move_windows, "move_windows", "manage_move_windows", ["GET"]),
    ("/move/confirm", _move_confirm, "move_confirm", "manage_move_confirm", ["GET", "POST"]),
)


def _add_both_doors(bp: Blueprint, path: str, view, by_login: str, by_link: str, methods):
    @customer_required
    def login_door(appointment_id: int, **args):
        return view(_by_login(appointment_id), **args)

    def link_door(token: str, **args):
        return view(_by_link(token), **args)

    bp.add_url_rule(
        f"/appointments/<int:appointment_id>{path}", by_login, login_door, methods=methods
    )
    bp.add_url_rule(f"/manage/<token>{path}", by_link, link_door, methods=methods)


def register(bp: Blueprint) -> None:
    """The appointment's page and its actions, through both doors (login and link)."""
    bp.after_request(_no_store_for_manage_pages)
    for path, view, by_login, by_link, methods in THROUGH_BOTH_DOORS:
        _add_both_doors(bp, path, view, by_login, by_link, methods)
    bp.add_url_rule("/manage/done/<status>", view_func=manage_done)
