"""Cases: open, assign, change status or priority, close. Services flush, never commit.

Each change writes the case's timeline (subject the Case; "customer" entries are what
the customer sees in the portal) and is told through `portal.cases.events.emit`: the
case watchers (the SLA clocks) in this transaction, notices and e-mails after it.
Comments live in portal/cases/comments.py, the hand-off to the back office in
portal/cases/handoff.py, who may see which case in portal/cases/queries.py.
"""

from __future__ import annotations

import sqlalchemy.orm as so

from portal.accounts.models import Contact, CustomerAccount, User
from portal.cases import types as case_types
from portal.cases.events import emit
from portal.cases.models import PRIORITIES, Case
from portal.cases.tasks import complete_open_tasks
from portal.cases.types import (
    SUPPORT,
    closed_status,
    contact_centre_queue,
    origin_names,
    status_of,
)
from portal.errors import Conflict, Invalid, NotFound
from portal.queues.models import Queue
from portal.timeutil import now_utc
from portal.workorders.services import record

SUBJECT_MAX = 200
DESCRIPTION_MAX = 10_000
NOTE_MAX = 5_000


def open_case(
    session: so.Session,
    *,
    account: CustomerAccount,
    contact: Contact | None,
    subject: str,
    description: str = "",
    origin: str,
    priority: str = "medium",
    case_type: str = SUPPORT,
    owner_user: User | None = None,
    owner_queue: Queue | None = None,
    by: User | None,
) -> Case:
    """Open a case for `account` (owned by the contact centre's queue unless told)."""
    kind = case_types.case_type(session, case_type)
    subject = clean_text(subject, "subject", "a subject", SUBJECT_MAX)
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(
            f"The description is too long ({DESCRIPTION_MAX:,} characters at most).",
            field="description",
        )
    check_priority(priority)
    if origin not in origin_names(kind):
        names = ", ".join(origin_names(kind))
        raise Invalid(f"Choose where the case came from ({names}).", field="origin")
    if contact is not None and contact.account_id != account.id:
        raise Invalid("That contact is not a person at this account.", field="contact")
    if owner_user is not None and owner_queue is not None:
        raise Invalid("A case has one owner: a person or a queue, not both.", field="owner")
    if owner_user is not None:
        check_owner_user(owner_user)
    if owner_user is None and owner_queue is None:
        owner_queue = contact_centre_queue(session)
    at = now_utc()
    case = Case(
        case_type=kind,
        account=account,
        contact=contact,
        subject=subject,
        description=description,
        origin=origin,
        priority=priority,
        status=kind.initial_status,
        is_closed=False,
        owner_user=owner_user,
        owner_queue=owner_queue,
        created_by=by,
        created_at=at,
        updated_at=at,
    )
    session.add(case)
    session.flush()
    record(session, case, "created", actor=by, note=subject, visibility="customer")
    meaning = status_of(kind, case.status).meaning
    emit(
        session,
        case,
        "created",
        at=at,
        by=by,
        new=case.status,
        meaning=meaning,
        visibility="customer",
    )
    return case


# Where a case a customer opens itself comes from (the Support pages and the API alike).
CUSTOMER_ORIGIN = "Portal"


def open_customer_case(
    session: so.Session, user: User, *, subject: str, description: str, priority: str
) -> Case:
    """A customer asks for help: a case of its own account, for its own contact, from the
    Portal, owned by the contact centre."""
    contact = user.contact
    if contact is None:
        raise NotFound("Your log-in is not linked to a customer account.")
    return open_case(
        session,
        account=contact.account,
        contact=contact,
        subject=subject,
        description=description,
        origin=CUSTOMER_ORIGIN,
        priority=priority,
        by=user,
    )


def assign_case(
    session: so.Session,
    case: Case,
    *,
    user: User | None = None,
    queue: Queue | None = None,
    by: User | None,
    note: str = "",
) -> None:
    """Give the case to a person or a queue (nothing happens when it has that owner)."""
    if (user is None) == (queue is None):
        raise Invalid("Choose a person or a queue to own the case.", field="owner")
    if user is not None:
        check_owner_user(user)
    old, old_name = owner_key(case), owner_name(case)
    if user is not None:
        case.owner_user, case.owner_queue = user, None
    else:
        case.owner_user, case.owner_queue = None, queue
    case.owner_user_id = user.id if user is not None else None
    case.owner_queue_id = queue.id if queue is not None else None
    new = owner_key(case)
    if new == old:
        return
    record(
        session,
        case,
        "assigned",
        actor=by,
        field="owner",
        old=old_name,
        new=owner_name(case),
        note=note.strip(),
    )
    emit(session, case, "owner", at=now_utc(), by=by, old=old, new=new, note=note.strip())


def set_status(
    session: so.Session, case: Case, status_name: str, by: User | None, note: str = ""
) -> None:
    """Move the case to one of its type's statuses; a closed one closes it, leaving a
    closed one reopens it (nothing happens when it is there already)."""
    kind = case.case_type
    target = status_of(kind, status_name)
    note = clean_note(note)
    if target.name == case.status:
        return
    old = case.status
    was_closed = case.is_closed
    at = now_utc()
    case.status = target.name
    case.is_closed = target.meaning == "closed"
    if case.is_closed and not was_closed:
        case.closed_at, event = at, "closed"
    elif was_closed and not case.is_closed:
        case.closed_at, event = None, "reopened"
    else:
        event = "status"
    if case.is_closed and was_closed:
        case.closed_at = case.closed_at or at
    if case.is_closed:
        _complete_tasks_on_close(session, case, by, target.name)
    record(
        session,
        case,
        "status",
        actor=by,
        field="status",
        old=old,
        new=target.name,
        note=note,
        visibility="customer",
    )
    emit(
        session,
        case,
        event,
        at=at,
        by=by,
        old=old,
        new=target.name,
        meaning=target.meaning,
        note=note,
        visibility="customer",
    )


def set_priority(
    session: so.Session, case: Case, priority: str, by: User | None, note: str = ""
) -> None:
    """Change the case's priority (its SLA targets follow, from the SLA watcher)."""
    check_priority(priority)
    if priority == case.priority:
        return
    old = case.priority
    case.priority = priority
    note = clean_note(note)
    record(session, case, "priority", actor=by, field="priority", old=old, new=priority, note=note)
    emit(session, case, "priority", at=now_utc(), by=by, old=old, new=priority, note=note)


def close_case(
    session: so.Session, case: Case, by: User | None, note: str = "", status: str | None = None
) -> None:
    """Close the case with `status` (one of its closed statuses; "Closed" by default)."""
    if case.is_closed:
        raise Conflict(f"Case {case.number} is closed already.")
    target = status_of(case.case_type, status) if status else closed_status(case.case_type)
    if target.meaning != "closed":
        raise Invalid(f"{target.name!r} does not close a case.", field="status")
    set_status(session, case, target.name, by, note)


def _complete_tasks_on_close(session: so.Session, case: Case, by: User | None, status: str) -> None:
    """A closed case has nothing left to do: its open tasks are done (they leave everyone's
    My tasks), with one line on the timeline when there were any."""
    count = complete_open_tasks(session, case, by=by)
    if count:
        what = "its open task" if count == 1 else f"its {count} open tasks"
        record(session, case, "task", actor=by, note=f"Case {status}: {what} completed.")


def status_meaning(case: Case) -> str:
    """The meaning of the case's status: "open", "waiting" or "closed"."""
    return status_of(case.case_type, case.status).meaning


# -- checks and names ----------------------------------------------------------------


def check_priority(priority: str) -> None:
    if priority not in PRIORITIES:
        raise Invalid(f"Choose a priority ({', '.join(PRIORITIES)}).", field="priority")


def check_owner_user(user: User) -> None:
    if not user.is_team or not user.active:
        raise Invalid("Only an active member of staff can own a case.", field="owner")


def clean_text(value: str | None, field: str, what: str, limit: int) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise Invalid(f"Write {what}.", field=field)
    if len(text) > limit:
        raise Invalid(f"That is too long ({limit} characters at most).", field=field)
    return text


def clean_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise Invalid(f"The note is too long ({NOTE_MAX:,} characters at most).", field="note")
    return note


def owner_key(case: Case) -> str:
    """ "user:<id>" or "queue:<id>" (as case events carry it)."""
    if case.owner_user_id is not None:
        return f"user:{case.owner_user_id}"
    return f"queue:{case.owner_queue_id}"


def owner_name(case: Case) -> str:
    if case.owner_user is not None:
        return case.owner_user.full_name
    return case.owner_queue.name if case.owner_queue is not None else ""
