"""The profile's "Where you are logged in": the user's live sessions, and ending them
(one other device, or every device at once)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, url_for
from flask_login import current_user, login_required

from portal.accounts import bp, browser, sessions
from portal.accounts.forms import ActionForm
from portal.db import commit, get_session
from portal.timeutil import now_utc


def sessions_panel() -> dict:
    """What the profile's sessions section shows: this browser's session first."""
    limits = sessions.Limits.from_config(current_app.config)
    rows = sessions.live_sessions(get_session(), current_user, now_utc(), limits)
    this = browser.current_row()
    this_id = this.id if this is not None else None
    rows.sort(key=lambda row: row.id != this_id)  # stable: the rest stay newest first
    return {
        "live_sessions": rows,
        "this_session_id": this_id,
        "describe_device": sessions.describe_device,
    }


def _checked_form() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


@bp.post("/profile/sessions/end-all")
@login_required
def end_all_sessions():
    _checked_form()
    sessions.end_user_sessions(get_session(), current_user, now_utc(), "everywhere")
    browser.log_out("everywhere")
    commit()
    flash("You are logged out on every device, this one too.", "success")
    return redirect(url_for("accounts.login"))


@bp.post("/profile/sessions/<int:session_id>/end")
@login_required
def end_one_session(session_id: int):
    _checked_form()
    row = sessions.get_own_session(get_session(), current_user, session_id)
    if row is None or row.revoked_at is not None:
        abort(404)
    this = browser.current_row()
    if this is not None and row.id == this.id:
        browser.log_out()
        commit()
        flash("You are logged out.", "info")
        return redirect(url_for("accounts.login"))
    sessions.end_session(row, now_utc(), "ended")
    commit()
    flash(f"{sessions.describe_device(row.user_agent)} ({row.ip}) is logged out.", "success")
    return redirect(url_for("accounts.profile") + "#sessions-h")
