"""Logging in and out. Sessions are kept on the server (portal/accounts/sessions.py,
browser.py): log-out ends this one there."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts import browser
from portal.accounts.forms import LoginForm
from portal.accounts.routes.common import safe_next
from portal.accounts.services import LoginRefused, authenticate
from portal.db import commit, get_session


def login():
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        db = get_session()
        device = browser.device_for(db, form.email.data)
        try:
            user = authenticate(
                db, form.email.data, form.password.data, browser.password_attempt(device)
            )
        except LoginRefused as refused:
            commit()  # keep the failed attempt: it is what the rate limit counts
            error = refused.message
        else:
            browser.log_in(user, remember=form.remember.data)
            commit()
            return redirect(safe_next(request.args.get("next")) or url_for("index"))
    status = 401 if error else (422 if form.errors else 200)
    return render_template("accounts/login.html", form=form, error=error), status


def logout():
    browser.log_out()
    commit()
    flash("You are logged out.", "info")
    return redirect(url_for("accounts.login"))
