"""The back office's page of an order's back-office work order: take it, write work
notes, mark it done. Members and the lead of its queue, whoever took it and managers
only: everyone else gets 404."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.access import team_required
from portal.db import commit, get_session, rollback_request_session
from portal.errors import PortalError, put_on_form
from portal.orders import backoffice
from portal.orders.forms import ActionForm
from portal.orders.queries import may_handle_orders
from portal.queues.services import may_work
from portal.workorders.models import WorkOrder
from portal.workorders.services import timeline_for_work_order


class WorkNoteForm(FlaskForm):
    text = TextAreaField("Work note", validators=[DataRequired(), Length(max=backoffice.NOTE_MAX)])


class DoneForm(FlaskForm):
    note = TextAreaField("What was done", validators=[Optional(), Length(max=backoffice.NOTE_MAX)])


FORMS = {"take": ActionForm, "note": WorkNoteForm, "done": DoneForm}


def register(bp) -> None:
    bp.add_url_rule("/orders/work-orders/<int:work_order_id>", view_func=order_work_page)
    bp.add_url_rule(
        "/orders/work-orders/<int:work_order_id>/<action>",
        view_func=order_work_action,
        methods=["POST"],
    )


@team_required
def order_work_page(work_order_id: int):
    work_order = backoffice.work_order_for_member(get_session(), current_user, work_order_id)
    return _render(work_order)


@team_required
def order_work_action(work_order_id: int, action: str):
    if action not in FORMS:
        abort(404)
    session = get_session()
    work_order = backoffice.work_order_for_member(session, current_user, work_order_id)
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
    return redirect(url_for("orders.order_work_page", work_order_id=work_order_id))


def _perform(work_order: WorkOrder, action: str, form) -> str:
    session = get_session()
    if action == "take":
        backoffice.take(session, work_order, current_user)
        return f"{work_order.number} is yours."
    if action == "note":
        backoffice.add_note(session, work_order, form.text.data, current_user)
        return "Work note added."
    backoffice.finish(session, work_order, current_user, form.note.data or "")
    return f"{work_order.number} is done and closed; the order is told."


def _render(work_order: WorkOrder, *, forms=None, error=None, status=200):
    session = get_session()
    queue = backoffice.queue_of(session, work_order)
    link = backoffice.link_for(session, work_order)
    page_forms = {
        "take": ActionForm(),
        "note": WorkNoteForm(formdata=None),
        "done": DoneForm(formdata=None),
    }
    page_forms.update(forms or {})
    waiting = backoffice.waiting_tasks(work_order)
    return (
        render_template(
            "orders/work_order.html",
            work_order=work_order,
            queue=queue,
            order=link.line.order if link is not None else None,
            line=link.line if link is not None else None,
            tasks=sorted(work_order.tasks, key=lambda t: t.id),
            holder=backoffice.holder(work_order),
            can_take=bool(waiting)
            and work_order.status in backoffice.OPEN_WORK
            and may_work(session, waiting[0].queue, current_user),
            forms=page_forms,
            error=error,
            timeline=timeline_for_work_order(session, work_order, include_internal=True),
            show_order=may_handle_orders(session, current_user),
        ),
        status,
    )
