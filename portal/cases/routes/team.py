"""The team's case pages: the list, a new case for a customer account, the case page and
its actions. Staff on the ladder see every case; a back-office user those of its
queues (portal/cases/queries.py); anything else is 404."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from portal.access import role_required, team_required
from portal.accounts.models import CustomerAccount
from portal.cases import handoff
from portal.cases import services as cs
from portal.cases.comments import add_comment
from portal.cases.forms import (
    CancelWorkForm,
    CommentForm,
    HandoffForm,
    NewCaseForm,
    OwnerForm,
    PriorityForm,
    StatusForm,
)
from portal.cases.models import Case
from portal.cases.queries import (
    SCOPES,
    STATES,
    all_queues,
    case_for_team,
    list_cases_for_team,
    owner_choices,
    parse_owner,
    search_accounts,
    timeline_for_case,
    work_orders_of_case,
)
from portal.cases.routes import task_panel
from portal.cases.types import CONTACT_CENTRE, SUPPORT, origins_of
from portal.db import commit, get_session, rollback_request_session
from portal.errors import NotFound, PortalError, put_on_form
from portal.ids import parse_id
from portal.pagination import page_arg
from portal.queues.models import Queue
from portal.timeutil import now_utc
from portal.workorders.models import WorkOrder

# How often the case page asks for its work orders' state (seconds).
WORK_REFRESH_SECONDS = 15
ACTIONS = (
    "status",
    "priority",
    "owner",
    "comment",
    "handoff",
    "cancel_work",
    "complete_task",
    "next_task",
    "take_task",
)


def register(bp) -> None:
    bp.add_url_rule("/cases", view_func=list_cases)
    bp.add_url_rule("/cases/new", view_func=new_case, methods=["GET", "POST"])
    bp.add_url_rule("/cases/<int:case_id>", view_func=case_page)
    bp.add_url_rule("/cases/<int:case_id>/work", view_func=case_work)
    bp.add_url_rule("/cases/<int:case_id>/<action>", view_func=case_action, methods=["POST"])


@team_required
def list_cases():
    args = {
        "state": request.args.get("state", "") if request.args.get("state") in STATES else "",
        "scope": request.args.get("scope", "all") if request.args.get("scope") in SCOPES else "all",
        "q": request.args.get("q", "")[:100],
    }
    found = list_cases_for_team(
        get_session(),
        current_user,
        state=args["state"],
        scope=args["scope"],
        search=args["q"],
        page=page_arg(request.args.get("page")),
    )
    return render_template("cases/list.html", found=found, args=args, states=STATES)


@role_required("scheduler")
def new_case():
    """Pick the customer's account (search), then write the case for one of its contacts."""
    session = get_session()
    account_id = parse_id(request.values.get("account", ""))
    account = session.get(CustomerAccount, account_id) if account_id else None
    if account is None:
        if request.method == "POST":
            abort(404)
        q = request.args.get("q", "")[:100]
        found = search_accounts(session, q, page=page_arg(request.args.get("page")))
        return render_template("cases/new.html", account=None, q=q, found=found)
    form = _new_case_form(account)
    error = None
    if form.validate_on_submit():
        try:
            user, queue = parse_owner(session, form.owner.data)
            contact = next((c for c in account.contacts if c.id == form.contact.data), None)
            case = cs.open_case(
                session,
                account=account,
                contact=contact,
                subject=form.subject.data,
                description=form.description.data or "",
                origin=form.origin.data,
                priority=form.priority.data,
                owner_user=user,
                owner_queue=queue,
                by=current_user,
            )
        except PortalError as err:
            rollback_request_session()
            error = put_on_form(form, err)
        else:
            commit()
            flash(f"Case {case.number} opened.", "success")
            return redirect(url_for("cases.case_page", case_id=case.id))
    elif request.method == "POST":
        error = "Please check the form."
    status = 422 if request.method == "POST" else 200
    return render_template("cases/new.html", account=account, form=form, error=error), status


def _new_case_form(account: CustomerAccount) -> NewCaseForm:
    session = get_session()
    form = NewCaseForm()
    form.contact.choices = [
        SelectChoice(c.id, f"{c.full_name} · {c.email}") for c in account.contacts
    ]
    form.origin.choices = [SelectChoice(o, o) for o in origins_of(session, SUPPORT)]
    if request.method == "GET":
        form.origin.data = "Phone"
        form.owner.data = f"user:{current_user.id}"
    form.owner.choices = [SelectChoice(v, label) for v, label in owner_choices(session)]
    if not form.contact.choices:
        form.contact.choices = [SelectChoice(0, "No contact")]
    return form


@team_required
def case_page(case_id: int):
    case = case_for_team(get_session(), current_user, case_id)
    return _render_case(case)


@team_required
def case_work(case_id: int):
    """The case's back-office work orders: the region the case page polls."""
    case = case_for_team(get_session(), current_user, case_id)
    return render_template("cases/_work.html", case=case, **_work_context(case))


@team_required
def case_action(case_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    session = get_session()
    case = case_for_team(session, current_user, case_id)
    forms = _forms(case, formdata=request.form, only=action)
    form = forms[action]
    if not form.validate_on_submit():
        return _render_case(case, forms=forms, error="Please check the form.", status=422)
    try:
        message = _perform(case, action, form)
    except PortalError as err:
        rollback_request_session()
        case = session.get(Case, case_id)
        forms = _forms(case, formdata=request.form, only=action)
        error = put_on_form(forms[action], err)
        return _render_case(
            case, forms=forms, error=error or "Please check the form.", status=err.status
        )
    commit()
    flash(message, "success")
    return redirect(url_for("cases.case_page", case_id=case_id))


def _perform(case: Case, action: str, form) -> str:
    session, me = get_session(), current_user
    if action == "status":
        cs.set_status(session, case, form.status.data, me, form.note.data or "")
        return f"Status: {case.status}."
    if action == "priority":
        cs.set_priority(session, case, form.priority.data, me)
        return f"Priority: {case.priority}."
    if action == "owner":
        user, queue = parse_owner(session, form.owner.data)
        cs.assign_case(session, case, user=user, queue=queue, by=me, note=form.note.data or "")
        return f"Owner: {cs.owner_name(case)}."
    if action == "comment":
        add_comment(session, case, form.text.data, visibility=form.visibility.data, by=me)
        return "Comment added."
    if action in task_panel.ACTIONS:
        return task_panel.perform(session, case, action, form, me)
    if action == "handoff":
        queue = session.get(Queue, form.queue.data)
        if queue is None:
            raise NotFound("There is no such queue.")
        work_order = handoff.send_to_back_office(
            session, case, queue, form.summary.data, form.description.data or "", me
        )
        return f"{work_order.number} sent to {queue.name}; its members are told."
    work_order = _case_work_order(case, form.work_order.data)
    handoff.cancel_work_order(session, work_order, me, form.note.data)
    return f"{work_order.number} cancelled."


def _case_work_order(case: Case, work_order_id: int | None) -> WorkOrder:
    for link in case.work_order_links:
        if link.work_order_id == work_order_id:
            return link.work_order
    raise NotFound("That work order is not this case's.")


def _forms(case: Case, formdata=None, only: str | None = None) -> dict:
    """Every form of the case page; only the one posted reads the request."""
    session = get_session()

    def make(name, cls, **kwargs):
        return cls(formdata=formdata if only == name else None, **kwargs)

    forms = {
        "status": make("status", StatusForm, status=case.status),
        "priority": make("priority", PriorityForm, priority=case.priority),
        "owner": make("owner", OwnerForm, owner=cs.owner_key(case)),
        "comment": make("comment", CommentForm),
        "handoff": make("handoff", HandoffForm),
        "cancel_work": make("cancel_work", CancelWorkForm),
    }
    forms["status"].status.choices = [SelectChoice(s.name, s.name) for s in case.case_type.statuses]
    forms["owner"].owner.choices = [SelectChoice(v, label) for v, label in owner_choices(session)]
    forms["cancel_work"].work_order.choices = [
        SelectChoice(link.work_order_id, f"{link.work_order.number} · {link.work_order.summary}")
        for link in case.work_order_links
        if link.work_order.status in handoff.OPEN_WORK
    ]
    forms.update(task_panel.forms(session, case, current_user, formdata, only))
    forms["handoff"].queue.choices = [
        SelectChoice(q.id, q.name) for q in all_queues(session) if q.slug != CONTACT_CENTRE
    ]
    return forms


def _work_context(case: Case) -> dict:
    links = work_orders_of_case(get_session(), case)
    return {
        "links": links,
        "refresh": WORK_REFRESH_SECONDS,
        "refreshed_at": now_utc(),
        "may_open": {
            link.work_order_id: handoff.may_work(get_session(), current_user, link)
            for link in links
        },
    }


def _render_case(case: Case, *, forms=None, error=None, status=200):
    session = get_session()
    page_forms = _forms(case)
    page_forms.update(forms or {})
    return (
        render_template(
            "cases/case.html",
            case=case,
            meaning=cs.status_meaning(case),
            forms=page_forms,
            error=error,
            timeline=timeline_for_case(session, case, include_internal=True),
            task_panel=task_panel.context(session, case, current_user),
            **_work_context(case),
        ),
        status,
    )
