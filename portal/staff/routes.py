from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.accounts.access import role_required, staff_required
from portal.availability.services import location_zone
from portal.booking import lifecycle as lc
from portal.booking.models import Appointment
from portal.db import commit, get_session, rollback_request_session
from portal.errors import PortalError
from portal.staff import bp
from portal.staff.forms import DeadlineForm, TaskActionForm, TaskNoteForm
from portal.workorders.models import WorkOrderTask
from portal.workorders.services import list_my_tasks, timeline_for_work_order

TASK_ACTIONS = {
    "accept": (TaskActionForm, "You accepted the task."),
    "decline": (TaskNoteForm, "You declined the task; it has moved on."),
    "start": (TaskActionForm, "Task started."),
    "complete": (TaskNoteForm, "Task completed. The customer is asked to sign off."),
    "no-show": (TaskActionForm, "Recorded as a no-show; the scheduler will follow up."),
}


@bp.get("/")
@staff_required
def home():
    return render_template(
        "staff/home.html",
        my=list_my_tasks(get_session(), current_user),
        action_form=TaskActionForm(),
        note_form=TaskNoteForm(),
        now=datetime.now(ZoneInfo("UTC")),
    )


@bp.post("/tasks/<int:task_id>/<action>")
@staff_required
def task_action(task_id: int, action: str):
    if action not in TASK_ACTIONS:
        abort(404)
    form_class, done = TASK_ACTIONS[action]
    form = form_class()
    task = get_session().get(WorkOrderTask, task_id)
    if task is None or task.appointment is None or not form.validate_on_submit():
        abort(404 if task is None or task.appointment is None else 400)
    try:
        _do(task, action, form)
    except PortalError as err:
        rollback_request_session()
        flash(err.message, "error")
    else:
        commit()
        flash(done, "success")
    return redirect(url_for("staff.home"))


def _do(task: WorkOrderTask, action: str, form) -> None:
    session, user = get_session(), current_user
    if action == "accept":
        lc.accept_task(session, task, user)
    elif action == "decline":
        lc.decline_task(session, task, user, form.note.data or "")
    elif action == "start":
        lc.start_task(session, task, user)
    elif action == "complete":
        lc.complete_task(session, task, user, form.note.data or "")
    else:
        lc.mark_no_show(session, task.appointment, user)


@bp.route("/appointments/<int:appointment_id>", methods=["GET", "POST"])
@role_required("scheduler")
def appointment(appointment_id: int):
    """The scheduler's view: the whole timeline, and the deadline for self-service."""
    session = get_session()
    appt = session.get(Appointment, appointment_id) or abort(404)
    zone = location_zone(appt.location, current_app.config["ORG_TIME_ZONE"])
    form = DeadlineForm()
    if form.validate_on_submit():
        local = form.deadline.data
        deadline = local.replace(tzinfo=ZoneInfo(zone)) if local else None
        try:
            lc.set_confirm_deadline(session, appt, current_user, deadline)
        except PortalError as err:
            rollback_request_session()
            form.deadline.errors.append(err.message)
        else:
            commit()
            flash("Deadline saved.", "success")
            return redirect(url_for("staff.appointment", appointment_id=appt.id))
    elif appt.confirm_deadline and not form.errors:
        form.deadline.data = appt.confirm_deadline.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    timeline = timeline_for_work_order(session, appt.work_order, include_internal=True)
    return render_template(
        "staff/appointment.html",
        appt=appt,
        zone=zone,
        form=form,
        timeline=timeline,
        status_words=lc.STATUS_WORDS,
    ), (422 if form.errors else 200)
