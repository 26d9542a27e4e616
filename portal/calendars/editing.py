"""Editing business-hours calendars: create, rename, set the week, holidays, delete.

Managers type a day's hours as "HH:MM-HH:MM" intervals ("09:00-12:30, 13:30-17:00"; an
end not after the start runs past midnight: "22:00-02:00"). Every rule that keeps the
arithmetic in `calendars/business.py` honest is checked here, with a message naming the
day and the interval: a time that is not one, an empty interval, and two intervals that
overlap anywhere in the week (a Monday night shift running into Tuesday morning counts;
we refuse rather than merge, so what is saved is what was typed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.audit.services import record_change, record_saved, register_entity, snapshot
from portal.calendars.business import MINUTES_PER_DAY, WEEKDAY_NAMES
from portal.calendars.models import BusinessCalendar, BusinessHoliday, BusinessHours
from portal.errors import Invalid

WEEKDAYS = WEEKDAY_NAMES  # one name per set: the arithmetic's own
# The week form's field for each weekday (0 = Monday): a refusal names the field.
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = MINUTES_PER_DAY
WEEK = 7 * DAY
MAX_NAME = 80
MAX_INTERVALS_A_DAY = 12

register_entity("business_calendars", "business_calendar")

# --- reading and writing times -----------------------------------------------------------

_CLOCK = re.compile(r"^(\d{1,2})(?::|\.|h)?(\d{2})?$")
_DASHES = re.compile(r"\s*[-\u2013\u2014]\s*|\s+to\s+")
_SEPARATORS = re.compile(r"[,;\n]+")


def parse_clock(text: str) -> int:
    """Minutes since midnight of "09:00", "9:30", "0930", "17" or "24:00" (0..1440)."""
    match = _CLOCK.match(text.strip().lower())
    if match:
        hours, minutes = int(match.group(1)), int(match.group(2) or 0)
        if (hours < 24 and minutes < 60) or (hours == 24 and minutes == 0):
            return hours * 60 + minutes
    raise ValueError(f"“{text.strip()}” is not a time of day: write it as HH:MM, like 09:00.")


def clock_text(minute: int) -> str:
    """09:00 for 540; 24:00 for the end of the day."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def interval_text(start: int, end: int) -> str:
    return f"{clock_text(start)}–{clock_text(end)}"


def interval_minutes(start: int, end: int) -> int:
    """How long an interval is open; an end not after the start runs past midnight."""
    return end - start if end > start else DAY - start + end


def format_minutes(minutes: int) -> str:
    """A length of time the way people say it: "37 h 30 min", "8 h", "45 min"."""
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    if hours:
        return f"{hours} h"
    return f"{rest} min"


def parse_intervals(text: str, weekday: int) -> list[tuple[int, int]]:
    """The intervals typed for one weekday, as (start, end) minutes; Invalid naming the
    day's field when one cannot be read or is empty."""
    day, field = WEEKDAYS[weekday], DAY_KEYS[weekday]
    found = []
    for part in _SEPARATORS.split(text or ""):
        part = part.strip()
        if not part:
            continue
        ends = _DASHES.split(part)
        if len(ends) != 2 or not all(ends):
            raise Invalid(
                f"{day}: “{part}” is not an interval: write it as HH:MM-HH:MM, like 09:00-17:00.",
                field=field,
            )
        try:
            start, end = parse_clock(ends[0]), parse_clock(ends[1])
        except ValueError as err:
            raise Invalid(f"{day}: {err}", field=field) from None
        if start == DAY:
            raise Invalid(
                f"{day}: an interval cannot start at 24:00; start it at 00:00.", field=field
            )
        if end == start:
            raise Invalid(
                f"{day}: {interval_text(start, end)} is empty: give an end after the start "
                "(00:00-24:00 is the whole day).",
                field=field,
            )
        # 00:00 as an end is midnight at the end of the day (the table keeps 1..1440).
        found.append((start, DAY if end == 0 else end))
    if len(found) > MAX_INTERVALS_A_DAY:
        raise Invalid(f"{day}: at most {MAX_INTERVALS_A_DAY} intervals a day.", field=field)
    return sorted(found)


def check_week(intervals: Iterable[tuple[int, int, int]]) -> None:
    """Refuse two intervals that overlap anywhere in the week, naming both: a window past
    midnight is checked against the next day's hours (and Sunday night against Monday)."""
    pieces = []  # (from, to) in minutes of the week, with the interval it came from
    for weekday, start, end in intervals:
        a = weekday * DAY + start
        b = a + interval_minutes(start, end)
        if b > WEEK:
            pieces.append((a, WEEK, (weekday, start, end)))
            pieces.append((0, b - WEEK, (weekday, start, end)))
        else:
            pieces.append((a, b, (weekday, start, end)))
    pieces.sort()
    for (_a1, b1, first), (a2, _b2, second) in zip(pieces, pieces[1:], strict=False):
        if a2 < b1:
            early, late = sorted([first, second])
            raise Invalid(
                f"{WEEKDAYS[late[0]]} {interval_text(late[1], late[2])} overlaps "
                f"{WEEKDAYS[early[0]]} {interval_text(early[1], early[2])}: "
                "change one of them, or make them one interval.",
                field=DAY_KEYS[late[0]],
            )


def parse_week(days: Mapping[int, str]) -> list[tuple[int, int, int]]:
    """The whole week from its seven texts (weekday -> text), checked."""
    week = [
        (weekday, start, end)
        for weekday in range(7)
        for start, end in parse_intervals(days.get(weekday, ""), weekday)
    ]
    check_week(week)
    return week


def check_zone(name: str) -> str:
    """An IANA zone name zoneinfo knows, or Invalid."""
    name = (name or "").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            f"“{name}” is not a time zone we know: pick one from the list, like Europe/London.",
            field="time_zone",
        ) from None
    if "/" not in name:
        raise Invalid("Pick a zone by place, like Europe/London.", field="time_zone")
    return name


# --- the week as people read it ----------------------------------------------------------


@dataclass(frozen=True)
class DayHours:
    weekday: int
    name: str
    intervals: list[BusinessHours]
    minutes: int

    @property
    def text(self) -> str:
        """The day as the week form shows it: "09:00-12:30, 13:30-17:00"."""
        return ", ".join(
            f"{clock_text(h.start_minute)}-{clock_text(h.end_minute)}" for h in self.intervals
        )


@dataclass(frozen=True)
class WeekSummary:
    days: list[DayHours]
    minutes: int

    @property
    def line(self) -> str:
        if not self.minutes:
            return "Closed all week: add hours below."
        return f"Open {format_minutes(self.minutes)} a week"


def week_summary(intervals: Sequence) -> WeekSummary:
    """Each weekday's intervals and open time, and the week's total. Takes rows or
    (weekday, start, end) tuples, so a form can be previewed before it is saved."""
    rows = [
        r
        if isinstance(r, BusinessHours)
        else BusinessHours(weekday=r[0], start_minute=r[1], end_minute=r[2])
        for r in intervals
    ]
    days = []
    for weekday in range(7):
        mine = sorted((r for r in rows if r.weekday == weekday), key=lambda r: r.start_minute)
        spent = sum(interval_minutes(r.start_minute, r.end_minute) for r in mine)
        days.append(DayHours(weekday, WEEKDAYS[weekday], mine, spent))
    return WeekSummary(days, sum(d.minutes for d in days))


def holiday_text(holiday: BusinessHoliday) -> str:
    if holiday.start_minute == 0 and holiday.end_minute == DAY:
        return "Whole day"
    return interval_text(holiday.start_minute, holiday.end_minute)


# --- calendars ---------------------------------------------------------------------------


def list_calendars(session: so.Session) -> list[BusinessCalendar]:
    """Every calendar by name (a short list: one per office or queue at most)."""
    return list(session.scalars(sa.select(BusinessCalendar).order_by(BusinessCalendar.name)))


def _clean_name(session: so.Session, name: str, calendar: BusinessCalendar | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("Enter a name.", field="name")
    if len(name) > MAX_NAME:
        raise Invalid(f"Keep the name to {MAX_NAME} characters.", field="name")
    taken = session.scalar(
        sa.select(BusinessCalendar.id).where(sa.func.lower(BusinessCalendar.name) == name.lower())
    )
    if taken is not None and (calendar is None or taken != calendar.id):
        raise Invalid(f"There is already a calendar called {name}.", field="name")
    return name


def _state(calendar: BusinessCalendar) -> dict:
    return snapshot(calendar, "name", "time_zone")


def _hours_state(calendar: BusinessCalendar) -> dict:
    return {
        "hours": [
            f"{WEEKDAYS[h.weekday]} {interval_text(h.start_minute, h.end_minute)}"
            for h in calendar.hours
        ]
    }


def create_calendar(session: so.Session, name: str, time_zone: str, *, by=None) -> BusinessCalendar:
    """A new calendar with no hours yet (closed until the week is set)."""
    calendar = BusinessCalendar(
        name=_clean_name(session, name, None), time_zone=check_zone(time_zone)
    )
    session.add(calendar)
    return record_saved(session, by, "create", calendar, None, _state)


def update_calendar(
    session: so.Session, calendar: BusinessCalendar, name: str, time_zone: str, *, by=None
) -> BusinessCalendar:
    """Rename the calendar or move it to another zone (its hours stay local wall-clock)."""
    before = _state(calendar)
    calendar.name = _clean_name(session, name, calendar)
    calendar.time_zone = check_zone(time_zone)
    return record_saved(session, by, "update", calendar, before, _state)


def set_week(
    session: so.Session, calendar: BusinessCalendar, days: Mapping[int, str], *, by=None
) -> WeekSummary:
    """Replace the calendar's weekly hours by the typed week (weekday -> "HH:MM-HH:MM, ...")."""
    week = parse_week(days)
    before = _hours_state(calendar)
    calendar.hours.clear()
    session.flush()
    for weekday, start, end in week:
        calendar.hours.append(BusinessHours(weekday=weekday, start_minute=start, end_minute=end))
    session.flush()
    session.refresh(calendar, ["hours"])
    record_change(session, by, "update", calendar, before, _hours_state(calendar))
    return week_summary(calendar.hours)


def remove_hours(
    session: so.Session, calendar: BusinessCalendar, hours_id: int, *, by=None
) -> None:
    """Take one interval off the week."""
    row = next((h for h in calendar.hours if h.id == hours_id), None)
    if row is None:
        raise Invalid("That interval is no longer on this calendar.")
    before = _hours_state(calendar)
    calendar.hours.remove(row)
    session.flush()
    record_change(session, by, "update", calendar, before, _hours_state(calendar))


def delete_calendar(session: so.Session, calendar: BusinessCalendar, *, by=None) -> None:
    """Delete a calendar with its hours and holidays. Whether anything still counts time
    on it is asked above this floor (portal/sla/calendar_use.py `delete_unused_calendar`)."""
    record_change(session, by, "delete", calendar, _state(calendar), None)
    session.delete(calendar)
    session.flush()


# --- holidays ----------------------------------------------------------------------------


def add_holiday(
    session: so.Session,
    calendar: BusinessCalendar,
    day: date,
    name: str,
    *,
    start_minute: int = 0,
    end_minute: int = DAY,
    by=None,
) -> BusinessHoliday:
    """Close the calendar on a local date, the whole day or from one time to another."""
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("Enter a name, like “Christmas Day”.", field="name")
    if len(name) > MAX_NAME:
        raise Invalid(f"Keep the name to {MAX_NAME} characters.", field="name")
    if not 0 <= start_minute < DAY or not 0 < end_minute <= DAY:
        raise Invalid("Give times within the day.", field="start")
    if end_minute <= start_minute:
        raise Invalid(
            "The end must come after the start (a holiday does not run past midnight: "
            "add the next day too).",
            field="end",
        )
    for other in calendar.holidays:
        if other.day == day and other.start_minute < end_minute and start_minute < other.end_minute:
            raise Invalid(
                f"{other.name} already closes {day.isoformat()} {holiday_text(other).lower()}.",
                field="day",
            )
    holiday = BusinessHoliday(day=day, start_minute=start_minute, end_minute=end_minute, name=name)
    calendar.holidays.append(holiday)
    session.flush()
    record_change(
        session,
        by,
        "update",
        calendar,
        None,
        {"holiday added": f"{name} {day.isoformat()} {holiday_text(holiday)}"},
    )
    return holiday


def remove_holiday(
    session: so.Session, calendar: BusinessCalendar, holiday_id: int, *, by=None
) -> None:
    """Open the calendar again on a holiday's date."""
    holiday = next((h for h in calendar.holidays if h.id == holiday_id), None)
    if holiday is None:
        raise Invalid("That holiday is no longer on this calendar.")
    record_change(
        session,
        by,
        "update",
        calendar,
        {"holiday removed": f"{holiday.name} {holiday.day.isoformat()} {holiday_text(holiday)}"},
        None,
    )
    calendar.holidays.remove(holiday)
    session.flush()
