"""The "API tokens" page of every logged-in user's profile: make a token (after typing
the current password; its secret is shown once, on the answer to the form, and the user
is e-mailed), see the ones that work, revoke one.

A blueprint of its own: unlike the API, these are ordinary pages with the session
cookie, so they keep CSRF protection.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from portal.accounts.browser import device_for_user
from portal.api.registry import ID
from portal.api.tokens import MAX_NAME, create_own_token, list_tokens, revoke_token
from portal.db import commit, get_session
from portal.errors import PortalError
from portal.timeutil import now_utc

bp = Blueprint("api_tokens", __name__)

EXPIRY_CHOICES = [
    SelectChoice("30", "In 30 days"),
    SelectChoice("90", "In 90 days"),
    SelectChoice("365", "In a year"),
    SelectChoice("never", "Never"),
]


class TokenForm(FlaskForm):
    name = StringField(
        "Token name",
        validators=[
            DataRequired(message="Give the token a name."),
            Length(max=MAX_NAME, message=f"Use at most {MAX_NAME} characters."),
        ],
    )
    expires = SelectField("Expires", choices=EXPIRY_CHOICES, default="90")
    # As the profile's change-password form: a borrowed session cannot make a token alone.
    current_password = PasswordField(
        "Your current password",
        validators=[
            DataRequired(message="Enter your current password."),
            Length(max=200, message="Use at most 200 characters."),
        ],
    )


class RevokeForm(FlaskForm):
    """A button that only needs the CSRF token."""


def _page(form: TokenForm | None = None, *, secret: str | None = None, status: int = 200):
    return render_template(
        "accounts/tokens.html",
        form=form or TokenForm(formdata=None),
        revoke_form=RevokeForm(formdata=None),
        tokens=list_tokens(get_session(), current_user),
        secret=secret,
    ), status


@bp.get("/profile/tokens")
@login_required
def tokens():
    return _page()


@bp.post("/profile/tokens")
@login_required
def create():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    days = None if form.expires.data == "never" else int(form.expires.data)
    session = get_session()
    try:
        _, secret = create_own_token(
            session,
            current_user,
            form.name.data,
            current_password=form.current_password.data,
            remote_addr=request.remote_addr or "unknown",
            device=device_for_user(current_user),
            expires_at=now_utc() + timedelta(days=days) if days else None,
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
        )
    except PortalError as err:
        # A wrong current password is kept: it is what the lock counts.
        if err.field == "current_password":
            commit()
        else:
            session.rollback()
        about_password = err.field == "current_password" or err.status == 429
        field = form.current_password if about_password else form.name
        field.errors = [*field.errors, err.message]
        return _page(form, status=err.status)
    commit()
    # Shown on this answer only (never stored, never put in a flash message or a URL).
    return _page(secret=secret, status=201)


@bp.post(f"/profile/tokens/<{ID}:token_id>/revoke")
@login_required
def revoke(token_id: int):
    if not RevokeForm().validate_on_submit():
        abort(400)
    try:
        token = revoke_token(get_session(), current_user, token_id)
    except PortalError:
        abort(404)
    commit()
    flash(f"The token “{token.name}” is revoked: it no longer works.", "success")
    return redirect(url_for("api_tokens.tokens"))
