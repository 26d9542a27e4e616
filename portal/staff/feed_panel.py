"""What the customer page's "Confirmation feed" panel shows: the account's feed values,
its contacts' log-ins at the service, and, for managers, the forms that edit them."""

from __future__ import annotations

from flask_login import current_user

from portal.accounts.models import CustomerAccount
from portal.db import get_session
from portal.feed.accounts import owner_candidates
from portal.staff.feed_forms import AgingDaysForm, FeedDetailsForm


def can_edit_feed(user) -> bool:
    """Managers (and admins) edit the feed's values by hand; schedulers only read them."""
    return user.has_role("manager")


def details_form(account: CustomerAccount, formdata=None) -> FeedDetailsForm:
    form = FeedDetailsForm(formdata=formdata)
    if formdata is None:
        form.external_number.data = account.external_number or ""
        form.owner.data = str(account.owner_user_id or "")
    form.owner.choices = [("", "Nobody")] + [
        (str(u.id), f"{u.full_name} ({u.email})") for u in owner_candidates(get_session())
    ]
    return form


def aging_form(account: CustomerAccount, formdata=None) -> AgingDaysForm:
    form = AgingDaysForm(formdata=formdata)
    if formdata is None:
        days = account.oldest_aging_days
        form.days.data = "" if days is None else str(days)
    return form


def feed_panel(account: CustomerAccount, forms: dict | None = None) -> dict:
    """The panel's context: `feed_forms` is empty for those who may not edit."""
    bound = {}
    if can_edit_feed(current_user):
        bound = {"aging": aging_form(account), "details": details_form(account)}
        bound.update(forms or {})
    return {"feed_forms": bound, "feed_contacts": sorted(account.contacts, key=_latest_first)}


def _latest_first(contact) -> tuple:
    """The most recent log-in at the service first (the one the aging rule picks), then
    those who never logged in; ties by the lowest id, as the rule breaks them."""
    login = contact.last_external_login_at
    return (login is None, -login.timestamp() if login else 0, contact.id)
