"""The SLA clocks follow cases and their back-office work orders.

Registered by the app factory: `case_moved` with portal.cases.watchers.watch_case (every
case event), `work_order_moved` with portal.workorders.watchers.watch("case", ...) (status
changes of the work orders cases own). Both run in the caller's transaction, so a change
and its milestones commit or roll back together.
"""

from __future__ import annotations

import sqlalchemy.orm as so

from portal.cases.watchers import CaseEvent
from portal.sla import lifecycle
from portal.timeutil import now_utc
from portal.workorders.models import WorkOrder
from portal.workorders.watchers import StatusChange


def case_moved(session: so.Session, event: CaseEvent) -> None:
    """Start, pause, resume, retarget or complete the case's milestones."""
    case, at = event.case, event.at
    if event.kind == "created":
        lifecycle.start_case_milestones(session, case, at)
    elif event.kind == "handed_off" and event.new:
        # `new` is the id of the work order handed to a back-office queue.
        lifecycle.ensure_work_order_milestones(session, int(event.new))
    elif event.kind == "status" and event.meaning == "waiting":
        lifecycle.pause_case_milestones(session, case, at, note=f"Status {event.new}")
    elif event.kind == "status" and event.meaning == "open":
        lifecycle.resume_case_milestones(session, case, at, note=f"Status {event.new}")
    elif event.kind == "closed" or (event.kind == "status" and event.meaning == "closed"):
        lifecycle.complete_milestones(session, at, case_id=case.id, note="Case closed")
    elif event.kind == "priority":
        lifecycle.change_case_priority(session, case, at)
    elif event.kind == "responded" or (
        event.kind == "comment"
        and event.new == "customer"
        and event.by is not None
        and event.by.is_team
    ):
        lifecycle.complete_milestones(
            session, at, case_id=case.id, kinds=("first_response",), note="Staff replied"
        )


def work_order_moved(session: so.Session, change: StatusChange) -> None:
    """Follow a back-office work order: taken, completed or cancelled."""
    if not isinstance(change.subject, WorkOrder):
        return  # a task's move; the work order's own move says what matters
    at = now_utc()
    lifecycle.ensure_work_order_milestones(session, change.work_order_id)
    if change.new == "in_progress":
        lifecycle.complete_milestones(
            session,
            at,
            work_order_id=change.work_order_id,
            kinds=("first_response",),
            note="Taken",
        )
    elif change.new in ("completed", "closed"):
        lifecycle.complete_milestones(
            session, at, work_order_id=change.work_order_id, note="Work order completed"
        )
    elif change.new == "cancelled":
        lifecycle.complete_milestones(
            session,
            at,
            work_order_id=change.work_order_id,
            note="Work order cancelled",
            success=False,
        )
