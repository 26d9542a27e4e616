"""Tasks of a case (the aging reps' routine): at most one active at a time (the database
enforces it: portal/workorders/models.py), completed when the case closes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.cases.models import Case
from portal.errors import Conflict, Invalid, NotAllowed
from portal.notifications.services import notify_user
from portal.queues.models import Queue
from portal.queues.services import may_work, notify_queue
from portal.timeutil import now_utc, to_local, zone
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrderTask
from portal.workorders.services import record


def open_task(session: so.Session, case: Case) -> WorkOrderTask | None:
    return session.scalar(
        sa.select(WorkOrderTask).where(
            WorkOrderTask.case_id == case.id, WorkOrderTask.status.in_(ACTIVE_TASK_STATES)
        )
    )


def create_case_task(
    session: so.Session,
    case: Case,
    *,
    title: str,
    due_at: datetime | None,
    user: User | None = None,
    queue: Queue | None = None,
    by: User | None = None,
    fresh: bool = False,
) -> WorkOrderTask:
    """A task on `case` for one user or one queue; Invalid when the case has an open task.

    `fresh`: the case was opened in this transaction, so it has no task yet: the task is
    added without looking first (the rules open thousands of cases in one import; the
    unique index still guards)."""
    if (user is None) == (queue is None):
        raise Invalid("A task is for one person or one queue.", field="assignee")
    if fresh:
        task = _task_row(case, title, due_at, user, queue, by)
        session.add(task)
        session.flush()
        return task
    if open_task(session, case) is not None:
        raise Invalid("This case has an open task: complete it first.", field="task")
    task = _task_row(case, title, due_at, user, queue, by)
    try:
        with session.begin_nested():
            session.add(task)
            session.flush()
    except sa.exc.IntegrityError:  # a concurrent maker got there first
        raise Invalid("This case has an open task: complete it first.", field="task") from None
    return task


def _task_row(case, title, due_at, user, queue, by) -> WorkOrderTask:
    return WorkOrderTask(
        case_id=case.id,
        user_id=user.id if user else None,
        queue_id=queue.id if queue else None,
        title=title.strip()[:200] or "Follow up",
        status="assigned" if user else "open",
        due_at=due_at,
        created_at=now_utc(),
        created_by_id=by.id if by else None,
    )


def complete_open_tasks(session: so.Session, case: Case, *, by: User | None) -> int:
    """Mark every active task of `case` done (the case closed); how many there were."""
    at = now_utc()
    result = session.execute(
        sa.update(WorkOrderTask)
        .where(WorkOrderTask.case_id == case.id, WorkOrderTask.status.in_(ACTIVE_TASK_STATES))
        .values(status="done", completed_at=at, completed_by_id=by.id if by else None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# -- the reps' routine: complete a task, and hand the next one on in the same step ---------

# Where a case task's next one may go (the panel's "for" choices).
FOR_ME, FOR_OWNER, FOR_HANDED_BY, FOR_QUEUE = "me", "owner", "handed_by", "queue"
FOR_CHOICES = (FOR_ME, FOR_OWNER, FOR_HANDED_BY, FOR_QUEUE)
# A next task given a day is due at this local time of that day (the viewer's zone).
DUE_HOUR = time(17)
TITLE_MAX = 200
NOTE_MAX = 1000


@dataclass(frozen=True)
class NextTask:
    """The task that follows the one being completed: `assignee` is "me" (who completes),
    "owner" (the account's owner, sales), "handed_by" (who created the task being
    completed) or "queue" (the case's owner queue)."""

    title: str
    due_at: datetime | None
    assignee: str = FOR_ME


def due_at_end_of_day(day: date, time_zone: str) -> datetime:
    """17:00 on `day` in `time_zone`, as a UTC instant (a task given a date is due then)."""
    return datetime.combine(day, DUE_HOUR, tzinfo=zone(time_zone)).astimezone(UTC)


def may_work_task(session: so.Session, case: Case, task: WorkOrderTask, user: User) -> bool:
    """The task's own user, a member of its queue or of the case's owner queue, the
    account's owner and managers may complete it and create the next."""
    if not user.is_team or not user.active:
        return False
    if user.has_role("manager") or task.user_id == user.id:
        return True
    if case.account is not None and case.account.owner_user_id == user.id:
        return True
    for queue_id in (task.queue_id, case.owner_queue_id):
        queue = session.get(Queue, queue_id) if queue_id is not None else None
        if queue is not None and may_work(session, queue, user):
            return True
    return False


def next_task_choices(session: so.Session, case: Case, task: WorkOrderTask | None, user: User):
    """(value, label) of where a next task may go from `user`'s point of view; a choice
    that names nobody (no account owner, no queue) or names `user` again is left out."""
    choices = [(FOR_ME, "Me")]
    owner = case.account.owner if case.account is not None else None
    if owner is not None and owner.active and owner.id != user.id:
        choices.append((FOR_OWNER, f"Account owner ({owner.full_name})"))
    handed_by = _handed_by(session, task)
    if handed_by is not None and handed_by.active and handed_by.id != user.id:
        choices.append((FOR_HANDED_BY, f"Back to {handed_by.full_name}"))
    if case.owner_queue is not None:
        choices.append((FOR_QUEUE, f"The queue ({case.owner_queue.name})"))
    return choices


def complete_task(
    session: so.Session,
    task: WorkOrderTask,
    *,
    by: User,
    note: str = "",
    next: NextTask | None = None,  # noqa: A002 (the brief's name)
) -> WorkOrderTask | None:
    """Mark the case's task done and, with `next`, create the next task, in one step (the
    caller commits both or neither). Writes one line on the case's timeline and tells
    whoever the next task is for. Returns the next task, or None.

    Refused: a task that is not a case's (Invalid), someone who may not work it
    (NotAllowed: the routes 404 before), a task done a moment ago by someone else, or a
    next task when the case gained another meanwhile (Conflict, with who did it)."""
    case = session.get(Case, task.case_id) if task.case_id is not None else None
    if case is None:
        raise Invalid("This task is not a case's task.", field="task")
    if not may_work_task(session, case, task, by):
        raise NotAllowed(
            "Only the task's holder, its queue, the account's owner or a manager can complete it."
        )
    note = _clean(note, NOTE_MAX, "note")
    if next is not None:
        if case.is_closed:
            raise Conflict(f"Case {case.number} is closed: it takes no new task.")
        target = _assignee(session, case, task, by, next.assignee)
        title = _clean(next.title, TITLE_MAX, "title")
        if not title:
            raise Invalid("Write what the next task is.", field="title")
    at = now_utc()
    # A conditional UPDATE: of two people completing at once, one does, the other is told.
    done = session.execute(
        sa.update(WorkOrderTask)
        .where(WorkOrderTask.id == task.id, WorkOrderTask.status.in_(ACTIVE_TASK_STATES))
        .values(status="done", completed_at=at, completed_by_id=by.id)
        .execution_options(synchronize_session=False)
    )
    session.refresh(task)
    if done.rowcount != 1:
        who = session.get(User, task.completed_by_id) if task.completed_by_id else None
        raise Conflict(
            f"“{task.title}” was completed already"
            + (f" by {who.full_name}." if who is not None else ".")
            + " Reload the case to see its task now."
        )
    line = f"{by.full_name} completed ‘{task.title}’"
    created = None
    if next is not None:
        user, queue = target
        created = create_case_task(
            session, case, title=title, due_at=next.due_at, user=user, queue=queue, by=by
        )
        whom = user.full_name if user is not None else queue.name
        due = f", due {to_local(next.due_at, by.time_zone):%a %-d %b}" if next.due_at else ""
        line += f"; next: ‘{title}’ for {whom}{due}"
    if note:
        line += f". {note}"
    record(session, case, "task", actor=by, note=line)
    if created is not None:
        _tell(session, case, created, by)
    session.flush()
    return created


def _assignee(
    session: so.Session, case: Case, task: WorkOrderTask, by: User, assignee: str
) -> tuple[User | None, Queue | None]:
    if assignee == FOR_ME:
        return by, None
    if assignee == FOR_OWNER:
        owner = case.account.owner if case.account is not None else None
        if owner is None or not owner.active:
            raise Invalid("This account has no owner to hand the task to.", field="assignee")
        return owner, None
    if assignee == FOR_HANDED_BY:
        handed_by = _handed_by(session, task)
        if handed_by is None or not handed_by.active:
            raise Invalid("Nobody handed this task on: choose someone else.", field="assignee")
        return handed_by, None
    if assignee == FOR_QUEUE:
        if case.owner_queue is None:
            raise Invalid("This case is not owned by a queue.", field="assignee")
        return None, case.owner_queue
    raise Invalid("Choose who the next task is for.", field="assignee")


def _handed_by(session: so.Session, task: WorkOrderTask | None) -> User | None:
    if task is None or task.created_by_id is None:
        return None
    return session.get(User, task.created_by_id)


def _tell(session: so.Session, case: Case, task: WorkOrderTask, by: User) -> None:
    """The next task's holder (or its queue's members) hear of it, unless it is `by`."""
    message = f"{by.full_name} gave you ‘{task.title}’ on {case.number}"
    link = f"/cases/{case.id}#task-h"
    if task.user_id is not None and task.user_id != by.id:
        notify_user(session, task.user_id, message, link)
    elif task.queue_id is not None:
        queue = session.get(Queue, task.queue_id)
        notify_queue(
            session,
            queue,
            f"Waiting in {queue.name}: ‘{task.title}’ on {case.number}",
            link,
            dedupe_key=f"case-task:{task.id}",
            skip_user_id=by.id,
        )


def _clean(value: str | None, limit: int, field: str) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise Invalid(f"That is too long ({limit:,} characters at most).", field=field)
    return text
