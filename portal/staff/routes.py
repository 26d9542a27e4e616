from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.accounts.access import staff_required
from portal.booking import lifecycle as lc
from portal.db import commit, get_session, rollback_request_session
from portal.errors import PortalError
from portal.staff import bp
from portal.staff.forms import TaskActionForm, TaskNoteForm
from portal.workorders.models import WorkOrderTask
from portal.workorders.services import list_my_tasks

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
