from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import bp
from portal.accounts.forms import LoginForm
from portal.accounts.services import LoginRefused, authenticate
from portal.db import commit, get_session


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect would turn our log-in into a phishing aid."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        from flask import current_app

        try:
            user = authenticate(
                get_session(),
                form.email.data,
                form.password.data,
                remote_addr=request.remote_addr or "unknown",
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
            )
        except LoginRefused as refused:
            commit()  # keep the failed attempt: it is what the rate limit counts
            error = refused.message
        else:
            commit()
            session.clear()  # a fresh session on log-in: no fixation
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or url_for("index"))
    status = 401 if error else (422 if form.errors else 200)
    return render_template("accounts/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("accounts.login"))
