"""The one way a work order or a task changes status.

Each change is checked against the table of moves, written on the timeline (who, when,
from which status to which) and told to the watchers of the work order's owner
(portal/workorders/watchers.py), all in the caller's transaction. Services flush and
never commit.

Work order (PRODUCT.md): new -> scheduled -> in_progress -> completed -> closed, or
cancelled; parking sends a scheduled one back to new, "work not done" sends a completed
one back to in_progress, and a new time for that work sends it back to scheduled. Work
without an appointment (a case's back-office work order) goes from new to in_progress.
Task: open -> assigned -> accepted -> in_progress -> done, or declined or cancelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy.orm as so

from portal.errors import Conflict
from portal.workorders.models import WorkOrder, WorkOrderTask
from portal.workorders.services import record
from portal.workorders.watchers import StatusChange, status_changed

if TYPE_CHECKING:
    from portal.accounts.models import User

WORK_ORDER_MOVES: dict[str, frozenset[str]] = {
    # Back-office work has no appointment: it goes from new to in progress when taken.
    "new": frozenset({"scheduled", "in_progress", "cancelled"}),
    "scheduled": frozenset({"new", "in_progress", "cancelled"}),
    "in_progress": frozenset({"completed", "scheduled", "cancelled"}),
    "completed": frozenset({"closed", "in_progress"}),
    "closed": frozenset(),
    "cancelled": frozenset(),
}
TASK_MOVES: dict[str, frozenset[str]] = {
    "open": frozenset({"assigned", "done", "cancelled"}),
    "assigned": frozenset({"accepted", "declined", "cancelled"}),
    "accepted": frozenset({"in_progress", "declined", "cancelled"}),
    "in_progress": frozenset({"done", "cancelled"}),
    "done": frozenset(),
    "declined": frozenset(),
    "cancelled": frozenset(),
}


class StatusRefused(Conflict):
    """The work order or task is not in a status that allows this move."""


def set_work_order_status(
    session: so.Session, work_order: WorkOrder, new: str, *, by: User | None = None, why: str = ""
) -> None:
    """Move the work order to `new` (nothing happens when it is there already)."""
    if work_order.status != new:
        _change(session, work_order, work_order.id, WORK_ORDER_MOVES, new, by, why)


def set_task_status(
    session: so.Session, task: WorkOrderTask, new: str, *, by: User | None = None, why: str = ""
) -> None:
    """Move the task to `new`."""
    _change(session, task, task.work_order_id, TASK_MOVES, new, by, why)


def _change(session, subject, work_order_id: int, moves, new: str, by, why: str) -> None:
    old = subject.status
    if new not in moves[old]:
        what = "work order" if isinstance(subject, WorkOrder) else "task"
        raise StatusRefused(f"This {what} is {_words(old)}, so it cannot become {_words(new)}.")
    subject.status = new
    values = {"field": "status", "old": old, "new": new, "note": why}
    record(session, subject, "status", actor=by, work_order_id=work_order_id, **values)
    status_changed(session, StatusChange(subject, work_order_id, old, new, by, why))


def _words(status: str) -> str:
    return status.replace("_", " ")
