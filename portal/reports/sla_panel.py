"""The live SLA panel on "My tasks": the open milestones of a lead's queues (a manager's:
every queue) by state, and the next few falling due, in words a person reads at a glance
("due 14:30 today", "overdue by 2 h").

A milestone is open while pending, warning or violated and its case (or back-office work
order) is still open; its queue is the one the SLA report uses (sla.py QUEUE_ID). Nothing
here writes: the htmx refresh every 30 s only reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.cases.models import Case
from portal.queues.models import Queue
from portal.reports.sla import NO_QUEUE, QUEUE_ID, SIDE, Numbered, queue_names, with_case
from portal.sla.models import Milestone
from portal.workorders.models import WorkOrder

OPEN_STATES = ("pending", "warning", "violated")
FINISHED_WORK_ORDERS = ("completed", "closed", "cancelled")
NEXT_DUE = 5


@dataclass
class QueueCounts:
    queue_id: int | None
    name: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPEN_STATES, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class DueItem(Numbered):
    milestone_id: int
    side: str  # "external" (a case's) or "internal" (a back-office work order's)
    case_id: int | None
    subject: str
    work_order_id: int | None
    milestone: str
    state: str
    queue: str
    due_at: datetime
    when: str  # "due 14:30 today", "overdue by 2 h"
    overdue: bool


@dataclass(frozen=True)
class SlaPanel:
    queues: list[QueueCounts]
    next_due: list[DueItem]
    everything: bool  # a manager's panel (every queue), not a lead's
    zone: str

    @property
    def totals(self) -> dict[str, int]:
        return {state: sum(q.counts[state] for q in self.queues) for state in OPEN_STATES}


def led_queues(session: so.Session, user: User) -> list[Queue]:
    return list(
        session.scalars(sa.select(Queue).where(Queue.lead_id == user.id).order_by(Queue.name))
    )


def _open_milestones(query):
    """`query` (joined by with_case) kept to open milestones of open cases and work orders."""
    return (
        with_case(query)
        .outerjoin(WorkOrder, WorkOrder.id == Milestone.work_order_id)
        .where(
            Milestone.state.in_(OPEN_STATES),
            sa.or_(Milestone.case_id.is_(None), Case.is_closed.is_(False)),
            sa.or_(
                Milestone.work_order_id.is_(None), WorkOrder.status.not_in(FINISHED_WORK_ORDERS)
            ),
        )
    )


def sla_panel(session: so.Session, user: User, now: datetime) -> SlaPanel | None:
    """The panel for `user`: None unless a manager or a queue's lead (a lead sees only the
    queues they lead; a manager every queue, and the cases a person owns)."""
    everything = user.has_role("manager")
    led = [] if everything else led_queues(session, user)
    if not everything and not led:
        return None

    queue_id = QUEUE_ID.label("queue_id")
    counts_query = _open_milestones(
        sa.select(queue_id, Milestone.state, sa.func.count().label("n"))
    ).group_by(QUEUE_ID, Milestone.state)
    due_query = (
        _open_milestones(
            sa.select(
                Milestone.id,
                SIDE.label("side"),
                Case.id.label("case_id"),
                Case.subject,
                Milestone.work_order_id,
                Milestone.name,
                Milestone.state,
                Milestone.due_at,
                queue_id,
            )
        )
        .where(Milestone.paused.is_(False), Milestone.due_at.is_not(None))
        .order_by(Milestone.due_at, Milestone.id)
        .limit(NEXT_DUE)
    )
    if not everything:
        ids = [q.id for q in led]
        counts_query = counts_query.where(QUEUE_ID.in_(ids))
        due_query = due_query.where(QUEUE_ID.in_(ids))

    counted = session.execute(counts_query).all()
    due = session.execute(due_query).all()
    names = queue_names(session, [r.queue_id for r in counted] + [r.queue_id for r in due])
    names.update({q.id: q.name for q in led})

    queues = {q.id: QueueCounts(q.id, q.name) for q in led}
    for row in counted:
        name = names.get(row.queue_id, NO_QUEUE)
        queues.setdefault(row.queue_id, QueueCounts(row.queue_id, name)).counts[row.state] += row.n
    ordered = sorted(queues.values(), key=lambda q: (q.queue_id is None, q.name.lower()))

    zone = user.time_zone
    items = [
        DueItem(
            milestone_id=row.id,
            side=row.side,
            case_id=row.case_id,
            subject=row.subject or "",
            work_order_id=row.work_order_id,
            milestone=row.name,
            state=row.state,
            queue=names.get(row.queue_id, NO_QUEUE),
            due_at=row.due_at,
            when=due_words(row.due_at, now, zone),
            overdue=row.due_at <= now,
        )
        for row in due
    ]
    return SlaPanel(queues=ordered, next_due=items, everything=everything, zone=zone)


def span_words(delta: timedelta) -> str:
    """A length of time as a person says it: "25 min", "2 h 15 min", "14 h", "3 d 4 h"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {rest} min" if rest and hours < 10 else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def due_words(due_at: datetime, now: datetime, zone: str) -> str:
    """ "overdue by 2 h", "due 14:30 today", "due tomorrow 09:00", "due Mon 16 Nov, 10:00"
    (the viewer's zone)."""
    if due_at <= now:
        return f"overdue by {span_words(now - due_at)}"
    tz = ZoneInfo(zone)
    due, today = due_at.astimezone(tz), now.astimezone(tz).date()
    if due.date() == today:
        return f"due {due:%H:%M} today"
    if due.date() == today + timedelta(days=1):
        return f"due tomorrow {due:%H:%M}"
    return f"due {due:%a %-d %b}, {due:%H:%M}"
