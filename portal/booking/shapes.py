"""The public shape of an appointment, its tasks and its work order: what the JSON API
answers with and what a webhook sends (portal/booking/hooks.py), so the two never drift.

It sits below both: the API (a feature) and booking's webhook events import it, and it
imports nothing above booking.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AliasPath, BaseModel, ConfigDict, Field

from portal.availability.services import location_zone
from portal.booking.lifecycle import STATUS_WORDS
from portal.booking.models import Appointment
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
    model_config = ConfigDict(from_attributes=True)  # read straight off a WorkOrder

    id: int
    number: str
    status: str
    summary: str
    description: str
    account_id: int
    account_name: str = Field(validation_alias=AliasPath("account", "name"))
    contact_id: int | None
    location_id: int | None
    created_at: datetime
    updated_at: datetime


def appointment_out(appointment: Appointment, *, org_zone: str, with_tasks: bool) -> AppointmentOut:
    """The appointment with its times in its location's zone (`org_zone` where the
    location has none); its tasks `with_tasks` (what staff see), else null."""
    zone = location_zone(appointment.location, org_zone)
    tasks = None
    if with_tasks:
        tasks = [
            task_out(t) for t in appointment.work_order.tasks if t.appointment_id == appointment.id
        ]
    return AppointmentOut(
        id=appointment.id,
        number=appointment.number,
        status=appointment.status,
        status_text=STATUS_WORDS[appointment.status],
        service_id=appointment.service_id,
        service_name=appointment.service.name,
        account_id=appointment.account_id,
        contact_id=appointment.contact_id,
        location_id=appointment.location_id,
        work_order_id=appointment.work_order_id,
        work_order_number=appointment.work_order.number,
        time_zone=zone,
        window_start=appointment.window_start,
        window_end=appointment.window_end,
        local_window_start=to_local(appointment.window_start, zone),
        local_window_end=to_local(appointment.window_end, zone),
        note=appointment.note,
        confirm_deadline=appointment.confirm_deadline,
        self_reschedules=appointment.self_reschedules,
        tasks=tasks,
    )


def task_out(task: WorkOrderTask) -> TaskOut:
    return TaskOut(
        id=task.id,
        status=task.status,
        agent_id=task.agent_id,
        agent_name=task.agent.name if task.agent else None,
        queue=task.queue,
        title=task.title,
        due_at=task.due_at,
    )


def work_order_out(work_order: WorkOrder) -> WorkOrderOut:
    return WorkOrderOut.model_validate(work_order)
