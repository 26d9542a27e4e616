"""Contact choosers, by name: who an opened case is for.

Each takes many accounts at once (a feed opens thousands of cases in one transaction) and
answers {account id: contact id or None}; None means nobody fits, and the case opens
without a contact, flagged for a person to choose."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact

CHUNK = 5_000
Chooser = Callable[[so.Session, Iterable[int]], dict[int, int | None]]


def most_recent_external_login(
    session: so.Session, account_ids: Iterable[int]
) -> dict[int, int | None]:
    """The account's contact with the latest log-in at the confirmation service; a tie goes
    to the lowest contact id; nobody ever logged in: None."""
    ids = sorted(set(account_ids))
    chosen: dict[int, int | None] = dict.fromkeys(ids)
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            sa.select(Contact.account_id, Contact.id)
            .where(
                Contact.account_id.in_(ids[start : start + CHUNK]),
                Contact.last_external_login_at.is_not(None),
            )
            .order_by(Contact.account_id, Contact.last_external_login_at.desc(), Contact.id)
        )
        for account_id, contact_id in rows:
            if chosen[account_id] is None:
                chosen[account_id] = contact_id
    return chosen


CHOOSERS: dict[str, tuple[str, Chooser]] = {
    "most_recent_external_login": (
        "The contact who logged in to the confirmation service most recently",
        most_recent_external_login,
    ),
}
# The flag on a case opened without a contact (its timeline, the firing, the "why" panel).
NOBODY = "No contact has logged in to the confirmation service: choose who to reach"


def chooser(name: str) -> Chooser | None:
    found = CHOOSERS.get(name)
    return found[1] if found else None
