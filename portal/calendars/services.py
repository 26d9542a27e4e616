"""Business calendars as the pure arithmetic sees them.

The rows (portal/calendars/models.py) are turned into `portal.calendars.business.Calendar`
values here, each time they are asked for: nothing is cached across requests, so an edit
in the settings counts from the next request or job pass on. A caller that needs the same
calendar many times in one pass (the SLA job) keeps the values it loaded for that pass.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.calendars.business import Calendar, Holiday, Interval
from portal.calendars.models import BusinessCalendar


def calendar_of(row: BusinessCalendar) -> Calendar:
    """The pure calendar for one BusinessCalendar row (its hours and holidays)."""
    return Calendar(
        zone=row.time_zone,
        hours=tuple(Interval(h.weekday, h.start_minute, h.end_minute) for h in row.hours),
        holidays=tuple(Holiday(d.day, d.start_minute, d.end_minute, d.name) for d in row.holidays),
    )


def load_calendars(session: so.Session, ids: set[int]) -> dict[int, Calendar]:
    """The pure calendars for `ids` (unknown ids are left out), in three queries."""
    if not ids:
        return {}
    rows = session.scalars(
        sa.select(BusinessCalendar)
        .where(BusinessCalendar.id.in_(ids))
        .options(
            so.selectinload(BusinessCalendar.hours), so.selectinload(BusinessCalendar.holidays)
        )
    )
    return {row.id: calendar_of(row) for row in rows}


def load_calendar(session: so.Session, calendar_id: int | None) -> Calendar | None:
    """The pure calendar with this id; None for None or an id that no longer exists."""
    if calendar_id is None:
        return None
    return load_calendars(session, {calendar_id}).get(calendar_id)
