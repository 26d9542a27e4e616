"""Invitations: staff invite a person at a customer account; the invitee follows the
link to choose a first password."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts import browser, invitations
from portal.accounts.forms import AcceptInvitationForm, InviteForm, typed
from portal.accounts.links import LinkInvalid
from portal.accounts.models import Contact, CustomerAccount
from portal.accounts.routes.common import link_problem, save
from portal.db import commit, get_session
from portal.errors import PortalError, put_on_form


def accept_invitation(token: str):
    db = get_session()
    try:
        user = invitations.read_invitation(db, token)
    except LinkInvalid as bad:
        return link_problem(
            bad, again_url=url_for("accounts.login"), again_label="Go to the log-in page"
        )
    form = AcceptInvitationForm()
    if request.method == "GET":
        form.time_zone.data = user.time_zone
    error = None
    if form.validate_on_submit():
        try:
            invitations.accept_invitation(
                db, token, password=form.password.data, time_zone=form.time_zone.data
            )
        except LinkInvalid as bad:
            db.rollback()
            return link_problem(bad, again_url=url_for("accounts.login"))
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


def invite(account_id: int):
    """Staff: the account's contacts, and a form to invite one more by e-mail."""
    db = get_session()
    account = db.get(CustomerAccount, account_id) or abort(404)
    form = InviteForm()
    error = None
    if form.validate_on_submit():
        fields = typed(form, "full_name", "email")
        saved = save(
            form, lambda: invitations.invite_contact(db, account, invited_by=current_user, **fields)
        )
        if saved.done:
            flash(f"We sent an invitation to {saved.result.email}. It works for 7 days.", "success")
            return redirect(url_for("accounts.invite", account_id=account.id))
        error = saved.error
    contacts = db.scalars(
        sa.select(Contact).where(Contact.account_id == account.id).order_by(Contact.full_name)
    ).all()
    status = 422 if (form.errors or error) else 200
    return render_template(
        "accounts/invite_staff.html", account=account, contacts=contacts, form=form, error=error
    ), status
