"""The account feed as an import kind: check every row, show what it would do, apply it.

Rows are checked in chunks (a few thousand at a time: one query for their accounts, one
for their contacts, then the diff by portal/feed/changes.py), so a feed of 50,000
accounts is a few dozen queries and never a query per row. An account's change is shown
on its first row; the rows that change nothing are counted, not stored. Applying (only
when no row has an error) creates the new contacts in one insert, then writes every
change through `apply_changes`, the one path the hand edit takes too, which derives the
flags and tells the rules. The same file again, or the same row again, is unchanged and
tells nobody.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so
from email_validator import EmailNotValidError, validate_email

from portal.accounts.models import Contact, CustomerAccount, User
from portal.accounts.services import normalise_email
from portal.db import among
from portal.feed.changes import account_changes, apply_changes, contact_changes
from portal.feed.reading import FeedRow, read_rows, sniff_format
from portal.feed.values import parse_days, parse_login
from portal.feed.watchers import Cause, RecordChange
from portal.imports.kinds import KindResult, RowOutcome, register_kind
from portal.imports.models import Import
from portal.timeutil import now_utc

CHUNK_ROWS = 5_000
MAX_CONTACT_ID = 60  # Contact.external_id
MAX_NAME = 120  # Contact.full_name
MAX_EMAIL = 254  # Contact.email


class RowError(Exception):
    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(slots=True)
class _Plan:
    """A row that passed its checks: what it would write."""

    row: FeedRow
    account_id: int
    first_of_account: bool
    contact_id: int | None = None  # an existing contact
    new_contact: dict | None = None  # a contact to create
    login: datetime | None = None


@dataclass
class _Check:
    """What the checks remember across chunks."""

    now: datetime
    account_ids: dict[str, int | None] = field(default_factory=dict)  # number -> id
    account_days: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    contact_lines: dict[str, int] = field(default_factory=dict)
    changes: list[RecordChange] = field(default_factory=list)
    new_contacts: list[dict] = field(default_factory=list)


def _days_text(days: object) -> str:
    return "unknown" if days is None else str(days)


def _login_text(moment: object) -> str:
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


# --- the kind -----------------------------------------------------------------------------------


class AccountFeed:
    kind = "account_feed"
    label = "Account feed"
    accept = (".csv", "text/csv", ".json", "application/json")
    # A file to try the upload with (under static/), the demo accounts' next feed.
    sample = "samples/account-feed.csv"
    help_text = (
        "The confirmation service's daily file: CSV with the columns account_number, "
        "oldest_aging_days, contact_id, contact_name, contact_email, last_login_at (one row "
        'per contact), or JSON {"accounts": [...]}. Empty days mean unknown; log-in times '
        "are ISO 8601 with an offset, like 2026-12-04T08:15:00Z. See the README, "
        '"The account feed".'
    )

    def run(
        self,
        session: so.Session,
        path: Path,
        imp: Import,
        *,
        apply: bool,
        by: User | None,
    ) -> KindResult:
        """Check every row of the feed at `path`; with `apply` and no error, write it."""
        result = KindResult()
        check = _Check(now=now_utc())
        with path.open("rb") as raw:
            result.meta["format"] = sniff_format(raw)
            for chunk in _chunks(read_rows(raw)):
                _check_chunk(session, chunk, check, result)
        if apply and result.error_count == 0:
            cause = Cause(
                "import",
                f"Feed import {imp.number}",
                import_id=imp.id,
                actor_id=by.id if by else None,
            )
            apply_changes(session, _created(session, check.new_contacts) + check.changes, cause)
        return result


def _chunks(rows: Iterator[FeedRow]) -> Iterator[list[FeedRow]]:
    chunk: list[FeedRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _check_chunk(session: so.Session, rows: list[FeedRow], check: _Check, result: KindResult):
    unknown = {r.account_number for r in rows if r.account_number not in check.account_ids}
    unknown.discard("")
    for number in unknown:
        check.account_ids[number] = None
    if unknown:
        found = session.execute(
            sa.select(CustomerAccount.external_number, CustomerAccount.id).where(
                among(session, CustomerAccount.external_number, unknown)
            )
        )
        check.account_ids.update(dict(found.all()))
    wanted = {r.contact_id for r in rows if r.contact_id}
    contacts = {}
    if wanted:
        contacts = {
            external_id: (contact_id, account_id, login)
            for external_id, contact_id, account_id, login in session.execute(
                sa.select(
                    Contact.external_id,
                    Contact.id,
                    Contact.account_id,
                    Contact.last_external_login_at,
                ).where(among(session, Contact.external_id, wanted))
            )
        }
    outcomes: list[RowOutcome | _Plan] = []
    for row in rows:
        try:
            outcomes.append(_check_row(row, check, contacts))
        except RowError as err:
            outcomes.append(_error(row, err.column, err.message))
    plans = [o for o in outcomes if isinstance(o, _Plan)]
    accounts = {
        p.account_id: {"oldest_aging_days": check.account_days[p.row.account_number][1]}
        for p in plans
        if p.first_of_account
    }
    logins = {p.contact_id: {"last_external_login_at": p.login} for p in plans if p.contact_id}
    by_account = {c.record_id: c for c in account_changes(session, accounts)}
    stored = {known[0]: known[2] for known in contacts.values()}
    by_contact = {c.record_id: c for c in contact_changes(session, logins, stored=stored)}
    check.changes.extend(by_contact.values())
    check.changes.extend(by_account.values())
    for outcome in outcomes:
        if isinstance(outcome, _Plan):
            outcome = _describe(outcome, by_account, by_contact, check)
        result.add(outcome, keep=False)


def _error(row: FeedRow, column: str, message: str) -> RowOutcome:
    return RowOutcome(row.line, _key(row), "error", column=column, message=message)


def _key(row: FeedRow) -> str:
    if row.contact_id:
        return f"{row.account_number}/{row.contact_id}"[:120]
    return row.account_number[:120]


def _where(row: FeedRow, line: int) -> str:
    return f"{'item' if row.is_json else 'line'} {line}"


def _check_row(row: FeedRow, check: _Check, contacts: dict) -> _Plan:
    """The row's checks in the order a person would fix them; the first failing one wins."""
    if row.problem:
        raise RowError(*row.problem)
    number = row.account_number
    if not number:
        raise RowError(row.column("account_number"), "missing")
    account_id = check.account_ids.get(number)
    if account_id is None:
        raise RowError(row.column("account_number"), f"unknown account number: {number}")
    try:
        days = parse_days(row.days)
    except ValueError as err:
        raise RowError(row.column("oldest_aging_days"), str(err)) from None
    first = check.account_days.get(number)
    if first is None:
        check.account_days[number] = (row.line, days)
    elif first[1] != days:
        raise RowError(
            row.column("oldest_aging_days"),
            f"differs from {_where(row, first[0])} ({_days_text(first[1])})",
        )
    plan = _Plan(row, account_id, first_of_account=first is None)
    if not row.contact_id:
        if row.name or row.email or row.login not in (None, ""):
            raise RowError(row.column("contact_id"), "missing (the row has a contact)")
        return plan
    return _check_contact(row, plan, check, contacts)


def _check_contact(row: FeedRow, plan: _Plan, check: _Check, contacts: dict) -> _Plan:
    contact_id = row.contact_id
    if len(contact_id) > MAX_CONTACT_ID:
        raise RowError(row.column("contact_id"), f"longer than {MAX_CONTACT_ID} characters")
    earlier = check.contact_lines.get(contact_id)
    if earlier is not None:
        raise RowError(row.column("contact_id"), f"duplicate key: also on {_where(row, earlier)}")
    check.contact_lines[contact_id] = row.line
    try:
        plan.login = parse_login(row.login, check.now)
    except ValueError as err:
        raise RowError(row.column("last_login_at"), str(err)) from None
    known = contacts.get(contact_id)
    if known is not None:
        if known[1] != plan.account_id:
            raise RowError(row.column("contact_id"), f"belongs to another account: {contact_id}")
        plan.contact_id = known[0]
        return plan
    if not row.name:
        raise RowError(row.column("contact_name"), "a new contact needs a name")
    if len(row.name) > MAX_NAME:
        raise RowError(row.column("contact_name"), f"longer than {MAX_NAME} characters")
    if not row.email:
        raise RowError(row.column("contact_email"), "a new contact needs an e-mail address")
    try:
        if len(row.email) > MAX_EMAIL:
            raise EmailNotValidError("too long")
        validate_email(row.email, check_deliverability=False)
    except EmailNotValidError:
        raise RowError(row.column("contact_email"), f"not an e-mail address: {row.email}") from None
    plan.new_contact = {
        "account_id": plan.account_id,
        "external_id": contact_id,
        "full_name": row.name,
        "email": normalise_email(row.email),
        "last_external_login_at": plan.login,
    }
    check.new_contacts.append(plan.new_contact)
    return plan


def _describe(plan: _Plan, by_account: dict, by_contact: dict, check: _Check) -> RowOutcome:
    """The row's outcome: new (a contact to create), changed (and what), or unchanged."""
    said = []
    account = by_account.get(plan.account_id) if plan.first_of_account else None
    if account is not None:
        before = _days_text(account.before.get("oldest_aging_days"))
        after = _days_text(account.after.get("oldest_aging_days"))
        said.append(f"oldest aging days {before} → {after}")
    outcome = "changed" if said else "unchanged"
    if plan.new_contact is not None:
        outcome = "new"
        said.append(
            f"new contact {plan.row.name} <{plan.new_contact['email']}>, "
            f"last log-in {_login_text(plan.login)}"
        )
    elif plan.contact_id in by_contact:
        change = by_contact[plan.contact_id]
        outcome = "changed"
        said.append(
            f"last log-in {_login_text(change.before.get('last_external_login_at'))} → "
            f"{_login_text(change.after.get('last_external_login_at'))}"
        )
    return RowOutcome(plan.row.line, _key(plan.row), outcome, message="; ".join(said))


def _created(session: so.Session, rows: list[dict]) -> list[RecordChange]:
    """Insert the new contacts (one statement); their changes, marked created."""
    if not rows:
        return []
    ids = session.scalars(
        sa.insert(Contact).returning(Contact.id, sort_by_parameter_order=True), rows
    ).all()
    return [
        RecordChange(
            "contact",
            contact_id,
            {},
            {
                "account_id": row["account_id"],
                "last_external_login_at": row["last_external_login_at"],
            },
            created=True,
        )
        for contact_id, row in zip(ids, rows, strict=True)
    ]


ACCOUNT_FEED = register_kind(AccountFeed())
