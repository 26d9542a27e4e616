"""The profile page and what it changes: the person's details, their addresses and their
password. (Its sessions section: live_sessions.py.)"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.accounts import browser, credentials, watchers
from portal.accounts import profile as profiles
from portal.accounts.forms import ActionForm, ChangePasswordForm, LocationForm, ProfileForm
from portal.accounts.models import ServiceLocation
from portal.accounts.routes.common import REVOKED_NOTICE, checked_button, save
from portal.accounts.routes.live_sessions import sessions_panel
from portal.accounts.services import add_service_location
from portal.db import commit, get_session
from portal.errors import PortalError, put_on_form


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
        profile_sections=watchers.profile_sections(),
        **sessions_panel(),
    ), status


def profile():
    return _profile_page()


def update_profile():
    form = ProfileForm()
    error = None
    if form.validate_on_submit():
        saved = save(
            form, lambda: profiles.update_profile(get_session(), current_user, **form.details())
        )
        if saved.done:
            flash("Your details are saved.", "success")
            return redirect(url_for("accounts.profile"))
        error = saved.error
    return _profile_page(422, details=form, details_error=error)


def add_location():
    form = LocationForm()
    error = None
    account = current_user.contact.account if current_user.contact else abort(403)
    if form.validate_on_submit():
        saved = save(form, lambda: add_service_location(get_session(), account, **form.address()))
        if saved.done:
            flash(f"{saved.result.label} is added to your addresses.", "success")
            return redirect(url_for("accounts.profile") + "#addresses-h")
        error = saved.error
    return _profile_page(422, location=form, location_error=error)


def remove_location(location_id: int):
    checked_button()
    db = get_session()
    location = db.get(ServiceLocation, location_id)
    if location is None or location.account_id != current_user.account_id:
        abort(404)
    try:
        profiles.remove_service_location(db, location.account, location)
    except PortalError as refused:
        db.rollback()
        return _profile_page(refused.status, location_error=refused.message)
    commit()
    flash("The address is removed.", "success")
    return redirect(url_for("accounts.profile") + "#addresses-h")


def change_password():
    form = ChangePasswordForm()
    error, status = None, 422
    if form.validate_on_submit():
        db = get_session()
        try:
            credentials.change_password(
                db,
                current_user,
                current_password=form.current_password.data,
                new_password=form.password.data,
                attempt=browser.password_attempt(browser.device_for_user(current_user)),
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
