"""The profile's "Where you are logged in": the user's live sessions, and ending them
(one other device, or every device at once)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, url_for
from flask_login import current_user

from portal.accounts import browser, sessions
from portal.accounts.routes.common import checked_button
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


def end_all_sessions():
    checked_button()
    sessions.end_user_sessions(get_session(), current_user, now_utc(), "everywhere")
    browser.log_out("everywhere")
    commit()
    flash("You are logged out on every device, this one too.", "success")
    return redirect(url_for("accounts.login"))


def end_one_session(session_id: int):
    checked_button()
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
