"""The back office works an order's back-office work orders: take, note, finish.

Approval makes a back-office work order (owner "order") whose tasks wait in its decision
row's queue (portal/orders/work.py `_queue_tasks`). A member of that queue takes the
work (`take`: the race-proof `take_task` of each waiting task), writes work notes and
finishes it (`finish`): every active task done, the work order completed and closed in
the same transaction (back-office work needs no customer sign-off). Every move goes
through the work-order status service, so the order hears of it as a watcher
(portal/orders/watchers.py): its work notes follow, and it is ready to close when this
was its last open work.
"""

from __future__ import annotations

import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.errors import Conflict, Invalid, NotFound
from portal.orders.models import DecisionRow, Order, OrderWorkOrder
from portal.orders.queries import link_of
from portal.queues.models import Queue
from portal.queues.services import is_member
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrder, WorkOrderTask
from portal.workorders.queue_tasks import take_task
from portal.workorders.services import record
from portal.workorders.status import set_task_status, set_work_order_status

NOT_FOUND = "There is no such work order."
NOTE_MAX = 5000
# A back-office work order still to be done.
OPEN_WORK = ("new", "scheduled", "in_progress")


def queue_of(session: so.Session, work_order: WorkOrder) -> Queue | None:
    """The queue an order's work order was sent to: its decision row's (or, the row
    gone, the queue one of its tasks waits in); None for a field work order."""
    link = link_of(session, work_order.id)
    if link is None:
        return None
    if link.decision_row_id is not None:
        row = session.get(DecisionRow, link.decision_row_id)
        if row is not None and row.queue_id is not None:
            return session.get(Queue, row.queue_id)
    for task in work_order.tasks:
        if task.queue is not None:
            return task.queue
    return None


def order_of(session: so.Session, work_order: WorkOrder) -> Order | None:
    link = link_of(session, work_order.id)
    return session.get(Order, link.order_id) if link is not None else None


def link_for(session: so.Session, work_order: WorkOrder) -> OrderWorkOrder | None:
    return link_of(session, work_order.id)


def may_work(session: so.Session, user: User, work_order: WorkOrder, queue: Queue) -> bool:
    """A member or the lead of the queue, whoever took one of its tasks, a manager."""
    if user is None or not user.active or not user.is_team:
        return False
    if user.has_role("manager") or queue.lead_id == user.id or is_member(session, queue, user):
        return True
    return any(task.user_id == user.id for task in work_order.tasks)


def work_order_for_member(session: so.Session, user: User, work_order_id: int) -> WorkOrder:
    """An order's back-office work order, for those who may work it; NotFound else."""
    work_order = session.get(WorkOrder, work_order_id)
    if work_order is None or work_order.owner_kind != "order" or not work_order.tasks:
        raise NotFound(NOT_FOUND)
    queue = queue_of(session, work_order)
    if queue is None or not may_work(session, user, work_order, queue):
        raise NotFound(NOT_FOUND)
    return work_order


def active_tasks(work_order: WorkOrder) -> list[WorkOrderTask]:
    return sorted(
        (t for t in work_order.tasks if t.status in ACTIVE_TASK_STATES), key=lambda t: t.id
    )


def waiting_tasks(work_order: WorkOrder) -> list[WorkOrderTask]:
    """Its tasks still waiting in a queue for someone to take them."""
    return [t for t in active_tasks(work_order) if t.queue_id is not None]


def holder(work_order: WorkOrder) -> User | None:
    """Who took the work (the first of its tasks someone holds, the active ones first)."""
    tasks = active_tasks(work_order) + sorted(work_order.tasks, key=lambda t: t.id)
    return next((t.user for t in tasks if t.user is not None), None)


def take(session: so.Session, work_order: WorkOrder, by: User) -> list[WorkOrderTask]:
    """`by` takes the work: each task waiting in the queue becomes theirs (one conditional
    UPDATE each: of two members clicking at once, the second is told who took it) and
    starts; the work order is in progress ("Taken"). Returns the tasks taken."""
    if work_order.status not in OPEN_WORK:
        raise Conflict(f"{work_order.number} is {_words(work_order.status)} already.")
    waiting = waiting_tasks(work_order)
    if not waiting:
        who = holder(work_order)
        raise Conflict(
            f"{who.full_name} took this work already." if who else "Nothing here waits to be taken."
        )
    for task in waiting:
        take_task(session, task, by)
        set_task_status(session, task, "accepted", by=by)
        set_task_status(session, task, "in_progress", by=by)
    if work_order.status != "in_progress":
        set_work_order_status(session, work_order, "in_progress", by=by, why="Taken")
    session.flush()
    return waiting


def add_note(session: so.Session, work_order: WorkOrder, text: str, by: User) -> None:
    """A work note on the work order's timeline (the team sees it; the customer never)."""
    text = _clean(text, "text")
    if not text:
        raise Invalid("Write the note.", field="text")
    record(session, work_order, "work_note", actor=by, work_order_id=work_order.id, note=text)


def finish(session: so.Session, work_order: WorkOrder, by: User, note: str = "") -> None:
    """The work is done: every active task done, the work order completed and closed (no
    customer sign-off for back-office work), all through the status service."""
    if work_order.status != "in_progress":
        raise Conflict(
            "Take this work before marking it done."
            if work_order.status in ("new", "scheduled")
            else f"{work_order.number} is {_words(work_order.status)} already."
        )
    note = _clean(note, "note")
    for task in active_tasks(work_order):
        if task.status == "assigned":
            set_task_status(session, task, "accepted", by=by)
        if task.status == "accepted":
            set_task_status(session, task, "in_progress", by=by)
        set_task_status(session, task, "done", by=by, why=note)
    set_work_order_status(session, work_order, "completed", by=by, why=note)
    set_work_order_status(session, work_order, "closed", by=by, why="Back-office work is done")
    session.flush()


def _clean(text: str | None, field: str) -> str:
    text = (text or "").strip()
    if len(text) > NOTE_MAX:
        raise Invalid(f"The note is too long ({NOTE_MAX:,} characters at most).", field=field)
    return text


def _words(status: str) -> str:
    return status.replace("_", " ")
