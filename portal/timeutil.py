"""One place for the clock and for moving between UTC and local wall time.

The database holds aware UTC datetimes only; zones are applied at the edges (the
availability engine's input and the rendering of a page). Tests freeze `now_utc`.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

# PORTAL_CLOCK_OFFSET moves this clock (never the machine's) by so many seconds, in every
# process that inherits the variable: web workers, the scheduler process, a test run and
# what it starts. `make test-calendar` runs the suite at other moments of the year with
# it. Read here, not in config, because the clock is needed before any app exists;
# config.py checks the value at start-up. Never set it in production.
CLOCK_OFFSET_VARIABLE = "PORTAL_CLOCK_OFFSET"


def _offset_from_environment() -> timedelta:
    raw = os.environ.get(CLOCK_OFFSET_VARIABLE, "").strip()
    try:
        return timedelta(seconds=float(raw)) if raw else timedelta(0)
    except (ValueError, OverflowError):
        return timedelta(0)  # config.py refuses to start the app with it


_offset = _offset_from_environment()
_frozen: datetime | None = None


def now_utc() -> datetime:
    """The current instant, aware, in UTC (or the instant a test froze)."""
    return _frozen if _frozen is not None else datetime.now(UTC) + _offset


def clock_offset() -> timedelta:
    """How far PORTAL_CLOCK_OFFSET moves this process's clock (zero in production)."""
    return _offset


def freeze(at: datetime | None) -> None:
    """Pin `now_utc` to an instant (tests and demo data); None lets the clock run."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at.astimezone(UTC) if at is not None else None


def frozen() -> datetime | None:
    """The instant the clock is pinned to, if it is (to put it back after pinning it)."""
    return _frozen


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


def local_day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants where a local calendar day starts and ends (23 or 25 h on DST days)."""
    z = ZoneInfo(tz)
    start = datetime.combine(day, time.min, tzinfo=z)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=z)
    return start.astimezone(UTC), end.astimezone(UTC)


def parse_instant(raw: str | None) -> datetime | None:
    """An ISO instant with an offset (a window's start in a URL or a form); anything else,
    missing, malformed or naive, is None."""
    try:
        parsed = datetime.fromisoformat(raw or "")
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def week_start(day: date) -> date:
    """The Monday of the ISO week that holds `day`."""
    return day - timedelta(days=day.weekday())


def is_valid_zone(name: str) -> bool:
    return name in _zones()


_zone_cache: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _zone_cache
    if _zone_cache is None:
        _zone_cache = frozenset(available_timezones())
    return _zone_cache


def common_zones() -> list[str]:
    """Zones offered in pickers: every IANA area/location name, sorted."""
    return sorted(z for z in _zones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
