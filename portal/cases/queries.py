"""Who may see which case, the lists of cases, and a case's timeline.

A customer sees its account's cases. Staff on the ladder see every case (the contact
centre works them all). A back-office user sees the cases it owns, those its queues own,
those that handed work to one of its queues, those on which it holds an open task (sales
handed an aging case's task) and those of the accounts it owns; anything else is "not
found", never "forbidden", so ids tell nothing.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import TEAM_ROLES, Contact, CustomerAccount, User
from portal.cases.models import Case, CaseStatus, CaseWorkOrder
from portal.errors import Invalid, NotFound
from portal.ids import parse_id
from portal.pagination import Page, paginate
from portal.queues.models import Queue, QueueMember
from portal.workorders.models import ACTIVE_TASK_STATES, TimelineEntry, WorkOrder, WorkOrderTask

STATES = ("open", "waiting", "closed")
SCOPES = ("all", "mine", "queues")
_NUMBER = re.compile(r"^\s*(?:cs-?)?0*(\d{1,9})\s*$", re.IGNORECASE)


def case_for_customer(session: so.Session, user: User, case_id: int) -> Case:
    """The case if it is of the user's account; NotFound otherwise."""
    account_id = user.account_id
    case = session.get(Case, case_id)
    if case is None or account_id is None or case.account_id != account_id:
        raise NotFound("There is no such case.")
    return case


def case_for_team(session: so.Session, user: User, case_id: int) -> Case:
    """The case if the team member may work it; NotFound otherwise."""
    case = session.get(Case, case_id)
    if case is None or not can_see(session, user, case):
        raise NotFound("There is no such case.")
    return case


def can_see(session: so.Session, user: User, case: Case) -> bool:
    if user.is_staff:
        return True
    if not user.is_backoffice:
        return False
    return (
        session.scalar(sa.select(sa.literal(1)).where(visible_to(user), Case.id == case.id))
        is not None
    )


def my_queue_ids(user: User) -> sa.Select:
    return sa.select(QueueMember.queue_id).where(QueueMember.user_id == user.id)


def visible_to(user: User) -> sa.ColumnElement[bool]:
    """SQL condition: a back-office user may see the case (see the module's docstring)."""
    queues = my_queue_ids(user)
    handed = sa.select(CaseWorkOrder.case_id).where(CaseWorkOrder.queue_id.in_(queues))
    holds_task = sa.select(WorkOrderTask.case_id).where(
        WorkOrderTask.user_id == user.id,
        WorkOrderTask.case_id.is_not(None),
        WorkOrderTask.status.in_(ACTIVE_TASK_STATES),
    )
    owns_account = sa.select(CustomerAccount.id).where(CustomerAccount.owner_user_id == user.id)
    return sa.or_(
        Case.owner_user_id == user.id,
        Case.owner_queue_id.in_(queues),
        Case.id.in_(handed),
        Case.id.in_(holds_task),
        Case.account_id.in_(owns_account),
    )


def meaning_of_status() -> sa.ScalarSelect:
    """SQL: the meaning of each case's status (its type's status of that name)."""
    return (
        sa.select(CaseStatus.meaning)
        .where(CaseStatus.case_type_id == Case.case_type_id, CaseStatus.name == Case.status)
        .scalar_subquery()
    )


def list_cases_for_team(
    session: so.Session,
    user: User,
    *,
    state: str = "",
    scope: str = "all",
    search: str = "",
    page: int = 1,
    per_page: int = 25,
) -> Page:
    """A page of the cases the user may see: newest first, filtered by the state of their
    status, by owner (`scope` "mine": the user's; "queues": its queues'), and by number
    or words of the subject."""
    query = sa.select(Case).options(
        so.joinedload(Case.account), so.joinedload(Case.owner_user), so.joinedload(Case.owner_queue)
    )
    if not user.is_staff:
        query = query.where(visible_to(user))
    if state in STATES:
        query = query.where(meaning_of_status() == state)
    if scope == "mine":
        query = query.where(Case.owner_user_id == user.id)
    elif scope == "queues":
        query = query.where(Case.owner_queue_id.in_(my_queue_ids(user)))
    query = _searched(query, search)
    return paginate(session, query.order_by(Case.created_at.desc(), Case.id.desc()), page, per_page)


def list_cases_for_customer(
    session: so.Session, user: User, *, state: str = "", page: int = 1, per_page: int = 20
) -> Page:
    """A page of the cases of the user's account (of one `state` when given: open,
    waiting, closed), open ones first, newest first."""
    query = (
        sa.select(Case)
        .where(Case.account_id == (user.account_id or -1))
        .order_by(Case.is_closed, Case.created_at.desc(), Case.id.desc())
    )
    if state in STATES:
        query = query.where(meaning_of_status() == state)
    return paginate(session, query, page, per_page)


def _searched(query: sa.Select, search: str) -> sa.Select:
    search = (search or "").strip()[:200]
    if not search:
        return query
    number = _NUMBER.match(search)
    words = sa.or_(*[Case.subject.ilike(f"%{_escape(w)}%", escape="\\") for w in search.split()])
    if number:
        return query.where(sa.or_(Case.id == int(number.group(1)), words))
    return query.where(
        sa.and_(*[Case.subject.ilike(f"%{_escape(w)}%", escape="\\") for w in search.split()])
    )


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def timeline_for_case(
    session: so.Session, case: Case, *, include_internal: bool
) -> list[TimelineEntry]:
    """The case's timeline, oldest first (the customer sees the customer-visible part)."""
    query = (
        sa.select(TimelineEntry)
        .where(TimelineEntry.subject_type == "Case", TimelineEntry.subject_id == case.id)
        .options(so.joinedload(TimelineEntry.actor))
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    if not include_internal:
        query = query.where(TimelineEntry.visibility == "customer")
    return list(session.scalars(query))


def work_orders_of_case(session: so.Session, case: Case) -> list[CaseWorkOrder]:
    """The case's back-office work orders, with their queues and tasks, oldest first."""
    return list(
        session.scalars(
            sa.select(CaseWorkOrder)
            .where(CaseWorkOrder.case_id == case.id)
            .options(
                so.joinedload(CaseWorkOrder.queue),
                so.joinedload(CaseWorkOrder.work_order).selectinload(WorkOrder.tasks),
            )
            .order_by(CaseWorkOrder.id)
        ).unique()
    )


# -- choices for the pages -----------------------------------------------------------


def search_accounts(session: so.Session, q: str, *, page: int = 1) -> Page:
    """Customer accounts whose name or a contact's name or e-mail holds `q`, by name."""
    query = (
        sa.select(CustomerAccount)
        .options(so.selectinload(CustomerAccount.contacts))
        .order_by(CustomerAccount.name, CustomerAccount.id)
    )
    q = (q or "").strip()[:100]
    if q:
        like = f"%{_escape(q.lower())}%"
        contacts = sa.select(Contact.account_id).where(
            sa.or_(
                sa.func.lower(Contact.full_name).like(like, escape="\\"),
                sa.func.lower(Contact.email).like(like, escape="\\"),
            )
        )
        query = query.where(
            sa.or_(
                sa.func.lower(CustomerAccount.name).like(like, escape="\\"),
                CustomerAccount.id.in_(contacts),
            )
        )
    return paginate(session, query, page, 10)


def all_queues(session: so.Session) -> list[Queue]:
    return list(session.scalars(sa.select(Queue).order_by(Queue.name)))


def owner_choices(session: so.Session) -> list[tuple[str, str]]:
    """Who may own a case, as (value, label): the queues, then active team members."""
    queues = [(f"queue:{q.id}", f"Queue: {q.name}") for q in all_queues(session)]
    users = session.scalars(
        sa.select(User)
        .where(User.role.in_(sorted(TEAM_ROLES)), User.active.is_(True))
        .order_by(User.full_name, User.id)
    )
    return queues + [(f"user:{u.id}", f"{u.full_name} ({u.role})") for u in users]


def parse_owner(session: so.Session, value: str) -> tuple[User | None, Queue | None]:
    """ "user:<id>" or "queue:<id>" as (user, queue); NotFound when it names nobody."""
    kind, _, raw = (value or "").partition(":")
    ident = parse_id(raw)
    if kind == "user" and ident is not None:
        user = session.get(User, ident)
        if user is not None:
            return user, None
    if kind == "queue" and ident is not None:
        queue = session.get(Queue, ident)
        if queue is not None:
            return None, queue
    raise Invalid("Choose an owner from the list.", field="owner")
