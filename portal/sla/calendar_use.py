"""Business-hours calendars as the SLA sees them: what counts time on one (queues,
processes, running milestones), and the edits that would stop those clocks, refused.

The calendar edits themselves live on the calendars floor (portal/calendars/editing.py),
which knows nothing of queues or SLAs; these wrap the ones that need to know.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.calendars.editing import (
    WeekSummary,
    delete_calendar,
    parse_week,
    remove_hours,
    set_week,
)
from portal.calendars.models import BusinessCalendar
from portal.errors import Invalid
from portal.queues.models import Queue
from portal.sla.models import EntitlementProcess, Milestone
from portal.sla.settings import OPEN_STATES

# --- calendars in use --------------------------------------------------------------------


def calendar_users(session: so.Session, calendar: BusinessCalendar) -> list[str]:
    """What counts time on a calendar: queues, processes and running milestones."""
    uses = [
        f"queue {name}"
        for name in session.scalars(
            sa.select(Queue.name).where(Queue.calendar_id == calendar.id).order_by(Queue.name)
        )
    ]
    uses += [
        f"process {name}"
        for name in session.scalars(
            sa.select(EntitlementProcess.name)
            .where(EntitlementProcess.calendar_id == calendar.id)
            .order_by(EntitlementProcess.name)
        )
    ]
    running = session.scalar(
        sa.select(sa.func.count())
        .select_from(Milestone)
        .where(Milestone.calendar_id == calendar.id, Milestone.state.in_(OPEN_STATES))
    )
    if running:
        uses.append(f"{running} running milestone{'' if running == 1 else 's'}")
    return uses


def delete_unused_calendar(session: so.Session, calendar: BusinessCalendar, *, by=None) -> None:
    """Delete a calendar nothing counts time on; refused, naming what does, otherwise."""
    uses = calendar_users(session, calendar)
    if uses:
        raise Invalid(
            f"{calendar.name} is in use by {', '.join(uses)}: give them another calendar first."
        )
    delete_calendar(session, calendar, by=by)


def _refuse_closing(session: so.Session, calendar: BusinessCalendar) -> None:
    uses = calendar_users(session, calendar)
    if uses:
        raise Invalid(
            f"{calendar.name} is in use by {', '.join(uses)}: it needs some open hours "
            "(a clock cannot count time on a calendar that is never open).",
            field="mon",
        )


def set_calendar_week(
    session: so.Session, calendar: BusinessCalendar, days: dict[int, str], *, by=None
) -> WeekSummary:
    """Set the calendar's week (portal/calendars/editing.py `set_week`); a calendar in use
    must keep some open hours."""
    if not parse_week(days):
        _refuse_closing(session, calendar)
    return set_week(session, calendar, days, by=by)


def remove_calendar_hours(
    session: so.Session, calendar: BusinessCalendar, hours_id: int, *, by=None
) -> None:
    """Take one interval off the week; not the last one of a calendar in use."""
    if len(calendar.hours) == 1 and calendar.hours[0].id == hours_id:
        _refuse_closing(session, calendar)
    remove_hours(session, calendar, hours_id, by=by)
