"""What happens to milestones as cases and back-office work orders move.

These are the service functions (session first, flush, never commit) the watchers in
portal/sla/watchers.py call for case events and work-order status changes; pages and the
API may call them as well. Each locks the milestones it changes, appends to their logs and
refreshes their cached state (portal/sla/services.py).

* A new case runs under the entitlement process its rules choose (case type, priority,
  account; the lowest rank wins): one milestone per definition, its target by the case's
  priority, counted on the process's calendar (around the clock when it has none).
* A work order a case hands to a back-office queue runs under a "work_order" process
  (conditions on the queue too), counted on the process's calendar or else the queue's.
* The case's clocks pause while its status means "waiting" (on the customer) and resume
  when it means "open" again; a back-office work order's clocks do not pause with the case.
* First response completes with the first customer-visible reply by staff; resolution
  (and anything still open) when the case closes. A work order's first response completes
  when a member takes it (in progress), everything when it completes; a cancelled one
  completes with no success actions.
* A priority change appends a "target" event to every open milestone of the case and of
  its back-office work orders: the due time is recomputed from the log, not from now.
* A reopened case keeps its completed milestones: their record is final.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.cases.models import Case, CaseWorkOrder
from portal.queues.models import Queue
from portal.sla.models import EntitlementProcess, Milestone
from portal.sla.services import OPEN_STATES, Lookup, append_event, refresh
from portal.workorders.models import WorkOrder


def choose_process(
    session: so.Session,
    *,
    applies_to: str,
    case_type_id: int | None,
    priority: str | None,
    account_id: int | None,
    queue_id: int | None = None,
) -> EntitlementProcess | None:
    """The active process whose conditions all hold (a condition left empty holds for
    anything), lowest rank first, then the oldest; None when no process applies."""

    def holds(column, value):
        return sa.or_(column.is_(None), column == value) if value is not None else column.is_(None)

    return session.scalar(
        sa.select(EntitlementProcess)
        .where(
            EntitlementProcess.applies_to == applies_to,
            EntitlementProcess.active.is_(True),
            holds(EntitlementProcess.case_type_id, case_type_id),
            holds(EntitlementProcess.priority, priority),
            holds(EntitlementProcess.account_id, account_id),
            holds(EntitlementProcess.queue_id, queue_id),
        )
        .order_by(EntitlementProcess.rank, EntitlementProcess.id)
        .limit(1)
    )


def start_case_milestones(
    session: so.Session, case: Case, at: datetime, *, lookup: Lookup | None = None
) -> list[Milestone]:
    """Start the case's milestones under the process its rules choose (none if no process
    applies, or if they were started already)."""
    if _exists(session, Milestone.case_id == case.id):
        return []
    process = choose_process(
        session,
        applies_to="case",
        case_type_id=case.case_type_id,
        priority=case.priority,
        account_id=case.account_id,
    )
    if process is None:
        return []
    milestones = _start(session, process, process.calendar_id, case.priority, at, case_id=case.id)
    _refresh_all(session, milestones, at, lookup)
    return milestones


def start_work_order_milestones(
    session: so.Session,
    case: Case,
    work_order: WorkOrder,
    queue: Queue,
    at: datetime,
    *,
    lookup: Lookup | None = None,
) -> list[Milestone]:
    """Start the internal milestones of a work order the case handed to `queue`, on the
    process's calendar or else the queue's (none if no process applies or started)."""
    if _exists(session, Milestone.work_order_id == work_order.id):
        return []
    process = choose_process(
        session,
        applies_to="work_order",
        case_type_id=case.case_type_id,
        priority=case.priority,
        account_id=case.account_id,
        queue_id=queue.id,
    )
    if process is None:
        return []
    calendar_id = process.calendar_id or queue.calendar_id
    milestones = _start(
        session, process, calendar_id, case.priority, at, work_order_id=work_order.id
    )
    _refresh_all(session, milestones, at, lookup)
    return milestones


def ensure_work_order_milestones(
    session: so.Session, work_order_id: int, *, lookup: Lookup | None = None
) -> list[Milestone]:
    """Start a handed-out work order's milestones if nobody did, dated from the hand-off
    (the link's creation), so a late start still counts from the moment it landed."""
    link = session.scalar(
        sa.select(CaseWorkOrder).where(CaseWorkOrder.work_order_id == work_order_id)
    )
    if link is None:
        return []
    return start_work_order_milestones(
        session, link.case, link.work_order, link.queue, link.created_at, lookup=lookup
    )


def _exists(session: so.Session, condition) -> bool:
    return session.scalar(sa.select(sa.exists().where(condition))) is True


def _start(session, process, calendar_id, priority, at, **subject) -> list[Milestone]:
    milestones = []
    for definition in process.definitions:
        minutes = definition.target_for(priority)
        milestone = Milestone(
            definition=definition,
            calendar_id=calendar_id,
            kind=definition.kind,
            name=definition.name,
            warn_percent=definition.warn_percent,
            state="pending",
            paused=False,
            target_minutes=minutes,
            used_seconds=0,
            started_at=at,
            **subject,
        )
        append_event(milestone, "start", at, minutes=minutes, note=f"Process {process.name}")
        session.add(milestone)
        milestones.append(milestone)
    session.flush()
    return milestones


def _refresh_all(session, milestones, at, lookup, *, success: bool = True) -> None:
    if not milestones:
        return
    lookup = lookup or Lookup(session)
    lookup.preload(milestones)
    for milestone in milestones:
        refresh(session, milestone, at, lookup, success=success)
    session.flush()


# --- changes to running milestones -----------------------------------------------------------


def open_milestones(
    session: so.Session, *, case_id: int | None = None, work_order_id: int | None = None
) -> list[Milestone]:
    """The open milestones of a case or of a work order, locked for this transaction."""
    subject = (
        Milestone.case_id == case_id
        if case_id is not None
        else Milestone.work_order_id == work_order_id
    )
    return list(
        session.scalars(
            sa.select(Milestone)
            .where(subject, Milestone.state.in_(OPEN_STATES))
            .order_by(Milestone.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def pause_case_milestones(session: so.Session, case: Case, at: datetime, note: str = "") -> int:
    """Stop the case's running clocks (it waits on the customer); returns how many."""
    changed = [m for m in open_milestones(session, case_id=case.id) if not m.paused]
    for milestone in changed:
        append_event(milestone, "pause", at, note=note)
    _refresh_all(session, changed, at, None)
    return len(changed)


def resume_case_milestones(session: so.Session, case: Case, at: datetime, note: str = "") -> int:
    """Start the case's paused clocks again; returns how many."""
    changed = [m for m in open_milestones(session, case_id=case.id) if m.paused]
    for milestone in changed:
        append_event(milestone, "resume", at, note=note)
    _refresh_all(session, changed, at, None)
    return len(changed)


def complete_milestones(
    session: so.Session,
    at: datetime,
    *,
    case_id: int | None = None,
    work_order_id: int | None = None,
    kinds: tuple[str, ...] | None = None,
    note: str = "",
    success: bool = True,
) -> int:
    """Complete the open milestones (of `kinds`, or all) of a case or a work order;
    returns how many. `success=False` runs no success actions (a cancelled work order)."""
    changed = [
        m
        for m in open_milestones(session, case_id=case_id, work_order_id=work_order_id)
        if kinds is None or m.kind in kinds
    ]
    for milestone in changed:
        append_event(milestone, "complete", at, note=note)
    _refresh_all(session, changed, at, None, success=success)
    return len(changed)


def change_case_priority(session: so.Session, case: Case, at: datetime) -> int:
    """Give the open milestones of the case and of its back-office work orders the targets
    of the case's (new) priority; returns how many changed."""
    work_orders = session.scalars(
        sa.select(CaseWorkOrder.work_order_id).where(CaseWorkOrder.case_id == case.id)
    ).all()
    milestones = open_milestones(session, case_id=case.id)
    for work_order_id in work_orders:
        milestones += open_milestones(session, work_order_id=work_order_id)
    changed = []
    for milestone in milestones:
        if milestone.definition is None:
            continue  # its process was removed: it keeps the target it has
        minutes = milestone.definition.target_for(case.priority)
        if minutes != milestone.target_minutes:
            append_event(milestone, "target", at, minutes=minutes, note=f"Priority {case.priority}")
            changed.append(milestone)
    _refresh_all(session, changed, at, None)
    return len(changed)


# --- for pages -------------------------------------------------------------------------------


def milestones_of_case(session: so.Session, case: Case) -> list[Milestone]:
    """The case's own milestones, first response first."""
    return list(
        session.scalars(
            sa.select(Milestone)
            .where(Milestone.case_id == case.id)
            .order_by(Milestone.kind, Milestone.id)
        )
    )


def milestones_of_work_orders(session: so.Session, work_order_ids: list[int]) -> list[Milestone]:
    """The internal milestones of these work orders."""
    if not work_order_ids:
        return []
    return list(
        session.scalars(
            sa.select(Milestone)
            .where(Milestone.work_order_id.in_(work_order_ids))
            .order_by(Milestone.work_order_id, Milestone.kind, Milestone.id)
        )
    )
