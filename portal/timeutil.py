"""One place for the clock and for moving between UTC and local wall time.

The database holds aware UTC datetimes only; zones are applied at the edges (the
availability engine's input and the rendering of a page). Tests freeze `now_utc`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

_frozen: datetime | None = None


def now_utc() -> datetime:
    """The current instant, aware, in UTC (or the instant a test froze)."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Pin `now_utc` to an instant (tests and demo data); None lets the clock run."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at.astimezone(UTC) if at is not None else None


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
