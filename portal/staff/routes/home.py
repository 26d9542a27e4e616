"""A team user's home, "My tasks": what it holds, an agent's tasks day by day with the
actions on each (accept, decline, start, note, complete, no-show), and what waits in its
queues, with a Take button (htmx: the card is swapped for the outcome)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import staff_required, team_required
from portal.booking import agent_moves, steps
from portal.db import commit, get_session, rollback_request_session
from portal.errors import PortalError
from portal.extensions import htmx
from portal.queues.services import may_work
from portal.staff.forms import TaskActionForm, TaskNoteForm
from portal.staff.home import group_by_day, list_my_tasks, take_from_queue
from portal.timeutil import now_utc, to_local
from portal.workorders.models import WorkOrderTask

TASK_ACTIONS = {
    "note": (TaskNoteForm, "Note added to the work order."),
    "accept": (TaskActionForm, "You accepted the task."),
    "decline": (TaskNoteForm, "You declined the task; it has moved on."),
    "start": (TaskActionForm, "Task started."),
    "complete": (TaskNoteForm, "Task completed. The customer is asked to sign off."),
    "no-show": (TaskActionForm, "Recorded as a no-show; the scheduler will follow up."),
}


@team_required
def home():
    now = now_utc()
    my = list_my_tasks(get_session(), current_user, now=now)
    zone = current_user.time_zone
    return render_template(
        "staff/home.html",
        my=my,
        days=group_by_day(my.tasks, zone, to_local(now, zone).date()),
        action_form=TaskActionForm(),
        note_form=TaskNoteForm(),
        now=now,
    )


@team_required
def take(task_id: int):
    """Take a task waiting in one of the user's queues. A task in a queue the user may
    not work is 404; one that left its queue (taken a moment ago) is refused with who
    holds it now."""
    session = get_session()
    task = session.get(WorkOrderTask, task_id)
    if task is None or (task.queue is not None and not may_work(session, task.queue, current_user)):
        abort(404)
    if not TaskActionForm().validate_on_submit():
        abort(400)
    try:
        take_from_queue(session, task, current_user)
    except PortalError as err:
        rollback_request_session()
        task = session.get(WorkOrderTask, task_id)
        message, ok = err.message, False
    else:
        commit()
        message, ok = f"You took “{task.title}”: it is in your tasks now.", True
    if htmx:
        return render_template("staff/_taken.html", task=task, message=message, ok=ok)
    flash(message, "success" if ok else "error")
    return redirect(url_for("staff.home"))


@staff_required
def task_action(task_id: int, action: str):
    if action not in TASK_ACTIONS:
        abort(404)
    form_class, done = TASK_ACTIONS[action]
    form = form_class()
    session = get_session()
    task = session.get(WorkOrderTask, task_id)
    # Only the task's own agent acts on it: anyone else's task is 404, as a missing one
    # is, before the form is read (the services refuse them too, but with a flash and a
    # redirect that told a task that exists from one that does not).
    agent = steps.agent_of(session, current_user)
    if task is None or task.appointment is None or agent is None or task.agent_id != agent.id:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
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
        agent_moves.accept_task(session, task, user)
    elif action == "decline":
        agent_moves.decline_task(session, task, user, form.note.data or "")
    elif action == "start":
        agent_moves.start_task(session, task, user)
    elif action == "note":
        agent_moves.add_work_note(
            session,
            task,
            user,
            form.note.data or "",
            for_customer=bool(request.form.get("for_customer")),
        )
    elif action == "complete":
        agent_moves.complete_task(session, task, user, form.note.data or "")
    else:
        agent_moves.mark_no_show(session, task.appointment, user)


def register(bp: Blueprint) -> None:
    """An agent's own tasks and what the agent does to them."""
    bp.add_url_rule("/", view_func=home)
    bp.add_url_rule("/tasks/<int:task_id>/take", view_func=take, methods=["POST"])
    bp.add_url_rule("/tasks/<int:task_id>/<action>", view_func=task_action, methods=["POST"])
