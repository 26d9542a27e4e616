"""The team's order pages: the list, a new draft for a customer account, the order page
(lines, work orders, the dry run, the work notes) and its actions: place, approve and
reject (managers), cancel, close. Routes parse, call one service, render."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from portal.accounts.models import CustomerAccount
from portal.booking.models import Service
from portal.db import commit, get_session, rollback_request_session
from portal.errors import NotFound, PortalError, put_on_form
from portal.ids import parse_id
from portal.orders import inflight, lifecycle, services
from portal.orders.access import fulfilment_candidates
from portal.orders.forms import ActionForm, NewOrderForm, ReasonForm
from portal.orders.models import ORDER_STATES, DecisionRow, Order
from portal.orders.notes import work_notes
from portal.orders.planning import plan_order
from portal.orders.queries import may_approve
from portal.orders.reading import list_orders
from portal.orders.routes.common import load_order, orders_team_required
from portal.pagination import page_arg
from portal.queues.models import Queue

# The order page's actions and the states each is offered in.
ACTIONS = {
    "place": ("draft",),
    "approve": ("placed",),
    "reject": ("placed",),
    "cancel": ("draft", "placed", "approved", "in_fulfilment"),
    "close": ("approved", "in_fulfilment", "ready_to_close"),
}
NEEDS_REASON = ("reject", "cancel")
MANAGERS_ONLY = ("approve", "reject")
BOOK_ENDPOINT = "staff.work_order_book"  # a scheduler books a work order's visit
NOTES_SHOWN = 200  # the newest work notes on the order page
# Orders whose lines have work orders to show and follow.
IN_FLIGHT = ("approved", "in_fulfilment")


def register(bp) -> None:
    bp.add_url_rule("/orders", view_func=list_orders_page)
    bp.add_url_rule("/orders/new", view_func=new_order, methods=["GET", "POST"])
    bp.add_url_rule("/orders/<int:order_id>", view_func=order_page)
    bp.add_url_rule("/orders/<int:order_id>/<action>", view_func=order_action, methods=["POST"])


@orders_team_required
def list_orders_page():
    status = request.args.get("status", "")
    status = status if status in ORDER_STATES else ""
    found = list_orders(get_session(), status=status, page=page_arg(request.args.get("page")))
    return render_template("orders/list.html", found=found, status=status, states=ORDER_STATES)


@orders_team_required
def new_order():
    """A draft for the account named by ?account= (from the staff customer page)."""
    session = get_session()
    account_id = parse_id(request.values.get("account", ""))
    account = session.get(CustomerAccount, account_id) if account_id else None
    if account is None:
        raise NotFound("Choose the customer account from its page: there is no such account.")
    form = NewOrderForm()
    form.fulfilment_user.choices = [
        SelectChoice(u.id, f"{u.full_name} ({u.role})") for u in fulfilment_candidates(session)
    ]
    if request.method == "GET":
        form.fulfilment_user.data = current_user.id
    error = None
    if form.validate_on_submit():
        chosen = next(
            (u for u in fulfilment_candidates(session) if u.id == form.fulfilment_user.data), None
        )
        try:
            if chosen is None:
                raise NotFound("Choose who fulfils the order.", field="fulfilment_user")
            order = services.create_order(
                session, account, fulfilment_user=chosen, by=current_user, note=form.note.data or ""
            )
        except PortalError as err:
            rollback_request_session()
            error = put_on_form(form, err)
        else:
            commit()
            flash(f"Order {order.number} drafted. Add its lines.", "success")
            return redirect(url_for("orders.order_page", order_id=order.id))
    elif request.method == "POST":
        error = "Please check the form."
    status = 422 if request.method == "POST" else 200
    return render_template("orders/new.html", account=account, form=form, error=error), status


@orders_team_required
def order_page(order_id: int):
    return render_order(load_order(order_id))


@orders_team_required
def order_action(order_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    order = load_order(order_id)
    if action in MANAGERS_ONLY and not may_approve(current_user):
        abort(403)
    form = ReasonForm() if action in NEEDS_REASON else ActionForm()
    forms = {action: form}
    if not form.validate_on_submit():
        return render_order(order, forms=forms, error="Please check the form.", status=422)
    try:
        message = _perform(order, action, form)
    except PortalError as err:
        rollback_request_session()
        order = load_order(order_id)
        forms = {action: ReasonForm() if action in NEEDS_REASON else ActionForm()}
        error = put_on_form(forms[action], err)
        return render_order(
            order, forms=forms, error=error or "Please check the form.", status=err.status
        )
    commit()
    flash(message, "success")
    return redirect(url_for("orders.order_page", order_id=order_id))


def _perform(order: Order, action: str, form) -> str:
    session, me = get_session(), current_user
    if action == "place":
        services.place(session, order, by=me)
        return f"{order.number} placed: a manager approves it."
    if action == "approve":
        lifecycle.approve(session, order, by=me)
        return f"{order.number} approved: its work orders are made."
    if action == "reject":
        services.reject(session, order, by=me, reason=form.reason.data)
        return f"{order.number} rejected."
    if action == "cancel":
        inflight.cancel(session, order, by=me, reason=form.reason.data)
        return f"{order.number} cancelled."
    lifecycle.close(session, order, by=me)
    return f"{order.number} closed."


def _forms(order: Order) -> dict:
    forms: dict = {}
    for action in ACTIONS:
        if order.status not in ACTIONS[action]:
            continue
        if action in MANAGERS_ONLY and not may_approve(current_user):
            continue
        forms[action] = (
            ReasonForm(formdata=None) if action in NEEDS_REASON else ActionForm(formdata=None)
        )
    return forms


def dry_run(order: Order) -> dict | None:
    """What approval would make, for a placed order (and a draft, as a preview)."""
    if order.status not in ("draft", "placed"):
        return None
    session = get_session()
    plan = plan_order(session, order)
    service_ids = {w.service_id for w in plan.work_orders if w.service_id}
    queue_ids = {w.queue_id for w in plan.work_orders if w.queue_id}
    return {
        "plan": plan,
        "problems": plan.problems() if order.lines else [],
        "services": _names(session, Service, service_ids),
        "queues": _names(session, Queue, queue_ids),
    }


def _names(session, model, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {r.id: r.name for r in session.scalars(sa.select(model).where(model.id.in_(ids)))}


def _bookable(order: Order) -> set[int]:
    """The order's field work orders not booked yet, when the staff page that books a
    work order exists (portal/staff: `staff.work_order_book`) and the viewer schedules."""
    if BOOK_ENDPOINT not in current_app.view_functions or not current_user.has_role("scheduler"):
        return set()
    links = [
        link
        for line in order.lines
        for link in line.work_order_links
        if link.superseded_at is None and link.work_order.status == "new"
    ]
    row_ids = {link.decision_row_id for link in links if link.decision_row_id is not None}
    if not row_ids:
        return set()
    field_rows = set(
        get_session().scalars(
            sa.select(DecisionRow.id).where(
                DecisionRow.id.in_(row_ids), DecisionRow.needs_appointment.is_(True)
            )
        )
    )
    return {link.work_order_id for link in links if link.decision_row_id in field_rows}


def render_order(order: Order, *, forms=None, error=None, status=200):
    session = get_session()
    page_forms = _forms(order)
    page_forms.update(forms or {})
    notes = work_notes(session, order, limit=NOTES_SHOWN)
    return (
        render_template(
            "orders/order.html",
            order=order,
            forms=page_forms,
            line_form=ActionForm(formdata=None),
            error=error,
            dry=dry_run(order),
            notes=notes,
            ponr_words=inflight.ponr_words,
            bookable=_bookable(order),
            book_endpoint=BOOK_ENDPOINT,
            editable=order.status == "draft" or order.status in IN_FLIGHT,
            in_flight=order.status in IN_FLIGHT,
        ),
        status,
    )
