"""Tasks and queues: work lands in a queue, a member takes it, a holder hands it on.

Here rather than in portal/queues because a task is the spine's: the queues package sits
a floor below (the task model points at a queue) and may not import it. Every status
change goes through portal/workorders/status.py, so the watchers hear of it; each move is
written on the timeline; services flush and never commit.

- `assign_task_to_queue(session, task, queue, by)`: a new (or open) task waits in the
  queue; its members are told (in the portal and by e-mail).
- `take_task(session, task, user)`: a member (or a manager) takes a waiting task; it is
  theirs (`user_id`), and open -> assigned. Race-proof: one conditional UPDATE ... WHERE
  queue_id = :queue, so of two members clicking at once one takes it and the other is
  told who did.
- `hand_task(session, task, to_user=... | to_queue=..., by, note)`: the holder (or a
  member of the task's queue, or a manager) hands the task on; the receiver is told.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import TEAM_ROLES, User
from portal.errors import Conflict, Invalid, NotAllowed
from portal.notifications.services import notify_user
from portal.queues.models import Queue
from portal.queues.services import may_work, notify_queue
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrderTask
from portal.workorders.services import record
from portal.workorders.status import set_task_status

# Where a notice about a waiting task points when the caller names no page: "My tasks",
# whose "Waiting in your queues" list has the Take button.
WAITING_LINK = "/staff/#waiting-h"
NOTE_MAX = 1000


def assign_task_to_queue(
    session: so.Session,
    task: WorkOrderTask,
    queue: Queue,
    by: User | None,
    *,
    link: str = "",
    note: str = "",
) -> WorkOrderTask:
    """Put an open task (new, or taken back from whoever held it) in `queue` and tell the
    queue's members. A task already started cannot wait in a queue: hand it on with
    `hand_task(to_queue=...)`, which starts a fresh task there."""
    if task.status is None:  # a new task: open until someone takes it
        task.status = "open"
    if task.status != "open":
        raise Conflict(
            f"This task is {task.status.replace('_', ' ')}; only an open task can wait in a queue."
        )
    old = _holder_name(task)
    task.agent_id = task.user_id = None
    task.agent = task.user = None
    task.queue = queue
    session.add(task)
    session.flush()
    entry = record(
        session,
        task,
        "queued",
        actor=by,
        work_order_id=task.work_order_id,
        field="queue",
        old=old,
        new=queue.name,
        note=_clean_note(note),
    )
    session.flush()
    notify_queue(
        session,
        queue,
        f"Waiting in {queue.name}: {task.title}",
        link or WAITING_LINK,
        dedupe_key=f"queue-task:{task.id}:{entry.id}",
        skip_user_id=by.id if by else None,
    )
    return task


def take_task(session: so.Session, task: WorkOrderTask, user: User) -> WorkOrderTask:
    """`user` takes a task waiting in a queue: it becomes theirs, and assigned."""
    queue = task.queue
    if queue is None:
        raise Conflict(_not_waiting(task))
    if not may_work(session, queue, user):
        raise NotAllowed(f"Only members of {queue.name} can take its tasks.")
    if task.status not in ACTIVE_TASK_STATES:
        raise Conflict(f"This task is {task.status.replace('_', ' ')}; there is nothing to take.")
    taken = session.execute(
        sa.update(WorkOrderTask)
        .where(
            WorkOrderTask.id == task.id,
            WorkOrderTask.queue_id == queue.id,
            WorkOrderTask.status.in_(ACTIVE_TASK_STATES),
        )
        .values(queue_id=None, user_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        session.refresh(task)
        raise Conflict(_not_waiting(task))
    session.refresh(task)
    record(
        session,
        task,
        "taken",
        actor=user,
        work_order_id=task.work_order_id,
        field="assignee",
        old=queue.name,
        new=user.full_name,
    )
    if task.status == "open":
        set_task_status(session, task, "assigned", by=user, why=f"taken from {queue.name}")
    session.flush()
    return task


def hand_task(
    session: so.Session,
    task: WorkOrderTask,
    *,
    to_user: User | None = None,
    to_queue: Queue | None = None,
    by: User,
    note: str = "",
    link: str = "",
) -> WorkOrderTask:
    """Hand the task to a person or a queue; returns the task that now holds the work.

    To a person: the task is theirs (open -> assigned; a started one stays started, the
    receiver carries on) and they are told. To a queue: an open task waits there; a task
    already assigned or started is cancelled ("handed to ...") and a fresh open task with
    the same title, due time and record waits in the queue (a task's status never goes
    back to open). The queue's members are told."""
    if (to_user is None) == (to_queue is None):
        raise Invalid("Hand the task to one person or one queue.", field="to")
    if task.status not in ACTIVE_TASK_STATES:
        raise Conflict(
            f"This task is {task.status.replace('_', ' ')}; there is nothing to hand on."
        )
    if task.agent_id is not None:
        raise Conflict("A technician's task moves on the dispatch board, not by a hand-off.")
    _check_may_hand(session, task, by)
    note = _clean_note(note)
    if to_queue is not None:
        return _hand_to_queue(session, task, to_queue, by, note, link)
    return _hand_to_user(session, task, to_user, by, note, link)


def _hand_to_user(session, task, to_user: User, by: User, note: str, link: str):
    if to_user.role not in TEAM_ROLES or not to_user.active:
        raise Invalid(
            f"{to_user.full_name} cannot hold tasks: choose an active staff or back-office user.",
            field="to",
        )
    if task.user_id == to_user.id:
        raise Invalid(f"{to_user.full_name} holds this task already.", field="to")
    old = _holder_name(task)
    moved = session.execute(
        sa.update(WorkOrderTask)
        .where(
            WorkOrderTask.id == task.id,
            _same_holder(task),
            WorkOrderTask.status.in_(ACTIVE_TASK_STATES),
        )
        .values(queue_id=None, user_id=to_user.id, agent_id=None)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        session.refresh(task)
        raise Conflict(f"Someone moved this task a moment ago: {_holder_name(task)} holds it now.")
    session.refresh(task)
    record(
        session,
        task,
        "handed",
        actor=by,
        work_order_id=task.work_order_id,
        field="assignee",
        old=old,
        new=to_user.full_name,
        note=note,
    )
    if task.status == "open":
        set_task_status(session, task, "assigned", by=by, why=f"handed to {to_user.full_name}")
    if to_user.id != by.id:
        message = f"{by.full_name} handed you a task: {task.title}"
        if note:
            message += f" — “{note}”"
        notify_user(session, to_user.id, message, link or "/staff/")
    session.flush()
    return task


def _hand_to_queue(session, task, queue: Queue, by: User, note: str, link: str):
    if task.queue_id == queue.id:
        raise Invalid(f"This task waits in {queue.name} already.", field="to")
    if task.status == "open":
        return assign_task_to_queue(session, task, queue, by, link=link, note=note)
    set_task_status(session, task, "cancelled", by=by, why=f"handed to {queue.name}")
    fresh = WorkOrderTask(
        work_order_id=task.work_order_id,
        case_id=task.case_id,
        appointment_id=task.appointment_id,
        title=task.title,
        due_at=task.due_at,
        status="open",
        queue_id=queue.id,
    )
    session.add(fresh)
    session.flush()
    return assign_task_to_queue(session, fresh, queue, by, link=link, note=note)


def _check_may_hand(session: so.Session, task: WorkOrderTask, by: User) -> None:
    if by.has_role("manager") or (task.user_id is not None and task.user_id == by.id):
        return
    if task.queue is not None and may_work(session, task.queue, by):
        return
    raise NotAllowed("Only the task's holder, a member of its queue or a manager can hand it on.")


def _same_holder(task: WorkOrderTask) -> sa.ColumnElement[bool]:
    def same(column, value):
        return column.is_(None) if value is None else column == value

    return sa.and_(
        same(WorkOrderTask.user_id, task.user_id),
        same(WorkOrderTask.queue_id, task.queue_id),
        same(WorkOrderTask.agent_id, task.agent_id),
    )


def _holder_name(task: WorkOrderTask) -> str | None:
    if task.queue is not None:
        return task.queue.name
    if task.user is not None:
        return task.user.full_name
    if task.agent is not None:
        return task.agent.user.full_name
    return None


def _not_waiting(task: WorkOrderTask) -> str:
    if task.user is not None:
        return f"{task.user.full_name} took this task already."
    if task.queue is not None:
        return f"This task waits in {task.queue.name}."
    return "This task no longer waits in a queue."


def _clean_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise Invalid(f"Keep the note under {NOTE_MAX} characters.", field="note")
    return note
