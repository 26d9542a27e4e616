"""The board's two waiting lists: open tasks in the scheduling queue, and appointments
parked for a new time (they hold nobody). One query each, the first QUEUE_LIMIT rows with
the total counted in the same round trip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import CustomerAccount
from portal.booking.models import Appointment, Service
from portal.dispatch.filters import BoardFilters, appointment_conditions
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrder, WorkOrderTask
from portal.workorders.services import in_scheduling_queue

QUEUE_LIMIT = 50


def appointment_number(appointment_id: int) -> str:
    return f"SA-{appointment_id:06d}"


@dataclass(frozen=True, slots=True)
class QueueItem:
    task_id: int
    title: str
    due_at: datetime | None
    work_order: str
    customer: str
    appointment_id: int | None
    number: str | None
    status: str | None
    service: str | None
    window_start: datetime | None
    window_end: datetime | None


@dataclass(frozen=True, slots=True)
class ParkedItem:
    appointment_id: int
    number: str
    customer: str
    service: str
    window_start: datetime
    window_end: datetime


def load_queue(session: so.Session, filters: BoardFilters) -> tuple[list[QueueItem], int]:
    """Open tasks in the scheduling queue, soonest due first, with the total."""
    query = (
        sa.select(
            WorkOrderTask.id,
            WorkOrderTask.title,
            WorkOrderTask.due_at,
            WorkOrder.id,
            CustomerAccount.name,
            Appointment.id,
            Appointment.status,
            Service.name,
            Appointment.window_start,
            Appointment.window_end,
        )
        .join(WorkOrder, WorkOrder.id == WorkOrderTask.work_order_id)
        .join(CustomerAccount, CustomerAccount.id == WorkOrder.account_id)
        .outerjoin(Appointment, Appointment.id == WorkOrderTask.appointment_id)
        .outerjoin(Service, Service.id == Appointment.service_id)
        .where(
            in_scheduling_queue(),
            WorkOrderTask.agent_id.is_(None),
            WorkOrderTask.status.in_(ACTIVE_TASK_STATES),
            *appointment_conditions(filters, queue=True),
        )
        .order_by(WorkOrderTask.due_at.nulls_last(), WorkOrderTask.id)
    )
    return _first_page(session, query, _queue_item)


def _queue_item(row) -> QueueItem:
    return QueueItem(
        task_id=row[0],
        title=row[1],
        due_at=row[2],
        work_order=f"WO-{row[3]:06d}",
        customer=row[4],
        appointment_id=row[5],
        number=appointment_number(row[5]) if row[5] is not None else None,
        status=row[6],
        service=row[7],
        window_start=row[8],
        window_end=row[9],
    )


def load_parked(session: so.Session, filters: BoardFilters) -> tuple[list[ParkedItem], int]:
    """Appointments that need a new time (they hold nobody), soonest first."""
    query = (
        sa.select(
            Appointment.id,
            CustomerAccount.name,
            Service.name,
            Appointment.window_start,
            Appointment.window_end,
        )
        .join(Service, Service.id == Appointment.service_id)
        .join(CustomerAccount, CustomerAccount.id == Appointment.account_id)
        .where(
            Appointment.status == "needs_reschedule", *appointment_conditions(filters, queue=True)
        )
        .order_by(Appointment.window_start, Appointment.id)
    )
    return _first_page(session, query, _parked_item)


def _parked_item(row) -> ParkedItem:
    appointment_id, customer, service, start, end = row
    return ParkedItem(
        appointment_id, appointment_number(appointment_id), customer, service, start, end
    )


def _first_page(session: so.Session, query, make) -> tuple[list, int]:
    """The first QUEUE_LIMIT rows of `query`, each made into an item by `make`, and how
    many rows there are in all: a window count in the same query, so one round trip."""
    items, total = [], 0
    for row in session.execute(query.add_columns(sa.func.count().over()).limit(QUEUE_LIMIT)):
        *values, total = row
        items.append(make(values))
    return items, total
