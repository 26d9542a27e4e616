"""Read-side queries for the customer's pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import ServiceLocation
from portal.availability.engine import REASONS, Window
from portal.booking.models import Appointment, Service
from portal.booking.windows import (
    Availability,
    get_availability,
    get_policy,
    location_zone,
    next_free_window,
)
from portal.timeutil import local_day_bounds, to_local


@dataclass(frozen=True)
class AccountAppointments:
    upcoming: list[Appointment]
    past: list[Appointment]


def list_account_appointments(
    session: so.Session, account_id: int, now: datetime, *, limit: int = 20
) -> AccountAppointments:
    """The account's appointments: upcoming soonest first, then the latest past ones."""
    base = (
        sa.select(Appointment)
        .where(Appointment.account_id == account_id)
        .options(
            so.joinedload(Appointment.service),
            so.joinedload(Appointment.location),
            so.joinedload(Appointment.work_order),
        )
    )
    upcoming = session.scalars(
        base.where(Appointment.window_end >= now).order_by(Appointment.window_start).limit(limit)
    ).all()
    past = session.scalars(
        base.where(Appointment.window_end < now)
        .order_by(Appointment.window_start.desc())
        .limit(limit)
    ).all()
    return AccountAppointments(upcoming=list(upcoming), past=list(past))


@dataclass(frozen=True)
class DayView:
    day: date
    windows: list[Window]
    reason: str | None  # a sentence when the day has no window


@dataclass(frozen=True)
class WeekView:
    """Seven days of windows from `week` (today at the earliest), in the location's zone.

    The first view of the list (no day asked for) starts today; when nothing is free in
    those seven days it opens at the day of the next free window instead and says so
    (`jumped_over`). A week the person asked for that has nothing free keeps its days and
    points to the next free window (`next_free`).
    """

    zone: str
    week: date  # the first day shown, in the location's zone (never before today)
    days: list[DayView]
    prev_week: date | None
    next_week: date | None
    next_free: Window | None  # when this week has nothing, where the next window is
    refreshed_at: datetime
    # The first view opened at the next free window: the days from today up to it were
    # skipped because none of them had a window.
    jumped_over: date | None = None

    @property
    def last_day(self) -> date:
        return self.week + timedelta(days=6)


def parse_week(raw: str | None) -> date | None:
    """The first day asked for (`?week=2026-12-07`), or None for the first view."""
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def week_view(
    session: so.Session,
    service: Service,
    location: ServiceLocation,
    asked: date | None,
    now: datetime,
    *,
    org_zone: str,
) -> WeekView:
    """Windows for seven days, grouped by the location's days, each empty day explained.

    Days that have passed are never shown: the view starts at `asked` or today, whichever
    is later. Without `asked` (the first view), seven empty days open the view at the
    next free window instead.
    """
    zone = location_zone(location, org_zone)
    today = to_local(now, zone).date()
    first = today if asked is None else max(asked, today)
    found, end = _seven_days(session, service, location, first, now, org_zone, zone)
    jumped_over = None
    next_free = None
    if not found.windows:
        next_free = next_free_window(
            session, service, location, after=end, now=now, org_zone=org_zone
        )
        if asked is None and next_free is not None:
            jumped_over, first = first, to_local(next_free.starts_at, zone).date()
            found, end = _seven_days(session, service, location, first, now, org_zone, zone)
            next_free = None
    by_day: dict[date, list[Window]] = {}
    for window in found.windows:
        by_day.setdefault(to_local(window.starts_at, zone).date(), []).append(window)
    days = [
        DayView(
            day=day,
            windows=by_day.get(day, []),
            reason=None if day in by_day else REASONS.get(found.reasons.get(day, "fully_booked")),
        )
        for day in (first + timedelta(days=i) for i in range(7))
    ]
    policy = get_policy(session)
    horizon_last = to_local(now + timedelta(days=policy.horizon_days), zone).date()
    following = first + timedelta(days=7)
    return WeekView(
        zone=zone,
        week=first,
        days=days,
        prev_week=max(first - timedelta(days=7), today) if first > today else None,
        next_week=following if following <= horizon_last else None,
        next_free=next_free,
        refreshed_at=now,
        jumped_over=jumped_over,
    )


def _seven_days(
    session: so.Session,
    service: Service,
    location: ServiceLocation,
    first: date,
    now: datetime,
    org_zone: str,
    zone: str,
) -> tuple[Availability, datetime]:
    """The availability of the seven local days from `first`, and where they end (UTC)."""
    start, _ = local_day_bounds(first, zone)
    _, end = local_day_bounds(first + timedelta(days=6), zone)
    found = get_availability(
        session, service, location, range_start=start, range_end=end, now=now, org_zone=org_zone
    )
    return found, end
