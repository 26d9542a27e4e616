"""A small world for the rule tests: the aging queue with its lead (the aging rep), a
sales owner, and an account whose contacts have logged in to the confirmation service.
Values are fed through portal.feed.changes, as the feed and the account page do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, CustomerAccount, User
from portal.accounts.services import add_contact
from portal.cases.models import Case
from portal.cases.types import aging_queue
from portal.feed.changes import account_changes, apply_changes
from portal.feed.watchers import Cause
from portal.rules.builtin import ensure_builtin
from portal.rules.models import RuleFiring
from portal.workorders.models import WorkOrderTask
from tests.factories import NOW, create_account, create_user

FEED = Cause("import", "Feed import IMP-000012", import_id=None)


@dataclass
class AgingWorld:
    rep: User
    sales: User
    account: CustomerAccount
    recent: Contact  # logged in most recently
    older: Contact


def build_aging_world(session: so.Session) -> AgingWorld:
    rep = create_user(session, role="backoffice", email="aging@example.com", full_name="Teri Aging")
    sales = create_user(
        session, role="backoffice", email="sales@example.com", full_name="Sam Sales"
    )
    queue = aging_queue(session)
    queue.lead = rep
    account = create_account(session, name="Acme Audit")
    account.owner_user_id = sales.id
    older = add_contact(session, account, full_name="Olga Older", email="olga@acme.test")
    recent = add_contact(session, account, full_name="Rita Recent", email="rita@acme.test")
    older.last_external_login_at = NOW - timedelta(days=9)
    recent.last_external_login_at = NOW - timedelta(days=1)
    ensure_builtin(session)
    session.flush()
    return AgingWorld(rep, sales, account, recent, older)


def feed(session: so.Session, account: CustomerAccount, days: int | None, cause: Cause = FEED):
    """Feed `days` as the account's oldest aging, as the feed's import does."""
    changes = account_changes(session, {account.id: {"oldest_aging_days": days}})
    apply_changes(session, changes, cause)
    session.flush()
    return changes


def cases_of(session: so.Session, account: CustomerAccount) -> list[Case]:
    return list(
        session.scalars(sa.select(Case).where(Case.account_id == account.id).order_by(Case.id))
    )


def tasks_of(session: so.Session, case: Case) -> list[WorkOrderTask]:
    return list(
        session.scalars(
            sa.select(WorkOrderTask)
            .where(WorkOrderTask.case_id == case.id)
            .order_by(WorkOrderTask.id)
        )
    )


def firings(session: so.Session) -> list[RuleFiring]:
    return list(session.scalars(sa.select(RuleFiring).order_by(RuleFiring.id)))
