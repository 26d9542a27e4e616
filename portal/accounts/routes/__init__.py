"""The accounts blueprint: log-in, sign-up, e-mail verification, password reset,
invitations and the profile, one module per area, every view bound here by name.

Sessions are kept on the server (portal/accounts/sessions.py, browser.py): log-out ends
this one there, and a new password ends every session of the user at once.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

from portal.access import customer_required, role_required
from portal.accounts.routes import common, invite, live_sessions, login, profile, reset, signup

bp = Blueprint("accounts", __name__)
bp.after_request(common.no_store_for_token_pages)
bp.context_processor(common.account_texts)

GET, POST, BOTH = ["GET"], ["POST"], ["GET", "POST"]
_scheduler_required = role_required("scheduler")

# (rule, endpoint, view, methods): endpoints are what templates and url_for name.
VIEWS = [
    ("/login", "login", login.login, BOTH),
    ("/logout", "logout", login_required(login.logout), POST),
    ("/signup", "signup", signup.signup, BOTH),
    ("/signup/sent", "signup_sent", signup.signup_sent, GET),
    ("/verify/<token>", "verify", signup.verify, GET),
    ("/verify/new", "new_verification_link", signup.new_verification_link, BOTH),
    ("/reset", "forgot_password", reset.forgot_password, BOTH),
    ("/reset/sent", "reset_sent", reset.reset_sent, GET),
    ("/reset/<token>", "reset_password", reset.reset_password, BOTH),
    ("/invite/<token>", "accept_invitation", invite.accept_invitation, BOTH),
    ("/accounts/<int:account_id>/invite", "invite", _scheduler_required(invite.invite), BOTH),
    ("/profile", "profile", login_required(profile.profile), GET),
    ("/profile", "update_profile", login_required(profile.update_profile), POST),
    ("/profile/locations", "add_location", customer_required(profile.add_location), POST),
    (
        "/profile/locations/<int:location_id>/remove",
        "remove_location",
        customer_required(profile.remove_location),
        POST,
    ),
    ("/profile/password", "change_password", login_required(profile.change_password), POST),
    (
        "/profile/sessions/end-all",
        "end_all_sessions",
        login_required(live_sessions.end_all_sessions),
        POST,
    ),
    (
        "/profile/sessions/<int:session_id>/end",
        "end_one_session",
        login_required(live_sessions.end_one_session),
        POST,
    ),
]

for rule, endpoint, view, methods in VIEWS:
    bp.add_url_rule(rule, endpoint, view, methods=methods)
