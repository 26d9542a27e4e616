"""Factories for cases and back-office queues (the case services make the cases)."""

from __future__ import annotations

import itertools

import sqlalchemy.orm as so

from portal.accounts.models import Contact, User
from portal.cases.models import Case
from portal.cases.services import open_case
from portal.queues.models import Queue, QueueMember
from tests.factories import create_user

_numbers = itertools.count(1)


def create_queue(
    session: so.Session,
    *,
    members: list[User] = (),
    lead: User | None = None,
    **overrides,
) -> Queue:
    """A queue (a unique slug and name) with these members and lead."""
    n = next(_numbers)
    queue = Queue(**{"slug": f"queue-{n}", "name": f"Queue {n}", **overrides})
    queue.lead = lead
    session.add(queue)
    session.flush()
    for user in members:
        session.add(QueueMember(queue_id=queue.id, user_id=user.id))
    session.flush()
    return queue


def create_backoffice_user(session: so.Session, **overrides) -> User:
    return create_user(session, **{"role": "backoffice", **overrides})


def create_case(
    session: so.Session, contact: Contact, *, by: User | None = None, **overrides
) -> Case:
    """A support case of the contact's account, opened through the service."""
    values = {
        "subject": f"Case {next(_numbers)}",
        "description": "The boiler makes a noise.",
        "origin": "Portal",
        "priority": "medium",
        **overrides,
    }
    return open_case(
        session, account=contact.account, contact=contact, by=by or contact.user, **values
    )
