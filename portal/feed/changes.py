"""The one path by which fed values change, fed or edited by hand: write the values,
derive the flags (portal/feed/derived.py), and tell the watchers (the rules) of every
record that changed, in the caller's transaction. Bulk: a feed of 50,000 accounts is one
SELECT and one batch of UPDATEs per chunk."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, CustomerAccount
from portal.db import among, update_many
from portal.feed.derived import derive_account
from portal.feed.watchers import Cause, RecordChange, records_changed
from portal.timeutil import now_utc

ACCOUNT_FIELDS = ("oldest_aging_days",)
CONTACT_FIELDS = ("last_external_login_at",)
CHUNK = 5_000


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def account_changes(
    session: so.Session, values: Mapping[int, Mapping[str, object]]
) -> list[RecordChange]:
    """What writing `values` ({account id: {field: value}}) would change, derived flags
    included, without writing anything (the dry run's diff)."""
    changes: list[RecordChange] = []
    ids = sorted(values)
    for chunk in _chunks(ids):
        rows = session.execute(
            sa.select(
                CustomerAccount.id,
                CustomerAccount.oldest_aging_days,
                CustomerAccount.has_aging_confirmations,
            ).where(among(session, CustomerAccount.id, chunk))
        ).all()
        for account_id, days, flag in rows:
            before = {"oldest_aging_days": days, "has_aging_confirmations": bool(flag)}
            after_fed = {**before, **{k: v for k, v in values[account_id].items()}}
            after = {**after_fed, **derive_account(after_fed)}
            if after != before:
                changes.append(RecordChange("account", account_id, before, after))
    return changes


def contact_changes(
    session: so.Session,
    values: Mapping[int, Mapping[str, object]],
    *,
    stored: Mapping[int, object] | None = None,
) -> list[RecordChange]:
    """As account_changes, for contacts ({contact id: {"last_external_login_at": ...}}).
    `stored` ({contact id: last_external_login_at}) is what the caller read already in
    this transaction (the feed finds its contacts by external id): no second query."""
    changes: list[RecordChange] = []
    if stored is None:
        stored = {}
        for chunk in _chunks(sorted(values)):
            stored.update(
                session.execute(
                    sa.select(Contact.id, Contact.last_external_login_at).where(
                        among(session, Contact.id, chunk)
                    )
                ).all()
            )
    for contact_id in sorted(values):
        if contact_id not in stored:
            continue
        before = {"last_external_login_at": stored[contact_id]}
        after = {**before, **values[contact_id]}
        if after != before:
            changes.append(RecordChange("contact", contact_id, before, after))
    return changes


def apply_changes(
    session: so.Session, changes: list[RecordChange], cause: Cause, *, at: datetime | None = None
) -> list[RecordChange]:
    """Write `changes` (from account_changes / contact_changes, or records just created
    with `created=True`), then tell the watchers. Returns `changes`."""
    at = at or now_utc()
    accounts = [
        {"id": c.record_id, **dict(c.after), "aging_updated_at": at}
        for c in changes
        if c.record_type == "account" and not c.created
    ]
    contacts = [
        {"id": c.record_id, **dict(c.after)}
        for c in changes
        if c.record_type == "contact" and not c.created
    ]
    update_many(session, CustomerAccount.__table__, accounts)
    update_many(session, Contact.__table__, contacts)
    session.expire_all()  # ORM objects loaded before see the new values
    records_changed(session, changes, cause)
    return changes


def set_oldest_aging_days(
    session: so.Session, account: CustomerAccount, days: int | None, cause: Cause
) -> RecordChange | None:
    """A hand edit on the account page: the same path, and so the same rules, as the feed."""
    changes = account_changes(session, {account.id: {"oldest_aging_days": days}})
    apply_changes(session, changes, cause)
    return changes[0] if changes else None
