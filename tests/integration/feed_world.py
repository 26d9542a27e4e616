"""Set-up the feed's tests share: accounts and contacts with external numbers, a feed file
run through the kind as the import framework runs it, and a watcher that records calls."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy.orm as so

from portal.accounts.models import Contact, CustomerAccount, User
from portal.accounts.services import add_contact
from portal.feed import watchers
from portal.feed.kind import ACCOUNT_FEED
from portal.imports.kinds import KindResult
from portal.imports.models import Import
from tests.factories import create_account

HEADER = "account_number,oldest_aging_days,contact_id,contact_name,contact_email,last_login_at"


def feed_account(
    session: so.Session, number: str, *, days: int | None = None, **overrides
) -> CustomerAccount:
    account = create_account(session, name=f"Account {number}", **overrides)
    account.external_number = number
    account.oldest_aging_days = days
    account.has_aging_confirmations = days is not None and days > 4
    session.flush()
    return account


def feed_contact(
    session: so.Session, account: CustomerAccount, external_id: str, *, login=None, name=None
) -> Contact:
    contact = add_contact(
        session,
        account,
        full_name=name or f"Contact {external_id}",
        email=f"{external_id.lower()}@example.com",
    )
    contact.external_id = external_id
    contact.last_external_login_at = login
    session.flush()
    return contact


def csv_file(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def run_feed(
    session: so.Session,
    folder: Path,
    content: str | bytes,
    *,
    apply: bool = False,
    by: User | None = None,
    name: str = "feed.csv",
) -> KindResult:
    """Run the account feed's kind over `content`, with an Import row made for it."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    path = folder / name
    path.write_bytes(data)
    imp = Import(
        kind="account_feed",
        source="upload",
        filename=name,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        stored_path=name,
        created_by_id=by.id if by else None,
    )
    session.add(imp)
    session.flush()
    return ACCOUNT_FEED.run(session, path, imp, apply=apply, by=by)


@dataclass
class Heard:
    """What the watchers were told: one entry per call, (changes, cause)."""

    calls: list = field(default_factory=list)

    def __call__(self, session, changes, cause) -> None:
        self.calls.append((list(changes), cause))

    def changes(self) -> list:
        return [change for changes, _cause in self.calls for change in changes]


def listen(monkeypatch: pytest.MonkeyPatch) -> Heard:
    """A recorder, the only watcher while the test runs (the app's own are set aside)."""
    recorder = Heard()
    monkeypatch.setattr(watchers, "_watchers", [recorder])
    return recorder
