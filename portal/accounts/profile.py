"""The profile: a person's own details, and removing an address nobody uses any more.

Whether an address is still used is asked of the floors above (appointments, work
orders) through portal/accounts/watchers.py: accounts keeps no such records itself.
"""

from __future__ import annotations

import sqlalchemy.orm as so

from portal.accounts import watchers
from portal.accounts.fields import check_zone, clean_name, clean_phone
from portal.accounts.models import CustomerAccount, ServiceLocation, User
from portal.errors import Conflict, NotAllowed


def update_profile(
    session: so.Session,
    user: User,
    *,
    full_name: str,
    phone: str,
    time_zone: str,
    email_notifications: bool,
) -> User:
    """Save the person's name, phone, time zone and e-mail choice (contact included)."""
    full_name = clean_name(full_name)
    phone = clean_phone(phone)
    check_zone(time_zone)
    user.full_name = full_name
    user.time_zone = time_zone
    user.email_notifications = email_notifications
    contact = user.contact
    if contact is not None:
        contact.full_name = full_name
        contact.phone = phone
        account = contact.account
        # A consumer account is named after its person (see portal/accounts/signup.py).
        if account.kind == "consumer" and len(account.contacts) == 1:
            account.name = full_name
    session.flush()
    return user


def location_in_use(session: so.Session, location: ServiceLocation) -> str | None:
    """Why the address cannot be removed, or None when it can."""
    use = watchers.location_use(session, location)
    if use.unfinished:
        return (
            f"{location.label} has an appointment that is not finished yet, so it stays. "
            "Cancel or finish that appointment first."
        )
    if use.total:
        # Past appointments keep pointing at the address they happened at.
        return f"{location.label} is on the record of past appointments, so it stays."
    return None


def remove_service_location(
    session: so.Session, account: CustomerAccount, location: ServiceLocation
) -> None:
    """Delete an address of the account that no appointment or work order uses."""
    if location.account_id != account.id:
        raise NotAllowed("That address belongs to another account.")
    reason = location_in_use(session, location)
    if reason is not None:
        raise Conflict(reason)
    session.delete(location)
    session.flush()
