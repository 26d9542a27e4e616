"""A team user's home, "My tasks": what the user holds (overdue, due today, upcoming, by
the viewer's time zone), an agent's appointment tasks day by day, what waits in the
user's queues (with a Take button), and for schedulers the Scheduling queue and the
appointments waiting for a new time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.booking.models import Appointment
from portal.cases.handoff import take_work_order
from portal.cases.models import Case
from portal.queues.models import SCHEDULING, Queue
from portal.queues.services import queues_of
from portal.timeutil import to_local
from portal.workforce.models import Agent
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrder, WorkOrderTask
from portal.workorders.queue_tasks import take_task
from portal.workorders.services import in_scheduling_queue


@dataclass(frozen=True)
class Held:
    """Tasks a user holds (`user_id`), in the buckets the home shows them under."""

    overdue: list[WorkOrderTask] = field(default_factory=list)
    today: list[WorkOrderTask] = field(default_factory=list)
    upcoming: list[WorkOrderTask] = field(default_factory=list)
    undated: list[WorkOrderTask] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.overdue or self.today or self.upcoming or self.undated)

    def sections(self) -> list[tuple[str, str, list[WorkOrderTask]]]:
        """(key, heading, tasks) of the buckets that have tasks."""
        named = [
            ("overdue", "Overdue", self.overdue),
            ("today", "Due today", self.today),
            ("upcoming", "Upcoming", self.upcoming),
            ("undated", "No due date", self.undated),
        ]
        return [row for row in named if row[2]]


@dataclass(frozen=True)
class Waiting:
    queue: Queue
    tasks: list[WorkOrderTask]


@dataclass(frozen=True)
class MyTasks:
    tasks: list[WorkOrderTask]  # an agent's appointment tasks
    queue: list[WorkOrderTask]  # the Scheduling queue (schedulers and above)
    needs_reschedule: list[Appointment]
    held: Held = field(default_factory=Held)
    waiting: list[Waiting] = field(default_factory=list)  # the user's other queues
    cases: dict[int, Case] = field(default_factory=dict)  # the cases of case tasks, by id

    @property
    def waiting_count(self) -> int:
        return sum(len(w.tasks) for w in self.waiting)


LOAD = (
    so.joinedload(WorkOrderTask.work_order).joinedload(WorkOrder.account),
    so.joinedload(WorkOrderTask.appointment).joinedload(Appointment.location),
    so.joinedload(WorkOrderTask.appointment).joinedload(Appointment.service),
)


def list_my_tasks(
    session: so.Session, user: User, *, now: datetime | None = None, limit: int = 50
) -> MyTasks:
    """Everything the home shows `user`, as of `now` (needed for the held tasks' buckets)."""
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
                .options(*LOAD)
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
                .options(*LOAD)
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
    held = Held()
    if now is not None:
        held = bucket_held(held_tasks(session, user, limit=limit), user.time_zone, now)
    waiting = waiting_in_queues(session, user, limit=limit)
    shown = [t for _, _, tasks in held.sections() for t in tasks]
    shown += [t for w in waiting for t in w.tasks]
    return MyTasks(
        tasks=mine,
        queue=queue,
        needs_reschedule=parked,
        held=held,
        waiting=waiting,
        cases=cases_of(session, shown),
    )


def cases_of(session: so.Session, tasks: list[WorkOrderTask]) -> dict[int, Case]:
    """The cases of the case tasks among `tasks` (number, account, subject for the cards),
    by id, in one query."""
    ids = {t.case_id for t in tasks if t.case_id is not None}
    if not ids:
        return {}
    found = session.scalars(
        sa.select(Case).where(Case.id.in_(ids)).options(so.joinedload(Case.account))
    )
    return {case.id: case for case in found}


def held_tasks(session: so.Session, user: User, *, limit: int = 50) -> list[WorkOrderTask]:
    """Active tasks the user holds itself (taken from a queue, handed to it), soonest due
    first."""
    return list(
        session.scalars(
            sa.select(WorkOrderTask)
            .where(WorkOrderTask.user_id == user.id, WorkOrderTask.status.in_(ACTIVE_TASK_STATES))
            .options(*LOAD)
            .order_by(WorkOrderTask.due_at.nulls_last(), WorkOrderTask.id)
            .limit(limit)
        ).unique()
    )


def bucket_held(tasks: list[WorkOrderTask], zone: str, now: datetime) -> Held:
    """Overdue (due before `now`), due today (later today in `zone`), upcoming (a later
    day), no due date."""
    today = to_local(now, zone).date()
    held = Held()
    for task in tasks:
        if task.due_at is None:
            held.undated.append(task)
        elif task.due_at < now:
            held.overdue.append(task)
        elif to_local(task.due_at, zone).date() == today:
            held.today.append(task)
        else:
            held.upcoming.append(task)
    return held


def waiting_in_queues(session: so.Session, user: User, *, limit: int = 50) -> list[Waiting]:
    """The open tasks waiting in each queue the user works, bar the Scheduling queue (the
    scheduler's section shows it, and its tasks are closed by the booking flow when a new
    time is found, so they are not taken). Queues with nothing waiting are listed too."""
    queues = [q for q in queues_of(session, user) if q.slug != SCHEDULING]
    if not queues:
        return []
    ranked = (
        sa.select(
            WorkOrderTask.id,
            sa.func.row_number()
            .over(
                partition_by=WorkOrderTask.queue_id,
                order_by=(WorkOrderTask.due_at.is_(None), WorkOrderTask.due_at, WorkOrderTask.id),
            )
            .label("n"),
        )
        .where(
            WorkOrderTask.queue_id.in_([q.id for q in queues]),
            WorkOrderTask.status.in_(ACTIVE_TASK_STATES),
        )
        .subquery()
    )
    tasks = session.scalars(
        sa.select(WorkOrderTask)
        .join(ranked, ranked.c.id == WorkOrderTask.id)
        .where(ranked.c.n <= limit)
        .options(*LOAD)
        .order_by(WorkOrderTask.due_at.is_(None), WorkOrderTask.due_at, WorkOrderTask.id)
    ).unique()
    by_queue: dict[int, list[WorkOrderTask]] = {q.id: [] for q in queues}
    for task in tasks:
        by_queue[task.queue_id].append(task)
    return [Waiting(q, by_queue[q.id]) for q in queues]


def take_from_queue(session: so.Session, task: WorkOrderTask, user: User) -> WorkOrderTask:
    """The Take button: a case's back-office work order is taken the case's way (its task
    in progress, the work order in progress: portal/cases/handoff.py); any other queue
    task goes to the user, assigned (portal/workorders/queue_tasks.py)."""
    work_order = task.work_order
    if work_order is not None and work_order.owner_kind == "case":
        return take_work_order(session, work_order, user)
    return take_task(session, task, user)


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
