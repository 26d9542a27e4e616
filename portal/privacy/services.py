"""A customer's download of its data, and its anonymisation by an admin.

The anonymisation keeps the history (work orders, appointments, their statuses, the
timeline) and removes the person from it: each registered system's hook runs (see
registry.py), then a sweep over every table's text, JSON and binary columns replaces
what still names the person, and stored files under the instance folder that mention
it are deleted. It runs in the caller's transaction, with its audit entry.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, User
from portal.audit.services import Entity, record_change
from portal.booking.models import SignOff
from portal.db import Base
from portal.errors import Invalid, NotAllowed, NotFound
from portal.privacy import (
    case_data,  # noqa: F401  (registers cases)
    order_data,  # noqa: F401  (registers orders)
    providers,  # noqa: F401  (registers the built-in systems)
)
from portal.privacy.registry import KEEP_AS_IS, Subject, systems
from portal.timeutil import now_utc

EXPORT_VERSION = 1
MIN_NEEDLE = 3
MAX_REASON = 500
# Files the sweep never opens: the database itself (its rows are swept by SQL) and keys.
SKIPPED_FILES = re.compile(r"(\.db|\.db-wal|\.db-shm|\.sqlite3?|secret_key)$")


def placeholder_name(user: User) -> str:
    return f"Anonymised customer #{user.id}"


def placeholder_email(user: User) -> str:
    # .invalid is reserved (RFC 2606): no mail can ever be delivered there.
    return f"anonymised-{user.id}@anonymised.invalid"


def _subject(session: so.Session, user: User, instance_path: Path) -> Subject:
    contacts = list(
        session.scalars(
            sa.select(Contact)
            .where(sa.or_(Contact.user_id == user.id, Contact.email == user.email))
            .order_by(Contact.id)
        )
    )
    own = next((c for c in contacts if c.user_id == user.id), None)
    account = own.account if own is not None else (contacts[0].account if contacts else None)
    typed = session.scalars(sa.select(SignOff.full_name).where(SignOff.user_id == user.id))
    texts = {user.full_name, user.email, *typed}
    for contact in contacts:
        texts.update((contact.full_name, contact.email, contact.phone))
    needles = sorted({t.strip().lower() for t in texts if len(t.strip()) >= MIN_NEEDLE}, key=len)
    return Subject(
        user=user,
        contacts=contacts,
        account=account,
        now=now_utc(),
        instance_path=instance_path,
        needles=needles[::-1],  # longest first, so a full name goes before a part of it
        emails=sorted({user.email, *(c.email for c in contacts)}),
        placeholder_name=placeholder_name(user),
        placeholder_email=placeholder_email(user),
    )


def _customer(user: User | None) -> User:
    if user is None or user.is_staff:
        raise NotFound("There is no such customer.")
    return user


# --- the download ----------------------------------------------------------------------------


def export_customer_data(session: so.Session, user: User, instance_path: Path) -> dict[str, Any]:
    """Everything the portal keeps about this customer, as JSON-ready data."""
    subject = _subject(session, _customer(user), instance_path)
    data: dict[str, Any] = {"format": EXPORT_VERSION, "exported_at": subject.now.isoformat()}
    for system in systems():
        if system.export is not None:
            part = system.export(session, subject)
            if part is not None:
                data.update(part)
    return data


# --- anonymisation ---------------------------------------------------------------------------


def anonymise_customer(
    session: so.Session, admin: User, user: User, *, reason: str, instance_path: Path
) -> User:
    """Remove the person from everything the portal keeps, keeping the history."""
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can anonymise a customer.")
    user = _customer(user)
    if user.full_name == placeholder_name(user):
        raise Invalid("This customer is anonymised already.")
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid("Say why: whose request, and when it came.", field="reason")
    if len(reason) > MAX_REASON:
        raise Invalid(f"Use at most {MAX_REASON} characters.", field="reason")
    subject = _subject(session, user, instance_path)
    for system in systems():
        if system.anonymise is not None:
            system.anonymise(session, subject)
    session.flush()
    scrub_tables(session, subject)
    scrub_files(subject)
    # The reason is kept for ever: anything in it that names the person goes first.
    record_change(
        session,
        admin,
        "anonymise",
        Entity("user", user.id, placeholder_name(user)),
        None,
        None,
        note=_replace(reason, subject),
    )
    return user


def _pattern(subject: Subject) -> re.Pattern:
    variants: set[str] = set()
    for needle in subject.needles:
        variants.add(needle)
        variants.add(json.dumps(needle)[1:-1])  # as a JSON payload spells it
    ordered = sorted(variants, key=len, reverse=True)
    # Whole mentions only: "ann@example.com" is not a part of "joann@example.com".
    alternatives = "|".join(re.escape(v) for v in ordered)
    return re.compile(rf"(?<![\w.+-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


def _replace(text: str, subject: Subject) -> str:
    emails = {e.lower() for e in subject.emails}

    def swap(match: re.Match) -> str:
        found = match.group(0).lower()
        return subject.placeholder_email if found in emails else subject.placeholder_name

    return _pattern(subject).sub(swap, text)


def _text_columns(table: sa.Table):
    for column in table.columns:
        kind = column.type
        if isinstance(kind, sa.JSON):
            yield column, "json"
        elif isinstance(kind, sa.LargeBinary):
            yield column, "binary"
        elif isinstance(kind, sa.String):  # Text is a String too
            yield column, "text"


def scrub_tables(session: so.Session, subject: Subject) -> int:
    """Replace every remaining mention of the person in every table; a mention in a
    primary key (a rate-limit bucket) deletes the row. Returns the values changed."""
    changed = 0
    for table in Base.metadata.sorted_tables:
        if table.name in KEEP_AS_IS:
            continue
        key = list(table.primary_key.columns)
        for column, kind in _text_columns(table):
            changed += _scrub_column(session, subject, table, key, column, kind)
    session.flush()
    return changed


def _scrub_column(session, subject: Subject, table, key, column, kind: str) -> int:
    if kind == "binary":
        candidates = session.execute(sa.select(*key, column).where(column.is_not(None))).all()
    else:
        text = sa.func.lower(sa.cast(column, sa.Text))
        found = sa.or_(*(text.contains(n, autoescape=True) for n in _like_needles(subject)))
        candidates = session.execute(sa.select(*key, column).where(found)).all()
    changed = 0
    for row in candidates:
        where = sa.and_(*(k == row[i] for i, k in enumerate(key)))
        value = row[-1]
        if kind == "binary":
            if not any(n.encode() in bytes(value).lower() for n in subject.needles):
                continue
            new = None if column.nullable else b""
        elif kind == "json":
            new = json.loads(_replace(json.dumps(value), subject))
        else:
            new = _replace(value, subject)
            if getattr(column.type, "length", None):
                new = new[: column.type.length]
        if new == value:
            continue
        if column in key:
            session.execute(sa.delete(table).where(where))
        else:
            session.execute(sa.update(table).where(where).values({column.name: new}))
        changed += 1
    return changed


def _like_needles(subject: Subject) -> list[str]:
    return sorted({v for n in subject.needles for v in (n, json.dumps(n)[1:-1].lower())})


def scrub_files(subject: Subject) -> list[Path]:
    """Delete stored files under the instance folder that mention the person."""
    removed: list[Path] = []
    root = subject.instance_path
    if not root.is_dir():
        return removed
    needles = [n.encode() for n in subject.needles]
    for path in sorted(root.rglob("*")):
        if not path.is_file() or SKIPPED_FILES.search(path.name):
            continue
        content = path.read_bytes().lower()
        if any(n in content for n in needles):
            path.unlink()
            removed.append(path)
    return removed
