"""The account's feed details edited by hand on the staff customer page: its number at
the confirmation service and its sales owner, and oldest aging days (which goes the same
path as the feed, so it fires the same rules)."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import TEAM_ROLES, CustomerAccount, User
from portal.audit.services import record_change, snapshot
from portal.errors import Conflict, Invalid
from portal.feed.changes import set_oldest_aging_days
from portal.feed.values import parse_days
from portal.feed.watchers import Cause, RecordChange, records_changed

MAX_NUMBER = 40  # CustomerAccount.external_number


def hand_edit(by: User) -> Cause:
    return Cause("hand_edit", f"Edited by {by.full_name}", actor_id=by.id)


def edit_oldest_aging_days(
    session: so.Session, account: CustomerAccount, raw: str, *, by: User
) -> RecordChange | None:
    """Set oldest aging days from what a person typed (empty: unknown); the rules the
    feed fires fire here too. None when nothing changed."""
    try:
        days = parse_days((raw or "").strip())
    except ValueError:
        raise Invalid(
            "Enter a whole number of days, 0 or more (or leave it empty: unknown).", field="days"
        ) from None
    return set_oldest_aging_days(session, account, days, hand_edit(by))


def owner_candidates(session: so.Session) -> list[User]:
    """Who may own an account: active team users (sales are back office), by name."""
    return list(
        session.scalars(
            sa.select(User)
            .where(User.active, User.role.in_(sorted(TEAM_ROLES)))
            .order_by(User.full_name, User.id)
        )
    )


def set_feed_details(
    session: so.Session,
    account: CustomerAccount,
    *,
    external_number: str,
    owner_id: int | None,
    by: User,
) -> None:
    """Set the account's external number (unique; empty: not in the feed) and its owner
    (an active team user, or nobody). A new owner is told to the watchers."""
    number = " ".join((external_number or "").split()) or None
    if number is not None and len(number) > MAX_NUMBER:
        raise Invalid(f"At most {MAX_NUMBER} characters.", field="external_number")
    if number is not None:
        holder = session.scalar(
            sa.select(CustomerAccount.name).where(
                CustomerAccount.external_number == number, CustomerAccount.id != account.id
            )
        )
        if holder is not None:
            raise Conflict(f"{number} is already the number of {holder}.", field="external_number")
    if owner_id is not None:
        owner = session.get(User, owner_id)
        if owner is None or not owner.active or not owner.is_team:
            raise Invalid("The owner must be an active member of the team.", field="owner")
    before = account.owner_user_id
    audited = snapshot(account, "external_number", "owner_user_id")
    account.external_number = number
    account.owner_user_id = owner_id
    try:
        with session.begin_nested():  # another person may take the number at this instant
            session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(
            f"{number} was just given to another account.", field="external_number"
        ) from None
    record_change(
        session,
        by,
        "account.feed_details",
        account,
        audited,
        snapshot(account, "external_number", "owner_user_id"),
    )
    if before != owner_id:
        change = RecordChange(
            "account", account.id, {"owner_user_id": before}, {"owner_user_id": owner_id}
        )
        records_changed(session, [change], hand_edit(by))
