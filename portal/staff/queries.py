"""What the staff console lists: customers found by search, appointments, work orders.
Every list is one page from the database, filtered there."""

from __future__ import annotations

import enum
import re
from typing import Literal

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, CustomerAccount
from portal.booking.models import Appointment
from portal.ids import parse_id
from portal.pagination import Page, paginate
from portal.workforce.models import Agent
from portal.workorders.models import WorkOrder, WorkOrderTask


class _AllAccounts(enum.Enum):
    ALL = "all accounts"


# Staff lists only: pass this, never None, to list every account's appointments.
ALL_ACCOUNTS = _AllAccounts.ALL
NUMBER = re.compile(r"^\s*(WO|SA)-?0*(\d+)\s*$", re.IGNORECASE)


def search_customers(session: so.Session, q: str, *, page: int = 1) -> Page:
    """Accounts whose name, contact name, contact e-mail, or work order / appointment
    number matches `q` (case-insensitive), by account name."""
    query = sa.select(CustomerAccount).order_by(CustomerAccount.name, CustomerAccount.id)
    q = q.strip()
    if q:
        number = NUMBER.match(q)
        if number:
            kind, ident = number.group(1).upper(), parse_id(number.group(2))
            model = WorkOrder if kind == "WO" else Appointment
            # A number past any id (or no id at all, like SA-0) is nobody's.
            found = model.id == ident if ident is not None else sa.false()
            query = query.where(CustomerAccount.id.in_(sa.select(model.account_id).where(found)))
        else:
            like = f"%{q.lower()}%"
            contacts = sa.select(Contact.account_id).where(
                sa.or_(
                    sa.func.lower(Contact.full_name).like(like),
                    sa.func.lower(Contact.email).like(like),
                )
            )
            query = query.where(
                sa.or_(
                    sa.func.lower(CustomerAccount.name).like(like), CustomerAccount.id.in_(contacts)
                )
            )
    query = query.options(so.selectinload(CustomerAccount.contacts))
    return paginate(session, query, page, 20)


def list_appointments(
    session: so.Session,
    *,
    account_id: int | Literal[_AllAccounts.ALL],
    status: str | None = None,
    page: int = 1,
    per_page: int = 25,
    with_tasks: bool = False,
) -> Page:
    """Appointments, the latest first, of one account or (`ALL_ACCOUNTS`, for staff
    only) of every account; optionally of one status. Each comes with its service,
    address, account and work order, and (`with_tasks`) the work order's tasks and their
    agents, in a fixed number of queries however long the page.

    `account_id` has no default and None is refused: a customer without an account
    must never get everyone's appointments because its account id was empty.
    """
    if account_id is not ALL_ACCOUNTS and (
        not isinstance(account_id, int) or isinstance(account_id, bool)
    ):
        raise TypeError(
            f"account_id must be an account's id, or ALL_ACCOUNTS for every account "
            f"(staff only), not {account_id!r}"
        )
    query = (
        sa.select(Appointment)
        .options(
            so.joinedload(Appointment.service),
            so.joinedload(Appointment.location),
            so.joinedload(Appointment.account),
            so.joinedload(Appointment.work_order),
        )
        .order_by(Appointment.window_start.desc(), Appointment.id.desc())
    )
    if with_tasks:
        query = query.options(
            so.joinedload(Appointment.work_order)
            .selectinload(WorkOrder.tasks)
            .joinedload(WorkOrderTask.agent)
            .joinedload(Agent.user)
        )
    if account_id is not ALL_ACCOUNTS:
        query = query.where(Appointment.account_id == account_id)
    if status:
        query = query.where(Appointment.status == status)
    return paginate(session, query, page, per_page)


def list_work_orders(
    session: so.Session, *, status: str | None = None, page: int = 1, per_page: int = 25
) -> Page:
    query = (
        sa.select(WorkOrder).options(so.joinedload(WorkOrder.account)).order_by(WorkOrder.id.desc())
    )
    if status:
        query = query.where(WorkOrder.status == status)
    return paginate(session, query, page, per_page)
