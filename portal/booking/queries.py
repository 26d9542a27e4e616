"""Read-side queries for the customer's pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import ServiceLocation
from portal.availability.engine import REASONS, Window
from portal.availability.services import (
    get_availability,
    get_policy,
    location_zone,
    next_free_window,
)
from portal.booking.models import Appointment, Service
from portal.timeutil import local_day_bounds, to_local, week_start


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
    zone: str
    week: date  # the Monday shown, in the location's zone
    days: list[DayView]
    prev_week: date | None
    next_week: date | None
    next_free: Window | None  # when this week has nothing, where the next window is
    refreshed_at: datetime


def parse_week(raw: str | None, today: date) -> date:
    """The Monday of the asked week; today's week for anything missing or malformed."""
    try:
        asked = date.fromisoformat(raw) if raw else today
    except ValueError:
        asked = today
    return week_start(max(asked, today))


def week_view(
    session: so.Session,
    service: Service,
    location: ServiceLocation,
    week: date,
    now: datetime,
    *,
    org_zone: str,
) -> WeekView:
    """Windows for one week, grouped by the location's days, each empty day explained."""
    zone = location_zone(location, org_zone)
    start, _ = local_day_bounds(week, zone)
    _, end = local_day_bounds(week + timedelta(days=6), zone)
    found = get_availability(
        session, service, location, range_start=start, range_end=end, now=now, org_zone=org_zone
    )
    by_day: dict[date, list[Window]] = {}
    for window in found.windows:
        by_day.setdefault(to_local(window.starts_at, zone).date(), []).append(window)
    days = [
        DayView(
            day=day,
            windows=by_day.get(day, []),
            reason=None if day in by_day else REASONS.get(found.reasons.get(day, "fully_booked")),
        )
        for day in (week + timedelta(days=i) for i in range(7))
    ]
    policy = get_policy(session)
    today = to_local(now, zone).date()
    horizon_last = to_local(now + timedelta(days=policy.horizon_days), zone).date()
    next_free = None
    if not found.windows:
        next_free = next_free_window(
            session, service, location, after=end, now=now, org_zone=org_zone
        )
    return WeekView(
        zone=zone,
        week=week,
        days=days,
        prev_week=week - timedelta(days=7) if week > week_start(today) else None,
        next_week=week + timedelta(days=7) if week + timedelta(days=7) <= horizon_last else None,
        next_free=next_free,
        refreshed_at=now,
    )
