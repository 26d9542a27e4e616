"""Which entitlement process a case (or a back-office work order) would get, and when
its milestones would be due: the settings page's preview, made with the same choice and
the same arithmetic the clocks use (portal/sla/lifecycle.py, portal/calendars/business.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy.orm as so

from portal.calendars.business import add_business_time
from portal.calendars.editing import format_minutes
from portal.calendars.models import BusinessCalendar
from portal.calendars.services import calendar_of
from portal.queues.models import Queue
from portal.sla.lifecycle import choose_process
from portal.sla.models import EntitlementProcess


@dataclass(frozen=True)
class PreviewMilestone:
    name: str
    target: str
    due_at: datetime | None  # None: the calendar has no hours to count


@dataclass(frozen=True)
class ProcessPreview:
    process: EntitlementProcess | None
    calendar: BusinessCalendar | None  # None: around the clock
    milestones: list[PreviewMilestone]


def preview_process(
    session: so.Session,
    *,
    applies_to: str,
    case_type_id: int | None,
    priority: str,
    account_id: int | None = None,
    queue_id: int | None = None,
    at: datetime,
) -> ProcessPreview:
    """The process the SLA rules would choose for a case (or a back-office work order)
    with these values, and when each of its milestones would be due if it started `at`:
    the same choice and the same arithmetic the clocks use (portal/sla/lifecycle.py)."""
    process = choose_process(
        session,
        applies_to=applies_to,
        case_type_id=case_type_id,
        priority=priority,
        account_id=account_id,
        queue_id=queue_id,
    )
    if process is None:
        return ProcessPreview(None, None, [])
    calendar = process.calendar
    if calendar is None and applies_to == "work_order" and queue_id is not None:
        queue = session.get(Queue, queue_id)
        calendar = queue.calendar if queue is not None else None
    pure = calendar_of(calendar) if calendar is not None and calendar.hours else None
    rows = []
    for definition in process.definitions:
        target = timedelta(minutes=definition.target_for(priority))
        if calendar is None:
            due = at + target
        else:
            due = add_business_time(pure, at, target) if pure is not None else None
        rows.append(
            PreviewMilestone(definition.name, format_minutes(target // timedelta(minutes=1)), due)
        )
    return ProcessPreview(process, calendar, rows)
