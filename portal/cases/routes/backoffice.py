"""The back office's page of a work order a case handed to its queue: take it, write work
notes, complete it. Members and the lead of the queue (and whoever took it) only:
everyone else gets 404."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.access import team_required
from portal.cases import handoff
from portal.cases.forms import ActionForm, CompleteForm, WorkNoteForm
from portal.cases.queries import can_see
from portal.db import commit, get_session, rollback_request_session
from portal.errors import PortalError, put_on_form
from portal.workorders.models import WorkOrder
from portal.workorders.services import timeline_for_work_order

FORMS = {"take": ActionForm, "note": WorkNoteForm, "complete": CompleteForm}


def register(bp) -> None:
    bp.add_url_rule("/back-office/work-orders/<int:work_order_id>", view_func=work_order_page)
    bp.add_url_rule(
        "/back-office/work-orders/<int:work_order_id>/<action>",
        view_func=work_order_action,
        methods=["POST"],
    )


@team_required
def work_order_page(work_order_id: int):
    work_order = handoff.work_order_for_member(get_session(), current_user, work_order_id)
    return _render(work_order)


@team_required
def work_order_action(work_order_id: int, action: str):
    if action not in FORMS:
        abort(404)
    session = get_session()
    work_order = handoff.work_order_for_member(session, current_user, work_order_id)
    form = FORMS[action]()
    if not form.validate_on_submit():
        return _render(work_order, forms={action: form}, error="Please check the form.", status=422)
    try:
        message = _perform(work_order, action, form)
    except PortalError as err:
        rollback_request_session()
        work_order = session.get(WorkOrder, work_order_id)
        error = put_on_form(form, err)
        return _render(work_order, forms={action: form}, error=error, status=err.status)
    commit()
    flash(message, "success")
    return redirect(url_for("cases.work_order_page", work_order_id=work_order_id))


def _perform(work_order: WorkOrder, action: str, form) -> str:
    session = get_session()
    if action == "take":
        handoff.take_work_order(session, work_order, current_user)
        return f"{work_order.number} is yours."
    if action == "note":
        handoff.add_work_note(session, work_order, form.text.data, current_user)
        return "Work note added."
    handoff.complete_work_order(session, work_order, current_user, form.note.data or "")
    return f"{work_order.number} completed; the case is told."


def _render(work_order: WorkOrder, *, forms=None, error=None, status=200):
    session = get_session()
    link = handoff.link_of(session, work_order)
    task = handoff.queue_task(work_order)
    page_forms = {
        "take": ActionForm(),
        "note": WorkNoteForm(formdata=None),
        "complete": CompleteForm(formdata=None),
    }
    page_forms.update(forms or {})
    return (
        render_template(
            "cases/work_order.html",
            work_order=work_order,
            link=link,
            task=task,
            holder=next((t.user for t in work_order.tasks if t.user is not None), None),
            can_take=task is not None
            and task.queue_id is not None
            and handoff.is_member(session, link.queue_id, current_user),
            forms=page_forms,
            error=error,
            timeline=timeline_for_work_order(session, work_order, include_internal=True),
            show_case=can_see(session, current_user, link.case),
        ),
        status,
    )
