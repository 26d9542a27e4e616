"""Business time: adding it to an instant and measuring it between two instants.

A calendar is a zone, open intervals per weekday in local wall-clock minutes, and holidays
(whole or part days) on local dates. The definition every function here follows, and the
property tests check against a minute-by-minute reference:

    A UTC instant is business time iff its local wall-clock reading in the calendar's zone
    (local date d, time of day m) lies in an open interval of d and not in a holiday of d.

* The open intervals of a local date d are the intervals of d's weekday (an interval with
  ``end <= start`` runs from ``start`` to midnight on its own weekday), plus the tails past
  midnight, ``[0, end)``, of the previous weekday's overnight intervals. Overlapping or
  touching intervals simply join.
* A holiday closes ``[start, end)`` of the wall clock on its own local date only: a tail
  past midnight on the day after a holiday stays open unless that day is a holiday too, and a
  holiday is never placed a day early (zammad #3706) whatever the server's or user's zone.
* The membership is by wall-clock reading of each real instant, so the hour skipped when the
  clocks go forward counts nothing, and the hour repeated when they go back counts twice
  (both passes of it are open, or neither).

How it works, and why it is fast: a calendar compiles once, when it is built, into the open
spans of each weekday and of each holiday date (microseconds of the local day). Instants are
integer microseconds since the Unix epoch in UTC, so sums are exact. The zone's UTC offsets are
found once per zone and quarter (sampled every six hours, then bisected to the second: zoneinfo
does not publish its transitions) and cached; between two offset changes the wall clock is
UTC plus a constant, so the walk steps through local days and their few spans, never minutes.
Adding 40 business hours visits a week or two of days: tens of microseconds.

Standard library only (like availability/engine.py); callers map rows onto these dataclasses.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Calendar",
    "Holiday",
    "Interval",
    "add_business_time",
    "business_time_between",
    "is_open",
    "next_close",
    "next_open",
]

MINUTES_PER_DAY = 1440
_US = timedelta(microseconds=1)
_MINUTE = 60_000_000
_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH_WEEKDAY = date(1970, 1, 1).weekday()  # Thursday: 3

# Offsets are cached per zone in chunks of 91 days, each sampled every six hours. Two offset
# changes closer than six hours that cancel each other out would go unseen; no zone has them.
_CHUNK_S = 91 * 86_400
_SAMPLE_S = 6 * 3600
_NEVER_CLOSES_HORIZON = 16 * _DAY

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Interval:
    """Open hours on one weekday in local wall-clock minutes; ``end <= start`` runs past
    midnight into the next day (Fri 22:00-02:00 is ``Interval(4, 1320, 120)``)."""

    weekday: int  # 0 = Monday .. 6 = Sunday, as date.weekday()
    start: int  # minute of day, 0..1439
    end: int  # 1..1440

    def __post_init__(self) -> None:
        if not _is_int(self.weekday) or not 0 <= self.weekday <= 6:
            raise ValueError(f"The weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday!r}")
        if not _is_int(self.start) or not 0 <= self.start < MINUTES_PER_DAY:
            raise ValueError(
                f"An interval starts at minute 0 to 1439 of the day, not {self.start!r}"
            )
        if not _is_int(self.end) or not 0 < self.end <= MINUTES_PER_DAY:
            raise ValueError(f"An interval ends at minute 1 to 1440 of the day, not {self.end!r}")

    @property
    def overnight(self) -> bool:
        """True when the interval runs past midnight into the next day."""
        return self.end <= self.start

    def __str__(self) -> str:
        end = "24:00" if self.end == MINUTES_PER_DAY else _clock(self.end)
        return f"{WEEKDAY_NAMES[self.weekday]} {_clock(self.start)}-{end}"


@dataclass(frozen=True)
class Holiday:
    """Closed local wall-clock time ``[start, end)`` (minutes) on one local date; the default
    is the whole day."""

    day: date
    start: int = 0
    end: int = MINUTES_PER_DAY
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.day, datetime) or not isinstance(self.day, date):
            raise ValueError(f"A holiday's day must be a date, not {self.day!r}")
        if not _is_int(self.start) or not _is_int(self.end):
            raise ValueError("A holiday's start and end are whole minutes of the day")
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValueError(
                "A holiday's times must lie within its day (00:00 to 24:00) and end after they"
                f" start: {self.start}..{self.end} on {self.day.isoformat()}"
            )


@dataclass(frozen=True)
class _Compiled:
    table: _ZoneTable
    week: tuple[tuple[tuple[int, int], ...], ...]  # open spans of a date, by its weekday
    special: dict[int, tuple[tuple[int, int], ...]]  # holiday dates (epoch days) -> spans
    has_hours: bool
    full_week: bool  # open around the clock every weekday
    last_special: int  # the last holiday date (epoch days), or a very small number


@dataclass(frozen=True)
class Calendar:
    """Business hours: an IANA zone, open intervals per weekday, holidays of its own. Checked
    and compiled when built (an unknown zone is a ValueError)."""

    zone: str
    hours: tuple[Interval, ...]
    holidays: tuple[Holiday, ...] = ()
    _compiled: _Compiled = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Lists are welcome (rows mapped straight from a query); keep tuples so the
        # calendar stays hashable and immutable.
        object.__setattr__(self, "hours", tuple(self.hours))
        object.__setattr__(self, "holidays", tuple(self.holidays))
        for interval in self.hours:
            if not isinstance(interval, Interval):
                raise ValueError(f"A calendar's hours are Interval values, not {interval!r}")
        for holiday in self.holidays:
            if not isinstance(holiday, Holiday):
                raise ValueError(f"A calendar's holidays are Holiday values, not {holiday!r}")
        object.__setattr__(self, "_compiled", _compile(self))


def _merge(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, disjoint, non-touching spans covering the same set."""
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return tuple((a, b) for a, b in merged)


def _subtract(
    spans: tuple[tuple[int, int], ...], holes: tuple[tuple[int, int], ...]
) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in spans:
        pieces = [(a, b)]
        for ha, hb in holes:
            pieces = [
                part
                for pa, pb in pieces
                for part in ((pa, min(pb, ha)), (max(pa, hb), pb))
                if part[0] < part[1]
            ]
        out.extend(pieces)
    return _merge(out)


def _compile(cal: Calendar) -> _Compiled:
    if not isinstance(cal.zone, str) or not cal.zone:
        raise ValueError("A calendar needs a time zone (an IANA name such as Europe/London)")
    try:
        table = _zone_table(cal.zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"Unknown time zone: {cal.zone!r}") from None
    week = []
    for weekday in range(7):
        spans = [
            (iv.start, MINUTES_PER_DAY if iv.overnight else iv.end)
            for iv in cal.hours
            if iv.weekday == weekday
        ]
        spans += [
            (0, iv.end) for iv in cal.hours if iv.overnight and iv.weekday == (weekday - 1) % 7
        ]
        week.append(tuple((a * _MINUTE, b * _MINUTE) for a, b in _merge(spans)))
    holes_by_day: dict[date, list[tuple[int, int]]] = {}
    for holiday in cal.holidays:
        holes_by_day.setdefault(holiday.day, []).append(
            (holiday.start * _MINUTE, holiday.end * _MINUTE)
        )
    special = {
        day.toordinal() - _EPOCH_ORDINAL: _subtract(week[day.weekday()], _merge(holes))
        for day, holes in holes_by_day.items()
    }
    return _Compiled(
        table=table,
        week=tuple(week),
        special=special,
        has_hours=bool(cal.hours),
        full_week=all(spans == ((0, _DAY),) for spans in week),
        last_special=max(special, default=-(10**9)),
    )


class _ZoneTable:
    """A zone's UTC offsets as pieces of constant offset, found lazily and cached."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        # chunk number -> (piece starts in µs, the first being the chunk's start; offsets in µs)
        self.chunks: dict[int, tuple[list[int], list[int]]] = {}

    def _offset_s(self, s: int) -> int:
        # A ZoneInfo always has an offset; `or` only satisfies the type (zero is zero).
        offset = (_EPOCH + timedelta(seconds=s)).astimezone(self.zone).utcoffset() or timedelta(0)
        return offset // _US

    def _load(self, k: int) -> tuple[list[int], list[int]]:
        start, end = k * _CHUNK_S, (k + 1) * _CHUNK_S
        points = [*range(start, end, _SAMPLE_S), end - 1]
        offsets = [self._offset_s(p) for p in points]
        starts, values = [start * 1_000_000], [offsets[0]]
        for p, op, q, oq in zip(points, offsets, points[1:], offsets[1:], strict=False):
            while op != oq:  # a change in (p, q]: bisect to the second
                lo, hi = p, q
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if self._offset_s(mid) == op:
                        lo = mid
                    else:
                        hi = mid
                p, op = hi, self._offset_s(hi)
                starts.append(hi * 1_000_000)
                values.append(op)
        if len(self.chunks) > 4096:
            self.chunks.clear()
        self.chunks[k] = (starts, values)
        return starts, values

    def piece(self, u: int) -> tuple[int, int]:
        """(offset, end) of the piece of constant offset holding UTC µs ``u``."""
        k = u // (_CHUNK_S * 1_000_000)
        chunk = self.chunks.get(k)
        if chunk is None:
            try:
                chunk = self._load(k)
            except OverflowError:  # the quarter reaches past year 1 or 9999
                raise ValueError("The instant lies too close to the years 1 or 9999") from None
        starts, values = chunk
        i = bisect_right(starts, u) - 1
        end = starts[i + 1] if i + 1 < len(starts) else (k + 1) * _CHUNK_S * 1_000_000
        return values[i], end


@lru_cache(maxsize=1024)
def _zone_table(name: str) -> _ZoneTable:
    return _ZoneTable(ZoneInfo(name))


def _to_us(at: datetime, what: str) -> int:
    if not isinstance(at, datetime):
        raise ValueError(f"The {what} must be a datetime, not {at!r}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"The {what} must be timezone-aware (got {at.isoformat()})")
    return (at - _EPOCH) // _US


def _to_dt(u: int) -> datetime:
    try:
        return _EPOCH + timedelta(microseconds=u)
    except OverflowError:
        raise ValueError("The result lies beyond the year 9999") from None


def _spans(c: _Compiled, u: int) -> Iterator[tuple[int, int]]:
    """The business spans from UTC µs ``u`` on, clipped to start at ``u``, in UTC order.

    Within a piece of constant offset ``o`` the wall clock is ``utc + o``: walk its local
    days and their open spans; at the piece's end, carry on in the next piece, whose wall
    clock may have jumped forward or back."""
    piece, week, special = c.table.piece, c.week, c.special
    while True:
        offset, end = piece(u)
        day = (u + offset) // _DAY
        base = day * _DAY - offset  # the UTC instant of the wall day's midnight
        while base < end:
            spans = special.get(day)
            if spans is None:
                spans = week[(day + _EPOCH_WEEKDAY) % 7]
            for a, b in spans:
                s, e = base + a, base + b
                if e <= u:
                    continue
                if s >= end:
                    break
                yield (s if s > u else u), (e if e < end else end)
            day += 1
            base += _DAY
        u = end


def is_open(cal: Calendar, at: datetime) -> bool:
    """Whether ``at`` is business time on ``cal``."""
    c = cal._compiled
    u = _to_us(at, "instant")
    offset, _ = c.table.piece(u)
    wall = u + offset
    day = wall // _DAY
    spans = c.special.get(day)
    if spans is None:
        spans = c.week[(day + _EPOCH_WEEKDAY) % 7]
    minute = wall - day * _DAY
    return any(a <= minute < b for a, b in spans)


def add_business_time(cal: Calendar, start: datetime, amount: timedelta) -> datetime:
    """The earliest instant t >= start with ``business_time_between(cal, start, t) ==
    amount`` (UTC): for a positive amount the end of business time, never the next opening."""
    c = cal._compiled
    u = _to_us(start, "start")
    if not isinstance(amount, timedelta):
        raise ValueError(f"The amount of business time must be a timedelta, not {amount!r}")
    if amount < timedelta(0):
        raise ValueError(f"The amount of business time must not be negative (got {amount})")
    if not c.has_hours:
        raise ValueError("This calendar has no working hours")
    need = amount // _US
    if need == 0:
        return _to_dt(u)
    for s, e in _spans(c, u):
        if need <= e - s:
            return _to_dt(s + need)
        need -= e - s
    raise AssertionError("unreachable: a calendar with hours is open again every week")


def business_time_between(cal: Calendar, a: datetime, b: datetime) -> timedelta:
    """Business time in ``[a, b)``; negative when ``b`` is before ``a``."""
    c = cal._compiled
    ua, ub = _to_us(a, "first instant"), _to_us(b, "second instant")
    sign = 1
    if ub < ua:
        ua, ub, sign = ub, ua, -1
    if not c.has_hours or ua == ub:
        return timedelta(0)
    total = 0
    for s, e in _spans(c, ua):
        if s >= ub:
            break
        total += (e if e < ub else ub) - s
    return timedelta(microseconds=sign * total)


def next_open(cal: Calendar, at: datetime) -> datetime | None:
    """``at`` itself (in UTC) if open, else the next opening; None if never open."""
    c = cal._compiled
    u = _to_us(at, "instant")
    if not c.has_hours:
        return None
    for s, _ in _spans(c, u):
        return _to_dt(s)
    return None  # pragma: no cover (the walk never ends without a span)


def next_close(cal: Calendar, at: datetime) -> datetime | None:
    """When the open stretch holding ``at`` ends (``at`` itself in UTC if closed); None if
    it never ends (open around the clock, no holiday ahead)."""
    c = cal._compiled
    u = _to_us(at, "instant")
    if not c.has_hours:
        return _to_dt(u)
    horizon = max(u, (c.last_special + 2) * _DAY) + _NEVER_CLOSES_HORIZON
    stretch_end = u
    for s, e in _spans(c, u):
        if s != stretch_end:
            break
        stretch_end = e
        if c.full_week and stretch_end > horizon:
            return None
    return _to_dt(stretch_end)
