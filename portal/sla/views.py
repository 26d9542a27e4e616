"""What the case page shows of the SLA clocks.

The case package sits below this one and cannot ask for milestones, so the app factory
makes `case_milestones(case)` a template global and `templates/cases/_milestones.html`
calls it. Each milestone is derived again from its log as of now (a few milestones, a
few microseconds each), so the page shows the business time used at this moment, not at
the scheduler's last look.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from portal.cases.models import Case, CaseWorkOrder
from portal.db import get_session
from portal.sla.lifecycle import milestones_of_case, milestones_of_work_orders
from portal.sla.models import Milestone
from portal.sla.services import Lookup, derive_state
from portal.timeutil import now_utc

STATE_WORDS = {
    "pending": "On track",
    "warning": "Close to its target",
    "violated": "Missed",
    "completed_on_time": "Met",
    "completed_late": "Met late",
}


@dataclass(frozen=True)
class MilestoneView:
    name: str
    side: str  # "Customer" (the case's own) or the back-office queue's name
    state: str
    words: str
    paused: bool
    target: timedelta
    used: timedelta
    due_at: datetime | None
    completed_at: datetime | None

    @property
    def badge(self) -> str:
        return {"warning": "sla-warning", "violated": "sla-violated"}.get(self.state, self.state)


def case_milestones(case: Case) -> list[MilestoneView]:
    """The case's milestones, then its back-office work orders', as of now."""
    session = get_session()
    links = {
        link.work_order_id: link
        for link in session.scalars(
            sa.select(CaseWorkOrder).where(CaseWorkOrder.case_id == case.id)
        )
    }
    milestones = milestones_of_case(session, case) + milestones_of_work_orders(session, list(links))
    lookup = Lookup(session)
    lookup.preload(milestones)
    now = now_utc()
    return [
        _view(m, lookup, now, "Customer" if m.case_id else links[m.work_order_id].queue.name)
        for m in milestones
    ]


def _view(milestone: Milestone, lookup: Lookup, now: datetime, side: str) -> MilestoneView:
    state = derive_state(milestone, now, lookup)
    return MilestoneView(
        name=milestone.name,
        side=side,
        state=state.state,
        words=STATE_WORDS[state.state],
        paused=state.paused,
        target=state.target,
        used=state.used,
        due_at=state.due_at,
        completed_at=state.completed_at,
    )


def hours_minutes(amount: timedelta) -> str:
    """'2 h 05 min' of business time; '45 min' under an hour."""
    minutes = int(amount.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
