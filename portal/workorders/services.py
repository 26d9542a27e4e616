"""The timeline of work orders and their tasks: writing entries and reading them back."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.accounts.watchers import records_at
from portal.ids import parse_id
from portal.queues.models import SCHEDULING, Queue
from portal.workforce.models import Agent
from portal.workorders.models import TimelineEntry, WorkOrder, WorkOrderTask

SCHEDULING_QUEUE = SCHEDULING


def in_scheduling_queue() -> sa.ColumnElement[bool]:
    """SQL condition: the task waits in the Scheduling queue (nobody took it yet)."""
    return WorkOrderTask.queue_id == (
        sa.select(Queue.id).where(Queue.slug == SCHEDULING).scalar_subquery()
    )


def record(
    session: so.Session,
    subject,
    action: str,
    *,
    actor: User | None,
    work_order_id: int | None = None,
    field: str | None = None,
    old=None,
    new=None,
    note: str = "",
    visibility: str = "internal",
    on_behalf_of: User | None = None,
) -> TimelineEntry:
    """Write one timeline entry: who did what to which record, and the values it changed."""
    entry = TimelineEntry(
        subject_type=type(subject).__name__,
        subject_id=subject.id,
        work_order_id=work_order_id,
        actor_id=actor.id if actor else None,
        on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
        action=action,
        field=field,
        old_value=None if old is None else str(old),
        new_value=None if new is None else str(new),
        note=note,
        visibility=visibility,
    )
    session.add(entry)
    return entry


def timeline_for_work_order(
    session: so.Session, work_order: WorkOrder, *, include_internal: bool
) -> list[TimelineEntry]:
    query = (
        sa.select(TimelineEntry)
        .where(TimelineEntry.work_order_id == work_order.id)
        .options(so.joinedload(TimelineEntry.actor))
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    if not include_internal:
        query = query.where(TimelineEntry.visibility == "customer")
    return list(session.scalars(query))


def agent_names(session: so.Session, entries: list[TimelineEntry]) -> dict[str, str]:
    """Names for the agent ids that timeline entries mention, in one query."""
    ids = {
        agent_id
        for e in entries
        if e.field == "agent"
        for v in (e.old_value, e.new_value)
        if (agent_id := parse_id(v)) is not None
    }
    if not ids:
        return {}
    rows = session.execute(
        sa.select(Agent.id, User.full_name)
        .join(User, User.id == Agent.user_id)
        .where(Agent.id.in_(ids))
    )
    return {str(agent_id): name for agent_id, name in rows}


# Whether an address may be removed (portal/accounts/watchers.py): work orders there,
# closed or cancelled ones done with it.
work_orders_at = records_at(WorkOrder, frozenset({"closed", "cancelled"}))
