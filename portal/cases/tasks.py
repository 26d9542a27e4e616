"""Tasks of a case (the aging reps' routine): at most one active at a time (the database
enforces it: portal/workorders/models.py), completed when the case closes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.cases.models import Case
from portal.errors import Invalid
from portal.queues.models import Queue
from portal.timeutil import now_utc
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrderTask


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
) -> WorkOrderTask:
    """A task on `case` for one user or one queue; Invalid when the case has an open task."""
    if (user is None) == (queue is None):
        raise Invalid("A task is for one person or one queue.", field="assignee")
    if open_task(session, case) is not None:
        raise Invalid("This case has an open task: complete it first.", field="task")
    task = WorkOrderTask(
        case_id=case.id,
        user_id=user.id if user else None,
        queue_id=queue.id if queue else None,
        title=title.strip()[:200] or "Follow up",
        status="assigned" if user else "open",
        due_at=due_at,
        created_at=now_utc(),
        created_by_id=by.id if by else None,
    )
    try:
        with session.begin_nested():
            session.add(task)
            session.flush()
    except sa.exc.IntegrityError:  # a concurrent maker got there first
        raise Invalid("This case has an open task: complete it first.", field="task") from None
    return task


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
