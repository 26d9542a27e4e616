"""Log-in, sign-up, e-mail verification, password reset, invitations and the profile.

Sessions are kept on the server (portal/accounts/sessions.py, browser.py): log-out ends
this one there, and a new password ends every session of the user at once.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from portal.access import customer_required, role_required
from portal.accounts import bp, browser, selfservice, session_routes
from portal.accounts.forms import (
    PASSWORD_HINT,
    AcceptInvitationForm,
    ActionForm,
    ChangePasswordForm,
    EmailForm,
    InviteForm,
    LocationForm,
    LoginForm,
    NewPasswordForm,
    ProfileForm,
    SignUpForm,
)
from portal.accounts.models import Contact, CustomerAccount, ServiceLocation
from portal.accounts.services import LoginRefused, add_service_location, authenticate
from portal.db import commit, get_session
from portal.errors import PortalError, put_on_form

# Pages opened from an e-mailed link: never kept by a cache, shared or not.
_TOKEN_PAGES = frozenset(
    {"accounts.verify", "accounts.reset_password", "accounts.accept_invitation"}
)


@bp.after_request
def _no_store_for_token_pages(response):
    if request.endpoint in _TOKEN_PAGES:
        response.headers["Cache-Control"] = "no-store"
    return response


# A new password revokes what outlives a session (selfservice.revoke_access): say so.
REVOKED_NOTICE = (
    "Your API tokens and calendar links were revoked: make new ones if you still need them."
)


@bp.context_processor
def _account_texts() -> dict:
    return {"password_hint": PASSWORD_HINT}


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect would turn our log-in into a phishing aid."""
    if not target:
        return None
    if "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# --- log-in and log-out -----------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        db = get_session()
        try:
            user = authenticate(
                db,
                form.email.data,
                form.password.data,
                remote_addr=request.remote_addr or "unknown",
                device=browser.device_for(db, form.email.data),
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
            )
        except LoginRefused as refused:
            commit()  # keep the failed attempt: it is what the rate limit counts
            error = refused.message
        else:
            browser.log_in(user, remember=form.remember.data)
            commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("index"))
    status = 401 if error else (422 if form.errors else 200)
    return render_template("accounts/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    browser.log_out()
    commit()
    flash("You are logged out.", "info")
    return redirect(url_for("accounts.login"))


# --- sign-up and verification -----------------------------------------------------------------


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    form = SignUpForm()
    if request.method == "GET":
        form.time_zone.data = current_app.config["ORG_TIME_ZONE"]
    error = None
    if form.validate_on_submit():
        db = get_session()
        try:
            result = selfservice.sign_up(
                db,
                full_name=form.full_name.data,
                email=form.email.data,
                password=form.password.data,
                time_zone=form.time_zone.data,
                phone=form.phone.data or "",
                label=form.label.data,
                street=form.street.data,
                city=form.city.data,
                postal_code=form.postal_code.data,
                country=form.country.data,
            )
        except PortalError as refused:
            db.rollback()
            error = put_on_form(form, refused)
        else:
            commit()
            # Not logged in yet, in either case: a new account logs in once its address
            # is verified, so nothing here tells a stranger whether it was taken.
            session["signup"] = {
                "email": form.email.data.strip().lower(),
                "postal_code": result.postal_code,
                "served": result.served,
            }
            return redirect(url_for("accounts.signup_sent"))
    status = 422 if (form.errors or error) else 200
    return render_template("accounts/signup.html", form=form, error=error), status


@bp.get("/signup/sent")
def signup_sent():
    details = session.get("signup")
    if not details:
        return redirect(url_for("accounts.signup"))
    return render_template("accounts/signup_sent.html", details=details)


@bp.get("/verify/<token>")
def verify(token: str):
    try:
        user = selfservice.verify_email(get_session(), token)
    except selfservice.LinkInvalid as bad:
        return _link_problem(bad, again_url=url_for("accounts.new_verification_link"))
    commit()
    session.pop("signup", None)
    viewer_is_owner = current_user.is_authenticated and current_user.id == user.id
    return render_template("accounts/verified.html", user=user, viewer_is_owner=viewer_is_owner)


@bp.route("/verify/new", methods=["GET", "POST"])
def new_verification_link():
    """Logged in: a button that sends a new link. Logged out: ask by e-mail address."""
    if current_user.is_authenticated:
        return _resend_for_current_user()
    form = EmailForm()
    if form.validate_on_submit():
        selfservice.request_verification_email(get_session(), form.email.data)
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
    form = ActionForm()
    if request.method == "GET":
        return render_template("accounts/verify_new.html", form=form)
    if not form.validate_on_submit():
        abort(400)
    back = _safe_next(form.next.data) or url_for("accounts.new_verification_link")
    try:
        selfservice.resend_verification(get_session(), current_user)
    except PortalError as refused:
        get_session().rollback()
        flash(refused.message, "error")
        return redirect(back)
    commit()
    flash(f"We sent a new link to {current_user.email}. It works for 48 hours.", "success")
    return redirect(back)


def _link_problem(bad: selfservice.LinkInvalid, *, again_url: str | None, again_label=None):
    return (
        render_template(
            "accounts/link_problem.html",
            message=bad.message,
            again_url=again_url,
            again_label=again_label or "Ask for a new link",
        ),
        bad.status,
    )


# --- password reset ---------------------------------------------------------------------------


@bp.route("/reset", methods=["GET", "POST"])
def forgot_password():
    form = EmailForm()
    if form.validate_on_submit():
        selfservice.request_password_reset(get_session(), form.email.data)
        commit()
        return redirect(url_for("accounts.reset_sent"))
    status = 422 if form.errors else 200
    return render_template("accounts/forgot.html", form=form), status


@bp.get("/reset/sent")
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


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    db = get_session()
    again = url_for("accounts.forgot_password")
    try:
        user = selfservice.read_reset_link(db, token)
    except selfservice.LinkInvalid as bad:
        return _link_problem(bad, again_url=again)
    form = NewPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            selfservice.reset_password(db, token, form.password.data)
        except selfservice.LinkInvalid as bad:
            db.rollback()
            return _link_problem(bad, again_url=again)
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


# --- invitations ------------------------------------------------------------------------------


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    db = get_session()
    try:
        user = selfservice.read_invitation(db, token)
    except selfservice.LinkInvalid as bad:
        return _link_problem(
            bad, again_url=url_for("accounts.login"), again_label="Go to the log-in page"
        )
    form = AcceptInvitationForm()
    if request.method == "GET":
        form.time_zone.data = user.time_zone
    error = None
    if form.validate_on_submit():
        try:
            selfservice.accept_invitation(
                db, token, password=form.password.data, time_zone=form.time_zone.data
            )
        except selfservice.LinkInvalid as bad:
            db.rollback()
            return _link_problem(bad, again_url=url_for("accounts.login"))
        except PortalError as refused:
            db.rollback()
            error = put_on_form(form, refused)
        else:
            browser.log_in(user)
            commit()
            flash("Welcome! Your password is set and you are logged in.", "success")
            return redirect(url_for("index"))
    status = 422 if (form.errors or error) else 200
    account = user.contact.account if user.contact else None
    return render_template(
        "accounts/invite_accept.html", form=form, user=user, account=account, error=error
    ), status


@bp.route("/accounts/<int:account_id>/invite", methods=["GET", "POST"])
@role_required("scheduler")
def invite(account_id: int):
    """Staff: the account's contacts, and a form to invite one more by e-mail."""
    db = get_session()
    account = db.get(CustomerAccount, account_id) or abort(404)
    form = InviteForm()
    error = None
    if form.validate_on_submit():
        try:
            contact = selfservice.invite_contact(
                db,
                account,
                full_name=form.full_name.data,
                email=form.email.data,
                invited_by=current_user,
            )
        except PortalError as refused:
            db.rollback()
            error = put_on_form(form, refused)
        else:
            commit()
            flash(f"We sent an invitation to {contact.email}. It works for 7 days.", "success")
            return redirect(url_for("accounts.invite", account_id=account.id))
    contacts = db.scalars(
        sa.select(Contact).where(Contact.account_id == account.id).order_by(Contact.full_name)
    ).all()
    status = 422 if (form.errors or error) else 200
    return render_template(
        "accounts/invite_staff.html", account=account, contacts=contacts, form=form, error=error
    ), status


# --- profile ----------------------------------------------------------------------------------


def _profile_page(status: int = 200, **forms):
    user = current_user
    details = forms.get("details")
    if details is None:
        details = ProfileForm(formdata=None, obj=user)
        details.phone.data = user.contact.phone if user.contact else ""
    account = user.contact.account if user.contact else None
    return render_template(
        "accounts/profile.html",
        details=details,
        location_form=forms.get("location") or LocationForm(formdata=None),
        password_form=forms.get("password") or ChangePasswordForm(formdata=None),
        remove_form=ActionForm(formdata=None),
        account=account,
        locations=account.locations if account else [],
        location_error=forms.get("location_error"),
        details_error=forms.get("details_error"),
        password_error=forms.get("password_error"),
        **session_routes.sessions_panel(),
    ), status


@bp.get("/profile")
@login_required
def profile():
    return _profile_page()


@bp.post("/profile")
@login_required
def update_profile():
    form = ProfileForm()
    error = None
    if form.validate_on_submit():
        try:
            selfservice.update_profile(
                get_session(),
                current_user,
                full_name=form.full_name.data,
                phone=form.phone.data or "",
                time_zone=form.time_zone.data,
                email_notifications=form.email_notifications.data,
            )
        except PortalError as refused:
            get_session().rollback()
            error = put_on_form(form, refused)
        else:
            commit()
            flash("Your details are saved.", "success")
            return redirect(url_for("accounts.profile"))
    return _profile_page(422, details=form, details_error=error)


@bp.post("/profile/locations")
@customer_required
def add_location():
    form = LocationForm()
    error = None
    account = current_user.contact.account if current_user.contact else abort(403)
    if form.validate_on_submit():
        try:
            location = add_service_location(
                get_session(),
                account,
                label=form.label.data,
                street=form.street.data,
                city=form.city.data,
                postal_code=form.postal_code.data,
                country=form.country.data,
            )
        except PortalError as refused:
            get_session().rollback()
            error = put_on_form(form, refused)
        else:
            commit()
            flash(f"{location.label} is added to your addresses.", "success")
            return redirect(url_for("accounts.profile") + "#addresses-h")
    return _profile_page(422, location=form, location_error=error)


@bp.post("/profile/locations/<int:location_id>/remove")
@customer_required
def remove_location(location_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_session()
    location = db.get(ServiceLocation, location_id)
    if location is None or location.account_id != current_user.account_id:
        abort(404)
    try:
        selfservice.remove_service_location(db, location.account, location)
    except PortalError as refused:
        db.rollback()
        return _profile_page(refused.status, location_error=refused.message)
    commit()
    flash("The address is removed.", "success")
    return redirect(url_for("accounts.profile") + "#addresses-h")


@bp.post("/profile/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    error, status = None, 422
    if form.validate_on_submit():
        db = get_session()
        try:
            selfservice.change_password(
                db,
                current_user,
                current_password=form.current_password.data,
                new_password=form.password.data,
                remote_addr=request.remote_addr or "unknown",
                device=browser.device_for_user(current_user),
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
            )
        except PortalError as refused:
            # A wrong current password is kept: it is what the rate limit counts.
            if refused.field == "current_password":
                commit()
            else:
                db.rollback()
            error, status = put_on_form(form, refused), refused.status
        else:
            # Every session ended with the old password; this browser goes on in a new one.
            browser.renew_after_password_change(current_user._get_current_object())
            commit()
            flash(
                "Your password is changed. Other devices will need to log in again. "
                + REVOKED_NOTICE,
                "success",
            )
            return redirect(url_for("accounts.profile"))
    return _profile_page(status, password=form, password_error=error)
