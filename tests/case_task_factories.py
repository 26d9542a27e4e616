"""An aging case with its first task, its rep and the account's sales owner (#15)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy.orm as so

from portal.cases.services import open_case
from portal.cases.tasks import create_case_task
from portal.cases.types import AGING, AGING_ORIGIN, aging_queue
from portal.queues.models import QueueMember
from tests.case_factories import create_backoffice_user
from tests.factories import NOW, create_customer

DUE = NOW + timedelta(days=3)


def build_aging(session: so.Session) -> dict:
    """Teri (aging rep, in the Aging queue), Sam (sales, in no queue, owns the account),
    an aging case of the account owned by the Aging queue, and its first task, Teri's,
    due three days after NOW."""
    teri = create_backoffice_user(session, full_name="Teri Aging")
    sam = create_backoffice_user(session, full_name="Sam Sales")
    queue = aging_queue(session)
    session.add(QueueMember(queue_id=queue.id, user_id=teri.id))
    customer, account, contact = create_customer(session)
    account.owner_user_id = sam.id
    session.flush()
    case = open_case(
        session,
        account=account,
        contact=contact,
        subject="Aging confirmations",
        origin=AGING_ORIGIN,
        case_type=AGING,
        owner_queue=queue,
        by=None,
    )
    task = create_case_task(session, case, title="Call the contact", due_at=DUE, user=teri)
    return {
        "teri": teri,
        "sam": sam,
        "queue": queue,
        "case": case,
        "task": task,
        "customer": customer,
        "contact": contact,
        "account": account,
    }
