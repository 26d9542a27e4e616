"""The customer page's "Confirmation feed" panel: managers edit oldest aging days (the
same path as the feed, so the same rules fire), the external number and the owner."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.access import role_required
from portal.accounts.models import CustomerAccount
from portal.db import commit, get_session, rollback_request_session
from portal.errors import PortalError, put_on_form
from portal.feed.accounts import edit_oldest_aging_days, set_feed_details
from portal.ids import parse_id
from portal.rules.models import Rule, RuleFiring
from portal.staff.feed_panel import aging_form, details_form
from portal.staff.routes.console import customer_page


def _account(account_id: int) -> CustomerAccount:
    return get_session().get(CustomerAccount, account_id) or abort(404)


def _back(account: CustomerAccount):
    return redirect(url_for("staff.customer", account_id=account.id, _anchor="feed"))


def _refused(account_id: int, name: str, form, err: PortalError):
    rollback_request_session()
    error = put_on_form(form, err)
    return customer_page(
        _account(account_id), feed_forms={name: form}, error=error, status=err.status
    )


@role_required("manager")
def edit_aging(account_id: int):
    account = _account(account_id)
    form = aging_form(account, formdata=request.form)
    if not form.validate_on_submit():
        return customer_page(account, feed_forms={"aging": form}, status=422)
    last_firing = _last_firing_id()
    try:
        change = edit_oldest_aging_days(get_session(), account, form.days.data, by=current_user)
    except PortalError as err:
        return _refused(account_id, "aging", form, err)
    said = _what_the_rules_did(account.id, last_firing)
    commit()
    if change is None:
        flash("Oldest aging days unchanged.", "info")
    else:
        flash(f"Oldest aging days saved.{said}", "success")
    return _back(account)


@role_required("manager")
def edit_details(account_id: int):
    account = _account(account_id)
    form = details_form(account, formdata=request.form)
    if not form.validate_on_submit():
        return customer_page(account, feed_forms={"details": form}, status=422)
    try:
        set_feed_details(
            get_session(),
            account,
            external_number=form.external_number.data or "",
            owner_id=parse_id(form.owner.data) if form.owner.data else None,
            by=current_user,
        )
    except PortalError as err:
        return _refused(account_id, "details", form, err)
    commit()
    flash("Feed details saved.", "success")
    return _back(account)


def _last_firing_id() -> int:
    return get_session().scalar(sa.select(sa.func.max(RuleFiring.id))) or 0


def _what_the_rules_did(account_id: int, after_id: int) -> str:
    """ " The rules: …" for the firings this edit caused (the rules log them in the same
    transaction), or nothing."""
    firings = get_session().execute(
        sa.select(Rule.name, RuleFiring.outcome)
        .join(Rule, Rule.id == RuleFiring.rule_id)
        .where(
            RuleFiring.id > after_id,
            RuleFiring.record_type == "account",
            RuleFiring.record_id == account_id,
        )
        .order_by(RuleFiring.id)
    )
    parts = []
    for name, outcome in firings:
        texts = [step.get("text", "") for step in outcome or [] if isinstance(step, dict)]
        parts.append(f"{name}: {'; '.join(t for t in texts if t) or 'fired'}")
    return f" The rules: {' · '.join(parts)}." if parts else ""


def register(bp: Blueprint) -> None:
    bp.add_url_rule(
        "/customers/<int:account_id>/feed/aging", view_func=edit_aging, methods=["POST"]
    )
    bp.add_url_rule(
        "/customers/<int:account_id>/feed/details", view_func=edit_details, methods=["POST"]
    )
