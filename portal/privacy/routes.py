"""The customer's download of its data (profile) and an admin's anonymisation of a
customer on request (from the staff customer page), with a confirmation step."""

from __future__ import annotations

import json
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.access import customer_required, role_required
from portal.accounts.models import User
from portal.db import commit, get_session, rollback_request_session
from portal.errors import PortalError, put_on_form
from portal.privacy import bp
from portal.privacy import services as privacy


class AnonymiseForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired("Say why: whose request, and when it came."), Length(max=500)],
    )
    confirm = BooleanField(
        "I understand this cannot be undone",
        validators=[DataRequired("Tick the box to confirm.")],
    )


@bp.get("/profile/data.json")
@customer_required
def download_data():
    """Everything we keep about the logged-in customer, as a JSON attachment."""
    user = current_user._get_current_object()
    data = privacy.export_customer_data(get_session(), user, _instance())
    body = json.dumps(data, indent=2, ensure_ascii=False)
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="my-portal-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _instance() -> Path:
    return Path(current_app.instance_path)


def _customer(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None or user.is_staff:
        abort(404)
    return user


@bp.route("/privacy/customers/<int:user_id>/anonymise", methods=["GET", "POST"])
@role_required("admin")
def anonymise(user_id: int):
    user = _customer(user_id)
    form, error = AnonymiseForm(), None
    account_id = user.account_id
    if form.validate_on_submit():
        try:
            privacy.anonymise_customer(
                get_session(),
                current_user._get_current_object(),
                user,
                reason=form.reason.data,
                instance_path=_instance(),
            )
        except PortalError as err:
            rollback_request_session()
            error = put_on_form(form, err)
        else:
            commit()
            flash(f"The customer is anonymised: it is now {user.full_name}.", "success")
            if account_id is not None:
                return redirect(url_for("staff.customer", account_id=account_id))
            return redirect(url_for("settings.audit_log"))
    status = 422 if (error or form.errors) else 200
    return render_template("privacy/anonymise.html", customer=user, form=form, error=error), status
