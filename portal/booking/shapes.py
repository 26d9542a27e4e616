"""The public shape of an appointment, its tasks and its work order: what the JSON API
answers with and what a webhook sends (portal/booking/hooks.py), so the two never drift.

It sits below both: the API (a feature) and booking's webhook events import it, and it
imports nothing above booking.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from portal.booking.models import Appointment
from portal.booking.states import STATUS_WORDS
from portal.booking.windows import location_zone
from portal.timeutil import to_local
from portal.workorders.models import WorkOrder, WorkOrderTask


class TaskOut(BaseModel):
    id: int
    status: str
    agent_id: int | None
    agent_name: str | None
    queue: str | None
    title: str
    due_at: datetime | None


class AppointmentOut(BaseModel):
    id: int
    number: str
    status: str
    status_text: str
    service_id: int
    service_name: str
    account_id: int
    contact_id: int
    location_id: int
    work_order_id: int
    work_order_number: str
    time_zone: str = Field(description="The location's zone.")
    window_start: datetime
    window_end: datetime
    local_window_start: datetime
    local_window_end: datetime
    note: str
    confirm_deadline: datetime | None
    self_reschedules: int
    tasks: list[TaskOut] | None = Field(description="Staff only; null for customers.")


class WorkOrderOut(BaseModel):
    id: int
    number: str
    status: str
    summary: str
    description: str
    account_id: int
    account_name: str
    contact_id: int | None
    location_id: int | None
    created_at: datetime
    updated_at: datetime


Shape = TypeVar("Shape", bound=BaseModel)


def read_off(model: type[Shape], record: Any, **computed: Any) -> Shape:
    """`model` filled from the attributes of `record` that have its fields' names, and
    from `computed` for the fields that are not plain attributes of it."""
    plain = {name: getattr(record, name) for name in model.model_fields if name not in computed}
    return model(**plain, **computed)


def appointment_out(appointment: Appointment, *, org_zone: str, with_tasks: bool) -> AppointmentOut:
    """The appointment with its times in its location's zone (`org_zone` where the
    location has none); its tasks `with_tasks` (what staff see), else null."""
    zone = location_zone(appointment.location, org_zone)
    tasks = None
    if with_tasks:
        tasks = [
            task_out(t) for t in appointment.work_order.tasks if t.appointment_id == appointment.id
        ]
    return read_off(
        AppointmentOut,
        appointment,
        status_text=STATUS_WORDS[appointment.status],
        service_name=appointment.service.name,
        work_order_number=appointment.work_order.number,
        time_zone=zone,
        local_window_start=to_local(appointment.window_start, zone),
        local_window_end=to_local(appointment.window_end, zone),
        tasks=tasks,
    )


def task_out(task: WorkOrderTask) -> TaskOut:
    return read_off(
        TaskOut,
        task,
        agent_name=task.agent.name if task.agent else None,
        # The queue's slug: "scheduling", as the old string column said.
        queue=task.queue.slug if task.queue else None,
    )


def work_order_out(work_order: WorkOrder) -> WorkOrderOut:
    return read_off(WorkOrderOut, work_order, account_name=work_order.account.name)
