"""Signing up, and verifying the e-mail address (the link, and asking for a new one)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from portal.accounts import registration
from portal.accounts.forms import ActionForm, EmailForm, SignUpForm
from portal.accounts.links import LinkInvalid
from portal.accounts.routes.common import checked_button, link_problem, safe_next, save
from portal.db import commit, get_session
from portal.formatting import org_zone


def signup():
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    form = SignUpForm()
    if request.method == "GET":
        form.time_zone.data = org_zone()
    error = None
    if form.validate_on_submit():
        saved = save(form, lambda: registration.sign_up(get_session(), **form.sign_up_fields()))
        if saved.done:
            # Not logged in yet, in either case: a new account logs in once its address
            # is verified, so nothing here tells a stranger whether it was taken.
            session["signup"] = {
                "email": form.email.data.strip().lower(),
                "postal_code": saved.result.postal_code,
                "served": saved.result.served,
            }
            return redirect(url_for("accounts.signup_sent"))
        error = saved.error
    status = 422 if (form.errors or error) else 200
    return render_template("accounts/signup.html", form=form, error=error), status


def signup_sent():
    details = session.get("signup")
    if not details:
        return redirect(url_for("accounts.signup"))
    return render_template("accounts/signup_sent.html", details=details)


def verify(token: str):
    try:
        user = registration.verify_email(get_session(), token)
    except LinkInvalid as bad:
        return link_problem(bad, again_url=url_for("accounts.new_verification_link"))
    commit()
    session.pop("signup", None)
    viewer_is_owner = current_user.is_authenticated and current_user.id == user.id
    return render_template("accounts/verified.html", user=user, viewer_is_owner=viewer_is_owner)


def new_verification_link():
    """Logged in: a button that sends a new link. Logged out: ask by e-mail address."""
    if current_user.is_authenticated:
        return _resend_for_current_user()
    form = EmailForm()
    if form.validate_on_submit():
        registration.request_verification_email(get_session(), form.email.data)
        commit()
        return render_template(
            "accounts/check_email.html",
            title="Check your e-mail",
            lines=[
                "If an account with that address still needs verifying, we have sent it a "
                "new link. The link works for 48 hours.",
            ],
        )
    status = 422 if form.errors else 200
    return render_template("accounts/verify_new.html", form=form), status


def _resend_for_current_user():
    if request.method == "GET":
        return render_template("accounts/verify_new.html", form=ActionForm())
    form = checked_button()
    back = safe_next(form.next.data) or url_for("accounts.new_verification_link")
    saved = save(form, lambda: registration.resend_verification(get_session(), current_user))
    if saved.done:
        flash(f"We sent a new link to {current_user.email}. It works for 48 hours.", "success")
    else:
        flash(saved.error, "error")
    return redirect(back)
