"""The steps every appointment move is made of, shared by the customer's moves
(lifecycle.py), the agent's (agent_moves.py) and the scheduler's (portal/dispatch).

Who acts and whether they may (`Actor`, the `require_*` checks); moving the
appointment's state against the table in states.py; keeping holds and tasks in step
with it (a hold exists exactly while the appointment keeps its agents busy); parking an
appointment with the scheduler. Work-order and task statuses change only through
portal/workorders/status.py, which writes their timeline. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.booking.announce import announce
from portal.booking.models import Appointment
from portal.booking.states import INTERNAL_MOVES, STATUS_WORDS, move_block
from portal.errors import Conflict, Invalid, NotFound
from portal.queues.services import scheduling_queue_id
from portal.timeutil import now_utc
from portal.workforce.models import Agent
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrder, WorkOrderTask
from portal.workorders.services import SCHEDULING_QUEUE, in_scheduling_queue, record
from portal.workorders.status import set_task_status, set_work_order_status

MAX_REASON = 1000


class IllegalTransition(Conflict):
    """The appointment is not in a state that allows this action."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a logged-in user, or the customer through an e-mailed manage link."""

    user: User | None
    via_link: bool = False

    @property
    def is_staff(self) -> bool:
        return self.user is not None and self.user.is_staff

    @property
    def is_scheduler(self) -> bool:
        return self.user is not None and self.user.has_role("scheduler")


# --- who may do what ---------------------------------------------------------------------


def agent_of(session: so.Session, user: User | None) -> Agent | None:
    if user is None or user.role == "customer":
        return None
    return session.scalar(sa.select(Agent).where(Agent.user_id == user.id))


def is_assigned_agent(session: so.Session, user: User | None, appointment: Appointment) -> bool:
    agent = agent_of(session, user)
    if agent is None:
        return False
    return (
        session.scalar(
            sa.select(WorkOrderTask.id).where(
                WorkOrderTask.appointment_id == appointment.id,
                WorkOrderTask.agent_id == agent.id,
                WorkOrderTask.status.in_(ACTIVE_TASK_STATES + ("done",)),
            )
        )
        is not None
    )


def require_customer(actor: Actor, appointment: Appointment) -> None:
    if actor.via_link:
        return  # the signed link names this one appointment and nothing else
    user = actor.user
    if user is None or user.role != "customer" or user.account_id != appointment.account_id:
        raise NotFound("There is no such appointment on your account.")


def require_staff_or_customer(session: so.Session, actor: Actor, appt: Appointment) -> None:
    if actor.is_scheduler or (actor.is_staff and is_assigned_agent(session, actor.user, appt)):
        return
    require_customer(actor, appt)


def require_status(appointment: Appointment, allowed: tuple[str, ...], then: str) -> None:
    """Refuse, in words, an action the appointment's state does not allow."""
    if appointment.status not in allowed:
        raise IllegalTransition(f"This appointment is {STATUS_WORDS[appointment.status]}; {then}")


def clean_reason(text: str, *, required: bool, what: str) -> str:
    """A person's free text (a reason, a note), stripped and bounded."""
    text = (text or "").strip()
    if required and not text:
        raise Invalid(f"Please tell us {what}.", field="reason")
    if len(text) > MAX_REASON:
        raise Invalid(f"Please keep it under {MAX_REASON} characters.", field="reason")
    return text


def lock(session: so.Session, appointment: Appointment) -> Appointment:
    """Re-read the appointment with a row lock (PostgreSQL) so two changes queue up."""
    locked = session.scalar(
        sa.select(Appointment)
        .where(Appointment.id == appointment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise NotFound("There is no such appointment.")
    return locked


# --- keeping the pieces in step ----------------------------------------------------------


def move(
    session: so.Session, appointment: Appointment, new: str, actor: Actor, *, note: str = ""
) -> None:
    """Move the appointment to `new` if the table allows it, and write it on the timeline
    (for the customer to see, unless it is one of the INTERNAL_MOVES)."""
    old = appointment.status
    block = move_block(old, new)
    if block:
        raise IllegalTransition(block)
    appointment.status = new
    record(
        session,
        appointment,
        "status",
        actor=actor.user,
        work_order_id=appointment.work_order_id,
        field="status",
        old=old,
        new=new,
        note=note + (" (through the e-mailed link)" if actor.via_link else ""),
        visibility="internal" if (old, new) in INTERNAL_MOVES else "customer",
        on_behalf_of=customer_user(appointment) if actor.is_staff else None,
    )


def customer_user(appointment: Appointment) -> User | None:
    return appointment.contact.user if appointment.contact else None


def set_work_order(session: so.Session, work_order: WorkOrder, new: str, actor: Actor) -> None:
    set_work_order_status(session, work_order, new, by=actor.user)


def set_task(session: so.Session, task: WorkOrderTask, new: str, actor: Actor, note="") -> None:
    set_task_status(session, task, new, by=actor.user, why=note)


def active_tasks(session: so.Session, appointment: Appointment) -> list[WorkOrderTask]:
    """The appointment's agents' tasks that are not over, oldest first."""
    of_agents = sa.select(WorkOrderTask).where(
        WorkOrderTask.appointment_id == appointment.id,
        WorkOrderTask.status.in_(ACTIVE_TASK_STATES),
        WorkOrderTask.agent_id.is_not(None),
    )
    return list(session.scalars(of_agents.order_by(WorkOrderTask.id)))


def release(session: so.Session, appointment: Appointment, actor: Actor) -> None:
    """Free every agent the appointment holds and cancel their open tasks."""
    for hold in list(appointment.holds):
        appointment.holds.remove(hold)
    for task in active_tasks(session, appointment):
        set_task(session, task, "cancelled", actor)
    session.flush()


def assign(
    session: so.Session,
    appointment: Appointment,
    agent_id: int,
    actor: Actor,
    *,
    replaces: int | None = None,
    note: str = "",
) -> WorkOrderTask:
    """Give the agent a task on the appointment (its hold is made by the caller) and
    write the assignment on the timeline."""
    return _add_task(
        session,
        appointment,
        actor,
        "assigned",
        {"field": "agent", "old": replaces, "new": agent_id, "note": note},
        agent_id=agent_id,
        title=appointment.service.name,
        status="assigned",
        due_at=appointment.planned_start,
    )


def queue_for_scheduler(
    session: so.Session, appointment: Appointment, title: str, actor: Actor
) -> WorkOrderTask:
    """Put a task for the scheduling team in its queue."""
    return _add_task(
        session,
        appointment,
        actor,
        "queued",
        {"field": "queue", "new": SCHEDULING_QUEUE, "note": title},
        queue_id=scheduling_queue_id(session),
        title=title[:200],
        status="open",
        due_at=now_utc() + timedelta(hours=4),
    )


def _add_task(
    session: so.Session, appointment: Appointment, actor: Actor, action: str, change: dict, **task
) -> WorkOrderTask:
    """A new task on the appointment's work order, written on the timeline (`change`:
    the field, old and new values and note of the entry)."""
    added = WorkOrderTask(
        work_order_id=appointment.work_order_id, appointment_id=appointment.id, **task
    )
    session.add(added)
    session.flush()
    record(session, added, action, actor=actor.user, work_order_id=added.work_order_id, **change)
    return added


def close_queue_tasks(
    session: so.Session, appointment: Appointment, actor: Actor, note: str = "a new time was found"
) -> None:
    """The scheduling team's tasks on the appointment are done."""
    for task in session.scalars(
        sa.select(WorkOrderTask).where(
            WorkOrderTask.appointment_id == appointment.id,
            in_scheduling_queue(),
            WorkOrderTask.status.in_(ACTIVE_TASK_STATES),
        )
    ):
        set_task(session, task, "done", actor, note=note)


# The scheduling team's task when an appointment comes back to it, by the event told.
HANDED_BACK = {
    "needs_reschedule": "Find a new time for {number}",
    "declined_by_customer": "Customer declined {number}: agree a new time",
    "no_show": "Customer missed {number}",
    "work_not_done": "Work not done on {number}: {note}",
}


def hand_back(
    session: so.Session, appointment: Appointment, actor: Actor, event: str, note: str = ""
) -> None:
    """The scheduler takes it from here: the work order goes back (to new, or to in
    progress when work was not done), a task lands in the queue, everyone is told."""
    reopened = "in_progress" if event == "work_not_done" else "new"
    set_work_order(session, appointment.work_order, reopened, actor)
    title = HANDED_BACK[event].format(number=appointment.number, note=note)
    queue_for_scheduler(session, appointment, title, actor)
    announce(session, event, appointment, actor=actor.user, note=note)
    session.flush()


def park(session: so.Session, appointment: Appointment, actor: Actor, why: str) -> None:
    """The appointment needs a new time: it holds nobody and waits in the queue."""
    release(session, appointment, actor)
    move(session, appointment, "needs_reschedule", actor, note=why)
    hand_back(session, appointment, actor, "needs_reschedule", why)
