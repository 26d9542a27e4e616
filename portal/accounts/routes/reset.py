"""Forgotten passwords: ask for a reset link, and set a new password through it."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from portal.accounts import browser, credentials
from portal.accounts.forms import EmailForm, NewPasswordForm
from portal.accounts.links import LinkInvalid
from portal.accounts.routes.common import REVOKED_NOTICE, link_problem
from portal.db import commit, get_session
from portal.errors import PortalError, put_on_form


def forgot_password():
    form = EmailForm()
    if form.validate_on_submit():
        credentials.request_password_reset(get_session(), form.email.data)
        commit()
        return redirect(url_for("accounts.reset_sent"))
    status = 422 if form.errors else 200
    return render_template("accounts/forgot.html", form=form), status


def reset_sent():
    # One answer whether or not the address is known (no enumeration).
    return render_template(
        "accounts/check_email.html",
        title="Check your e-mail",
        lines=[
            "If an account exists for that address, we have sent it a link to reset the "
            "password. The link works for one hour.",
            "Nothing arrived after a few minutes? Check your spam folder, or ask again.",
        ],
        again_url=url_for("accounts.forgot_password"),
    )


def reset_password(token: str):
    db = get_session()
    again = url_for("accounts.forgot_password")
    try:
        user = credentials.read_reset_link(db, token)
    except LinkInvalid as bad:
        return link_problem(bad, again_url=again)
    form = NewPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            credentials.reset_password(db, token, form.password.data)
        except LinkInvalid as bad:
            db.rollback()
            return link_problem(bad, again_url=again)
        except PortalError as refused:
            db.rollback()
            error = put_on_form(form, refused)
        else:
            browser.log_out("password")  # whoever was logged in here, log in afresh
            commit()
            flash(
                "Your password is changed. Log in with your new password. " + REVOKED_NOTICE,
                "success",
            )
            return redirect(url_for("accounts.login"))
    status = 422 if (form.errors or error) else 200
    return render_template("accounts/reset.html", form=form, user=user, error=error), status
