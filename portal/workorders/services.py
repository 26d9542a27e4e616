"""Work orders and tasks: creation, the timeline, and the lists people work from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.accounts.watchers import records_at
from portal.booking.models import Appointment
from portal.ids import parse_id
from portal.timeutil import to_local
from portal.workforce.models import Agent
from portal.workorders.models import TimelineEntry, WorkOrder, WorkOrderTask

SCHEDULING_QUEUE = "scheduling"
ACTIVE_TASK_STATES = ("open", "assigned", "accepted", "in_progress")


def record(
    session: so.Session,
    subject,
    action: str,
    *,
    actor: User | None,
    work_order_id: int | None = None,
    field: str | None = None,
    old=None,
    new=None,
    note: str = "",
    visibility: str = "internal",
    on_behalf_of: User | None = None,
) -> TimelineEntry:
    """Write one timeline entry: who did what to which record, and the values it changed."""
    entry = TimelineEntry(
        subject_type=type(subject).__name__,
        subject_id=subject.id,
        work_order_id=work_order_id,
        actor_id=actor.id if actor else None,
        on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
        action=action,
        field=field,
        old_value=None if old is None else str(old),
        new_value=None if new is None else str(new),
        note=note,
        visibility=visibility,
    )
    session.add(entry)
    return entry


def timeline_for_work_order(
    session: so.Session, work_order: WorkOrder, *, include_internal: bool
) -> list[TimelineEntry]:
    query = (
        sa.select(TimelineEntry)
        .where(TimelineEntry.work_order_id == work_order.id)
        .options(so.joinedload(TimelineEntry.actor))
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    if not include_internal:
        query = query.where(TimelineEntry.visibility == "customer")
    return list(session.scalars(query))


def agent_names(session: so.Session, entries: list[TimelineEntry]) -> dict[str, str]:
    """Names for the agent ids that timeline entries mention, in one query."""
    ids = {
        agent_id
        for e in entries
        if e.field == "agent"
        for v in (e.old_value, e.new_value)
        if (agent_id := parse_id(v)) is not None
    }
    if not ids:
        return {}
    rows = session.execute(
        sa.select(Agent.id, User.full_name)
        .join(User, User.id == Agent.user_id)
        .where(Agent.id.in_(ids))
    )
    return {str(agent_id): name for agent_id, name in rows}


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
                    WorkOrderTask.queue == SCHEDULING_QUEUE,
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


# Whether an address may be removed (portal/accounts/watchers.py): work orders there,
# closed or cancelled ones done with it.
work_orders_at = records_at(WorkOrder, frozenset({"closed", "cancelled"}))
