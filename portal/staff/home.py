"""A staff user's home page: the tasks assigned to them and, for schedulers, the shared
queue and the appointments waiting for a new time, grouped by day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.booking.models import Appointment
from portal.timeutil import to_local
from portal.workforce.models import Agent
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrder, WorkOrderTask
from portal.workorders.services import in_scheduling_queue


@dataclass(frozen=True)
class MyTasks:
    tasks: list[WorkOrderTask]
    queue: list[WorkOrderTask]
    needs_reschedule: list[Appointment]


def list_my_tasks(session: so.Session, user: User, *, limit: int = 50) -> MyTasks:
    """A staff user's home: tasks assigned to them, and for schedulers the shared queue."""
    load = (
        so.joinedload(WorkOrderTask.work_order).joinedload(WorkOrder.account),
        so.joinedload(WorkOrderTask.appointment).joinedload(Appointment.location),
        so.joinedload(WorkOrderTask.appointment).joinedload(Appointment.service),
    )
    mine: list[WorkOrderTask] = []
    agent_id = session.scalar(sa.select(Agent.id).where(Agent.user_id == user.id))
    if agent_id is not None:
        mine = list(
            session.scalars(
                sa.select(WorkOrderTask)
                .outerjoin(WorkOrderTask.appointment)
                .where(
                    WorkOrderTask.agent_id == agent_id,
                    WorkOrderTask.status.in_(ACTIVE_TASK_STATES),
                )
                .options(*load)
                .order_by(Appointment.planned_start.nulls_last(), WorkOrderTask.id)
                .limit(limit)
            ).unique()
        )
    queue: list[WorkOrderTask] = []
    parked: list[Appointment] = []
    if user.has_role("scheduler"):
        queue = list(
            session.scalars(
                sa.select(WorkOrderTask)
                .where(
                    in_scheduling_queue(),
                    WorkOrderTask.agent_id.is_(None),
                    WorkOrderTask.status.in_(ACTIVE_TASK_STATES),
                )
                .options(*load)
                .order_by(WorkOrderTask.due_at.nulls_last(), WorkOrderTask.id)
                .limit(limit)
            ).unique()
        )
        parked = list(
            session.scalars(
                sa.select(Appointment)
                .where(Appointment.status == "needs_reschedule")
                .options(so.joinedload(Appointment.account), so.joinedload(Appointment.service))
                .order_by(Appointment.window_start)
                .limit(limit)
            )
        )
    return MyTasks(tasks=mine, queue=queue, needs_reschedule=parked)


def group_by_day(
    tasks: list[WorkOrderTask], zone: str, today: date
) -> list[tuple[str, list[WorkOrderTask]]]:
    """Tasks under headings an agent reads at a glance: Earlier, Today, Tomorrow, a date."""
    groups: dict[str, list[WorkOrderTask]] = {}
    for task in tasks:
        start = task.appointment.planned_start if task.appointment else task.due_at
        day = to_local(start, zone).date() if start else None
        if day is None:
            label = "Not scheduled"
        elif day < today:
            label = "Earlier"
        elif day == today:
            label = "Today"
        elif day == today + timedelta(days=1):
            label = "Tomorrow"
        else:
            label = f"{day:%A %-d %B}"
        groups.setdefault(label, []).append(task)
    return list(groups.items())
