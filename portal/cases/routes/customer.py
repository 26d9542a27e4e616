"""The customer's Support area: its account's cases, a new one, one case with what the
customer may see of its timeline, and a comment. Another account's case is 404."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import customer_required
from portal.cases.comments import add_comment
from portal.cases.forms import CustomerCaseForm, CustomerCommentForm
from portal.cases.models import Case
from portal.cases.queries import case_for_customer, list_cases_for_customer, timeline_for_case
from portal.cases.services import open_customer_case, status_meaning
from portal.db import commit, get_session, rollback_request_session
from portal.errors import NotFound, PortalError, put_on_form
from portal.pagination import page_arg


def register(bp) -> None:
    bp.add_url_rule("", view_func=index, endpoint="index")
    bp.add_url_rule("/new", view_func=new_case, endpoint="new_case", methods=["GET", "POST"])
    bp.add_url_rule("/<int:case_id>", view_func=case_page, endpoint="case")
    bp.add_url_rule("/<int:case_id>/comment", view_func=comment, methods=["POST"])


@customer_required
def index():
    found = list_cases_for_customer(
        get_session(), current_user, page=page_arg(request.args.get("page"))
    )
    return render_template("support/index.html", found=found)


@customer_required
def new_case():
    form = CustomerCaseForm()
    error = None
    if current_user.contact is None:
        raise NotFound("Your log-in is not linked to a customer account.")
    if form.validate_on_submit():
        session = get_session()
        try:
            case = open_customer_case(
                session,
                current_user,
                subject=form.subject.data,
                description=form.description.data or "",
                priority=form.priority.data,
            )
        except PortalError as err:
            rollback_request_session()
            error = put_on_form(form, err)
        else:
            commit()
            flash(f"Thank you. We opened case {case.number} and will answer you here.", "success")
            return redirect(url_for("support.case", case_id=case.id))
    elif form.is_submitted():
        error = "Please check the form."
    status = 422 if form.is_submitted() else 200
    return render_template("support/new.html", form=form, error=error), status


@customer_required
def case_page(case_id: int):
    case = case_for_customer(get_session(), current_user, case_id)
    return _render(case, CustomerCommentForm(formdata=None))


@customer_required
def comment(case_id: int):
    session = get_session()
    case = case_for_customer(session, current_user, case_id)
    form = CustomerCommentForm()
    if not form.validate_on_submit():
        return _render(case, form, error="Please write your message.", status=422)
    try:
        add_comment(session, case, form.text.data, visibility="customer", by=current_user)
    except PortalError as err:
        rollback_request_session()
        case = session.get(Case, case_id)
        return _render(case, form, error=put_on_form(form, err), status=err.status)
    commit()
    flash("Your message is sent.", "success")
    return redirect(url_for("support.case", case_id=case_id))


def _render(case: Case, form, *, error=None, status=200):
    timeline = timeline_for_case(get_session(), case, include_internal=False)
    return (
        render_template(
            "support/case.html",
            case=case,
            meaning=status_meaning(case),
            timeline=timeline,
            form=form,
            error=error,
        ),
        status,
    )
