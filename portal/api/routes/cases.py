"""Cases: list by state, open one, read one with its SLA milestones, and comment, through
the same services (and so the same rules, timeline, notices and webhooks) as the pages.

Who sees what is the pages' rule (portal/cases/queries.py): a customer its account's
cases, staff on the ladder every case, a back-office user those of its queues; any other
case is 404, never 403.
"""

from __future__ import annotations

import sqlalchemy as sa

from portal.accounts.models import Contact, CustomerAccount, User
from portal.api.case_schemas import (
    CaseDetail,
    CaseIn,
    CasePage,
    CasesQuery,
    CommentIn,
    CommentList,
    milestone_out,
)
from portal.api.registry import ID, operation
from portal.cases.comments import add_comment
from portal.cases.models import Case, CaseWorkOrder
from portal.cases.queries import (
    case_for_customer,
    case_for_team,
    list_cases_for_customer,
    list_cases_for_team,
    timeline_for_case,
)
from portal.cases.services import open_case, open_customer_case
from portal.cases.shapes import CaseOut, CommentOut, case_out, comment_out
from portal.db import commit, get_session
from portal.errors import Invalid, NotFound
from portal.queues.models import Queue
from portal.sla.models import Milestone

CASE = f"/cases/<{ID}:case_id>"
# Customers, and the team: staff on the ladder (agents up) and back office.
READERS = ("customer", "agent", "backoffice")
STAFF_ORIGIN = "Phone"  # a case staff open is mostly a call (the pages' default too)


@operation(
    "GET",
    "/cases",
    summary="List cases",
    tag="cases",
    response=CasePage,
    roles=READERS,
    query=CasesQuery,
)
def list_cases(user: User, query: CasesQuery) -> CasePage:
    """A customer's account's cases (open ones first, then newest first); for staff every
    case, for back office the cases of its queues (newest first). `state` keeps the cases
    whose status means open, waiting (on the customer) or closed."""
    session = get_session()
    state = query.state or ""
    if user.is_team:
        found = list_cases_for_team(
            session, user, state=state, page=query.page, per_page=query.per_page
        )
    else:
        found = list_cases_for_customer(
            session, user, state=state, page=query.page, per_page=query.per_page
        )
    return CasePage(
        items=[shown_to(user, case) for case in found.items],
        page=found.number,
        pages=found.pages,
        total=found.total,
    )


@operation(
    "POST",
    "/cases",
    summary="Open a case",
    tag="cases",
    response=CaseDetail,
    status=201,
    roles=("customer", "scheduler"),
    body=CaseIn,
    errors=(404,),
)
def create_case(user: User, body: CaseIn) -> CaseDetail:
    """Open a case. A customer opens it for its own account, from the Portal (the fields
    marked "Staff" are ignored); schedulers (the contact centre) name the account, and
    may name the contact, the origin and the owner. It starts its SLA milestones."""
    session = get_session()
    if user.is_staff:
        case = open_case(session, **_staff_case(session, body), by=user)
    else:
        case = open_customer_case(
            session,
            user,
            subject=body.subject,
            description=body.description,
            priority=body.priority,
        )
    commit()
    return detail(user, case)


def _staff_case(session, body: CaseIn) -> dict:
    """The open_case arguments a scheduler's body names, each record found or 404."""
    if body.account_id is None:
        raise Invalid("Name the customer account the case is for.", field="account_id")
    account = session.get(CustomerAccount, body.account_id)
    if account is None:
        raise NotFound("There is no such customer account.", field="account_id")
    contact = None
    if body.contact_id is not None:
        contact = session.get(Contact, body.contact_id)
        if contact is None:
            raise NotFound("There is no such contact.", field="contact_id")
    owner_user = owner_queue = None
    if body.owner_user_id is not None:
        owner_user = session.get(User, body.owner_user_id)
        if owner_user is None:
            raise NotFound("There is no such member of staff.", field="owner_user_id")
    if body.owner_queue_id is not None:
        owner_queue = session.get(Queue, body.owner_queue_id)
        if owner_queue is None:
            raise NotFound("There is no such queue.", field="owner_queue_id")
    return {
        "account": account,
        "contact": contact,
        "subject": body.subject,
        "description": body.description,
        "origin": body.origin or STAFF_ORIGIN,
        "priority": body.priority,
        "owner_user": owner_user,
        "owner_queue": owner_queue,
    }


@operation("GET", CASE, summary="Get a case", tag="cases", response=CaseDetail, roles=READERS)
def get_case(user: User, case_id: int) -> CaseDetail:
    """One case the token's user may see (another account's is 404), with its SLA
    milestones: kind, state, due time, target and business time used, whether paused."""
    return detail(user, load_case(user, case_id))


@operation(
    "GET",
    f"{CASE}/comments",
    summary="A case's comments",
    tag="cases",
    response=CommentList,
    roles=READERS,
)
def list_case_comments(user: User, case_id: int) -> CommentList:
    """The comments on the case, oldest first: customers see those visible to them, the
    team the internal ones too."""
    session = get_session()
    case = load_case(user, case_id)
    entries = timeline_for_case(session, case, include_internal=user.is_team)
    return CommentList(
        case_id=case.id, items=[comment_out(e) for e in entries if e.action == "comment"]
    )


@operation(
    "POST",
    f"{CASE}/comments",
    summary="Comment on a case",
    tag="cases",
    response=CommentOut,
    status=201,
    roles=READERS,
    body=CommentIn,
    errors=(409,),
)
def add_case_comment(user: User, case_id: int, body: CommentIn) -> CommentOut:
    """Write a comment. A customer's is always visible to the customer (and puts a case
    that waits on the customer back in the team's hands; a closed case takes no more:
    409); staff choose `visibility`, and their first customer-visible comment is the
    case's first response."""
    session = get_session()
    case = load_case(user, case_id)
    entry = add_comment(session, case, body.text, visibility=body.visibility, by=user)
    commit()
    return comment_out(entry)


# --- loading and shaping ----------------------------------------------------------------------


def load_case(user: User, case_id: int) -> Case:
    """The case if the token's user may see it (the pages' rule); NotFound otherwise."""
    session = get_session()
    if user.is_team:
        return case_for_team(session, user, case_id)
    return case_for_customer(session, user, case_id)


def shown_to(user: User, case: Case) -> CaseOut:
    """The case as `user` sees it: the team sees who owns it, customers do not."""
    return case_out(case, with_owner=user.is_team)


def detail(user: User, case: Case) -> CaseDetail:
    """The case with its milestones: its own, and for the team those of its back-office
    work orders too (their internal clocks), in the order they started."""
    condition = Milestone.case_id == case.id
    if user.is_team:
        handed = sa.select(CaseWorkOrder.work_order_id).where(CaseWorkOrder.case_id == case.id)
        condition = sa.or_(condition, Milestone.work_order_id.in_(handed))
    milestones = get_session().scalars(
        sa.select(Milestone).where(condition).order_by(Milestone.started_at, Milestone.id)
    )
    return CaseDetail(
        **shown_to(user, case).model_dump(), milestones=[milestone_out(m) for m in milestones]
    )
