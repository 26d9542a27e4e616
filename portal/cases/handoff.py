"""A case hands work to a back-office queue, and follows it until it is done.

`send_to_back_office` makes a work order the case owns (owner_kind "case") with one task
waiting in the queue. A member takes it, writes work notes and completes it, all through
the work-order status service. The case hears of the work order's moves only as a
watcher (`case_follows_its_work`, registered with `watch("case", ...)` by the app
factory): the work-order code knows nothing of cases. When the last open back-office
work order of a case is done (completed or cancelled), the case closes.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.cases.events import emit
from portal.cases.events import record as record_case_event
from portal.cases.models import Case, CaseWorkOrder
from portal.cases.services import DESCRIPTION_MAX, clean_note, clean_text, close_case
from portal.cases.types import closed_status
from portal.errors import Conflict, Invalid, NotFound
from portal.queues.models import Queue, QueueMember
from portal.timeutil import now_utc
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrder, WorkOrderTask
from portal.workorders.queue_tasks import take_task
from portal.workorders.services import record
from portal.workorders.status import set_task_status, set_work_order_status
from portal.workorders.watchers import StatusChange

# A back-office work order still to be done.
OPEN_WORK = ("new", "scheduled", "in_progress")
DONE_WORK = ("completed", "closed", "cancelled")


def send_to_back_office(
    session: so.Session,
    case: Case,
    queue: Queue,
    summary: str,
    description: str,
    by: User | None,
) -> WorkOrder:
    """Hand part of the case to `queue`: a work order with one task waiting there."""
    if case.is_closed:
        raise Conflict(f"Case {case.number} is closed: reopen it before handing work on.")
    summary = clean_text(summary, "summary", "what the back office should do", 200)
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(
            f"The description is too long ({DESCRIPTION_MAX:,} characters at most).",
            field="description",
        )
    at = now_utc()
    work_order = WorkOrder(
        owner_kind="case",
        account_id=case.account_id,
        contact_id=case.contact_id,
        status="new",
        summary=summary,
        description=description,
        created_at=at,
        updated_at=at,
    )
    session.add(work_order)
    session.flush()
    task = WorkOrderTask(
        work_order_id=work_order.id, queue_id=queue.id, title=summary, status="open", created_at=at
    )
    link = CaseWorkOrder(
        case_id=case.id, work_order_id=work_order.id, queue_id=queue.id, created_at=at
    )
    session.add_all([task, link])
    session.flush()
    record(
        session,
        work_order,
        "created",
        actor=by,
        work_order_id=work_order.id,
        note=f"From case {case.number}: {case.subject}",
    )
    record(
        session,
        case,
        "handed_off",
        actor=by,
        note=f"{work_order.number} to {queue.name}: {summary}",
    )
    emit(
        session,
        case,
        "handed_off",
        at=at,
        by=by,
        new=str(work_order.id),
        note=summary,
        extra={"work_order": work_order.id, "queue": queue.id},
    )
    return work_order


# -- the back office's side ----------------------------------------------------------


def link_of(session: so.Session, work_order: WorkOrder) -> CaseWorkOrder | None:
    return session.scalar(
        sa.select(CaseWorkOrder).where(CaseWorkOrder.work_order_id == work_order.id)
    )


def is_member(session: so.Session, queue_id: int, user: User) -> bool:
    return (
        session.scalar(
            sa.select(QueueMember.user_id).where(
                QueueMember.queue_id == queue_id, QueueMember.user_id == user.id
            )
        )
        is not None
    )


def work_order_for_member(session: so.Session, user: User, work_order_id: int) -> WorkOrder:
    """A case's back-office work order, for a member or the lead of its queue, or the
    person who took it; NotFound for anyone else."""
    work_order = session.get(WorkOrder, work_order_id)
    link = link_of(session, work_order) if work_order is not None else None
    if link is None or not may_work(session, user, link):
        raise NotFound("There is no such work order.")
    return work_order


def may_work(session: so.Session, user: User, link: CaseWorkOrder) -> bool:
    if link.queue.lead_id == user.id or is_member(session, link.queue_id, user):
        return True
    return any(task.user_id == user.id for task in link.work_order.tasks)


def queue_task(work_order: WorkOrder) -> WorkOrderTask | None:
    """The work order's task still to be done (waiting in the queue or taken)."""
    for task in work_order.tasks:
        if task.status in ACTIVE_TASK_STATES:
            return task
    return None


def take_work_order(session: so.Session, work_order: WorkOrder, by: User) -> WorkOrderTask:
    """A member of the queue takes the work: the task becomes theirs and the work order
    is in progress. Two members taking at once: one gets it, the other a Conflict."""
    link = link_of(session, work_order)
    if link is None:
        raise NotFound("There is no such work order.")
    if not is_member(session, link.queue_id, by):
        raise Conflict(f"Only a member of {link.queue.name} can take this work.")
    task = queue_task(work_order)
    if task is None or task.queue_id is None:
        raise Conflict("Someone has taken this work already.")
    take_task(session, task, by)
    set_task_status(session, task, "accepted", by=by)
    set_task_status(session, task, "in_progress", by=by)
    set_work_order_status(session, work_order, "in_progress", by=by, why="Taken")
    return task


def add_work_note(session: so.Session, work_order: WorkOrder, text: str, by: User) -> None:
    """A note on the work order's timeline (the team sees it; the customer never)."""
    text = clean_note(text)
    if not text:
        raise Invalid("Write the note.", field="text")
    record(session, work_order, "work_note", actor=by, work_order_id=work_order.id, note=text)


def complete_work_order(
    session: so.Session, work_order: WorkOrder, by: User, note: str = ""
) -> None:
    """The work is done: its task done, the work order completed (the case hears of it)."""
    if work_order.status != "in_progress":
        raise Conflict(
            "Take this work before completing it."
            if work_order.status == "new"
            else f"This work order is {work_order.status.replace('_', ' ')} already."
        )
    note = clean_note(note)
    task = queue_task(work_order)
    if task is not None:
        set_task_status(session, task, "done", by=by, why=note)
    set_work_order_status(session, work_order, "completed", by=by, why=note)


def cancel_work_order(session: so.Session, work_order: WorkOrder, by: User, note: str) -> None:
    """The case no longer needs this work: its task and it are cancelled."""
    if work_order.status not in OPEN_WORK:
        raise Conflict(f"This work order is {work_order.status.replace('_', ' ')} already.")
    note = clean_note(note)
    if not note:
        raise Invalid("Say why the work is no longer needed.", field="note")
    task = queue_task(work_order)
    if task is not None:
        set_task_status(session, task, "cancelled", by=by, why=note)
    set_work_order_status(session, work_order, "cancelled", by=by, why=note)


# -- the watcher ---------------------------------------------------------------------


def case_follows_its_work(session: so.Session, change: StatusChange) -> None:
    """Watcher of the work orders cases own: a finished one is noted on its case, and the
    case closes when none of its back-office work is left open."""
    subject = change.subject
    if not isinstance(subject, WorkOrder) or change.new not in ("completed", "cancelled"):
        return
    link = link_of(session, subject)
    if link is None:
        return
    case = link.case
    done = "completed" if change.new == "completed" else "cancelled"
    who = f" by {change.by.full_name}" if change.by is not None else ""
    why = f": {change.why}" if change.why else ""
    note = f"{subject.number} ({link.queue.name}) {done}{who}{why}"
    record(
        session,
        case,
        "work_note",
        actor=change.by,
        note=note,
    )
    at = now_utc()
    record_case_event(
        session,
        case,
        "work_done",
        at=at,
        by=change.by,
        new=done,
        note=note,
        extra={"work_order": subject.id},
    )
    if case.is_closed or _open_work_left(session, case, subject):
        return
    status = closed_status(case.case_type).name
    close_case(session, case, change.by, "All back-office work is done.", status)


def _open_work_left(session: so.Session, case: Case, finished: WorkOrder) -> bool:
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(CaseWorkOrder)
            .join(WorkOrder, WorkOrder.id == CaseWorkOrder.work_order_id)
            .where(
                CaseWorkOrder.case_id == case.id,
                WorkOrder.id != finished.id,
                WorkOrder.status.in_(OPEN_WORK),
            )
        )
        > 0
    )
