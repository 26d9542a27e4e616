"""The feed's part of the demo: the demo accounts get their numbers at the confirmation
service, the sales owner, contacts with external ids and log-ins there (a second contact
on two accounts, so "the most recent log-in" picks somebody), and a first feed of oldest
aging days on both sides of the threshold, applied through apply_changes like any feed,
so the rules fire for the demo as they would for a real one.

static/samples/account-feed.csv is the next day's feed for these accounts: uploaded after
the demo, it moves Harbour Lane Dental from 7 days to 2 (its aging case closes) and
Riverside Bakery from 3 to 6 (a case opens) and leaves the rest unchanged (a test keeps
the two in step). The log-ins are fixed instants, so the sample matches them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, CustomerAccount, User
from portal.accounts.services import add_contact
from portal.feed.changes import account_changes, apply_changes, contact_changes
from portal.feed.reading import CSV_COLUMNS
from portal.feed.watchers import Cause

SALES_EMAIL = "sales@demo.test"


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 5, day, hour, minute, tzinfo=UTC)


# account name (portal/demo.py), external number, oldest aging days,
# contacts: (e-mail, name for a contact the demo has not made yet, external id, last log-in)
DEMO_FEED = [
    (
        "Harbour Lane Dental",
        "CNF-10001",
        7,
        [
            ("customer@demo.test", "Chloe Martin", "C-20001", _at(27, 9, 30)),
            ("priya.shah@demo.test", "Priya Shah", "C-20002", _at(29, 14, 5)),
        ],
    ),
    (
        "Riverside Bakery",
        "CNF-10002",
        3,
        [
            ("oliver@demo.test", "Oliver Grant", "C-20003", _at(30, 7, 45)),
            ("mia.grant@demo.test", "Mia Grant", "C-20004", _at(18, 16, 20)),
        ],
    ),
    (
        "Hudson Legal LLP",
        "CNF-10003",
        12,
        [("grace@demo.test", "Grace Kim", "C-20005", _at(28, 13))],
    ),
    ("Brooklyn Makerspace", "CNF-10004", None, [("leo@demo.test", "Leo Rossi", "C-20006", None)]),
    ("Ana Silva", "CNF-10005", 0, [("ana@demo.test", "Ana Silva", "C-20007", _at(25, 19, 10))]),
]


def load_feed_demo(session: so.Session) -> int:
    """Give the demo accounts their feed (once: an account with a number is left as it
    is); the number of accounts it did."""
    owner_id = session.scalar(sa.select(User.id).where(User.email == SALES_EMAIL))
    days: dict[int, dict] = {}
    logins: dict[int, dict] = {}
    for name, number, oldest, contacts in DEMO_FEED:
        account = session.scalar(
            sa.select(CustomerAccount)
            .where(CustomerAccount.name == name)
            .order_by(CustomerAccount.id)
        )
        if account is None or account.external_number is not None:
            continue
        account.external_number = number
        account.owner_user_id = owner_id
        for email, full_name, external_id, login in contacts:
            contact = session.scalar(
                sa.select(Contact).where(Contact.account_id == account.id, Contact.email == email)
            ) or add_contact(session, account, full_name=full_name, email=email)
            contact.external_id = external_id
            logins[contact.id] = {"last_external_login_at": login}
        days[account.id] = {"oldest_aging_days": oldest}
    session.flush()
    changes = contact_changes(session, logins) + account_changes(session, days)
    apply_changes(session, changes, Cause("import", "Demo data: the first feed"))
    return len(days)


def sample_feed_rows(moves: dict[str, int | None]) -> list[list[str]]:
    """The demo feed as CSV rows (header first), with the days of the accounts in `moves`
    changed: how static/samples/account-feed.csv was written (and is checked)."""
    rows = [list(CSV_COLUMNS)]
    for _name, number, oldest, contacts in DEMO_FEED:
        oldest = moves.get(number, oldest)
        for email, full_name, external_id, login in contacts:
            rows.append(
                [
                    number,
                    "" if oldest is None else str(oldest),
                    external_id,
                    full_name,
                    email,
                    "" if login is None else login.strftime("%Y-%m-%dT%H:%M:%SZ"),
                ]
            )
    return rows


# What the sample moves: across the threshold both ways.
SAMPLE_MOVES = {"CNF-10001": 2, "CNF-10002": 6}
