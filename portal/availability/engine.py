"""Bookable arrival windows for field-service appointments.

The engine answers one question: given the agents who could do a job, their weekly hours,
their leave and their existing bookings, which arrival windows can we offer a customer, and
when a day offers none, why not?

How it works, and why:

* It is pure and stdlib-only so it can be unit- and property-tested without Flask or a
  database; callers map ORM rows onto the input dataclasses below.
* All arithmetic is done in integer minutes since the Unix epoch (UTC). Integers make the
  interval maths exact and cheap; zones are consulted only at the edges, when weekly hours
  and the customer's window grid are turned into instants.
* Free time is rounded inward to whole minutes: working time that starts at 09:00:30 starts
  at 09:01, and a booking that ends at 10:00:30 keeps the agent busy until 10:01.
* Wall times become instants with zoneinfo's default ``fold=0``. For a wall time inside a
  spring-forward gap that means the offset in force *before* the change, so a New York shift
  ending at 02:30 on changeover night ends at 03:30 EDT; an ambiguous fall-back wall time
  means its first occurrence. A grid window whose start does not exist is skipped instead,
  because a customer cannot be asked to be home at a time that never happens.
* Cost grows with the agents, their working periods and their bookings, never with the
  number of minutes, and a window costs bisections over the start ranges that begin inside
  it, not a scan over the agents: each agent's free time is turned once into ranges of
  feasible start minutes, all of them go onto one sorted sweep line (starts and stops), and
  only the windows we offer go back to the agents to name the ones free at the planned start.
* Three bounded LRU caches (wall time to instant, weekly hours to working time, one day's
  window grid) make repeated page loads cheaper, and let agents who share a zone and hours
  share the work; all hold immutable values only, so sharing them across threads is safe.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "REASONS",
    "AgentInput",
    "Grid",
    "Query",
    "ServiceSpec",
    "Window",
    "WorkingHours",
    "explain_days",
    "find_windows_explained",
    "find_windows",
    "qualified",
]

REASONS: dict[str, str] = {
    "past": "This day has passed.",
    "holiday": "We are closed for a holiday.",
    "notice": "Too soon: bookings need at least the minimum notice.",
    "horizon": "Beyond the booking horizon.",
    "no_agent": "No qualified technician works on this day.",
    "time_off": "The technicians who work this day are on leave.",
    "fully_booked": "Every window is taken.",
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)
_MINUTES_PER_DAY = 24 * 60

# [start, end) in epoch minutes.
Interval = tuple[int, int]


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """One weekly working period on the agent's own wall clock.

    Shifts do not cross midnight; the engine relies on that to find a day's shifts by the
    local date alone.
    """

    weekday: int  # 0 = Monday ... 6 = Sunday, as date.weekday()
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, got {self.weekday}")
        if self.end <= self.start:
            raise ValueError(f"working hours must end after they start: {self.start}-{self.end}")


@dataclass(frozen=True, slots=True)
class AgentInput:
    """An agent as the engine sees them: where they live, when they work, what they can do.

    ``time_off`` and ``busy`` are aware [start, end) pairs; a busy interval already includes
    the travel buffer of the booking that made it.
    """

    id: int
    tz: str
    hours: tuple[WorkingHours, ...]
    skills: frozenset[str] = frozenset()
    territories: frozenset[int] = frozenset()
    time_off: tuple[tuple[datetime, datetime], ...] = ()
    busy: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """What the job needs: how long, how much travel buffer after it, and how many agents."""

    duration_minutes: int
    buffer_minutes: int = 0
    agents_needed: int = 1
    required_skill: str | None = None

    def __post_init__(self) -> None:
        if self.duration_minutes <= 0:
            raise ValueError("duration_minutes must be positive")
        if self.buffer_minutes < 0:
            raise ValueError("buffer_minutes must not be negative")
        if self.agents_needed < 1:
            raise ValueError("agents_needed must be at least 1")

    @property
    def blocked_minutes(self) -> int:
        """Minutes each agent must be free for: the job plus its own travel buffer."""
        return self.duration_minutes + self.buffer_minutes


@dataclass(frozen=True, slots=True)
class Grid:
    """How arrival windows are laid on the customer's wall clock, starting at local midnight.

    ``window_minutes == 0`` offers exact start times; ``step_minutes == 0`` places windows
    back to back.
    """

    window_minutes: int = 120
    step_minutes: int = 0

    def __post_init__(self) -> None:
        if self.window_minutes < 0 or self.step_minutes < 0:
            raise ValueError("window_minutes and step_minutes must not be negative")
        if self.stride == 0:
            raise ValueError("step_minutes must be positive when window_minutes is 0")

    @property
    def stride(self) -> int:
        """Minutes between consecutive window starts."""
        return self.step_minutes or self.window_minutes

    def window_end(self, start: datetime, tz: str) -> datetime:
        """Where the window starting at ``start`` ends, as the grid lays it: ``window_minutes``
        later on the wall clock in ``tz``, so 00:00-02:00 lasts one hour on a spring-forward
        night. The one definition for pages that show a window before it is booked."""
        _require_aware(start, "start")
        if self.window_minutes == 0:
            return start
        zone = ZoneInfo(tz)
        wall_start = start.astimezone(zone).replace(tzinfo=None)
        return _to_datetime(_wall_end(wall_start, self.window_minutes, zone))


@dataclass(frozen=True, slots=True)
class Query:
    """Where and when the customer wants to book, and the business rules that limit it."""

    location_tz: str
    territory_id: int | None
    range_start: datetime
    range_end: datetime
    now: datetime
    min_notice_minutes: int = 0
    horizon_days: int = 28
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        for name in ("range_start", "range_end", "now"):
            _require_aware(getattr(self, name), name)
        if self.min_notice_minutes < 0 or self.horizon_days < 0:
            raise ValueError("min_notice_minutes and horizon_days must not be negative")


# --- output ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """An arrival window we can offer, with the plan that makes it bookable.

    ``planned_start`` is the earliest start inside the window at which the most agents are
    free, and ``agent_ids`` are those agents, so booking can hold them without re-searching.
    ``capacity`` is how many bookings the window could still take at its best start.
    """

    starts_at: datetime
    ends_at: datetime
    planned_start: datetime
    capacity: int
    agent_ids: tuple[int, ...]


# --- public API -----------------------------------------------------------------------------


def qualified(
    service: ServiceSpec, agents: Sequence[AgentInput], territory_id: int | None
) -> list[AgentInput]:
    """The agents allowed to do this job at this location, in input order.

    ``territory_id=None`` means the location has no territory, so territory is not checked.
    """
    return [
        agent
        for agent in agents
        if (service.required_skill is None or service.required_skill in agent.skills)
        and (territory_id is None or territory_id in agent.territories)
    ]


def find_windows(
    service: ServiceSpec, agents: Sequence[AgentInput], grid: Grid, query: Query
) -> list[Window]:
    """The arrival windows that can be offered for ``query``, in time order.

    A window is offered when it starts inside the query range, after the minimum notice and
    before the horizon, on a day that is not a holiday, and at some minute inside it enough
    qualified agents are free for the whole job plus buffer.
    """
    slots = _open_slots(_grid_slots(grid, query), query)
    crew = qualified(service, agents, query.territory_id)
    return [window for _, window in _offer(service, crew, slots)]


def explain_days(
    service: ServiceSpec, agents: Sequence[AgentInput], grid: Grid, query: Query
) -> dict[date, str]:
    """Why each local day (in the location's zone) without an offered window has none.

    Keys are the location's local dates that have at least one grid window starting inside
    the query range; values are keys of ``REASONS``. Days that offer a window are left out.
    Pass a range that starts and ends at local midnights, or the partial days at its edges
    are judged on the few windows that fall inside it.
    """
    return find_windows_explained(service, agents, grid, query)[1]


def working_minutes(
    agent: AgentInput, start: datetime, end: datetime, holidays: frozenset[date] = frozenset()
) -> int:
    """Minutes the agent works in [start, end): its weekly hours on its own clock, less its
    time off and the holidays (whole local days in the agent's zone). Bookings do not
    count against it: this is the capacity a utilisation figure divides by."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    lo, hi = _floor_minute(start), _ceil_minute(end)
    if hi <= lo:
        return 0
    zone = ZoneInfo(agent.tz)
    closed = []
    for day in holidays:
        day_start = datetime.combine(day, time.min, tzinfo=zone)
        day_end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        closed.append((day_start, day_end))
    blocked = _blocked_time((*agent.time_off, *closed), lo, hi)
    return sum(e - s for s, e in _subtract(_working_time(agent, lo, hi), blocked))


def find_windows_explained(
    service: ServiceSpec, agents: Sequence[AgentInput], grid: Grid, query: Query
) -> tuple[list[Window], dict[date, str]]:
    """``find_windows`` and ``explain_days`` in one pass: a page that shows both pays for
    the window search once."""
    slots = _grid_slots(grid, query)
    if not slots:
        return [], {}
    crew = qualified(service, agents, query.territory_id)
    found = _offer(service, crew, _open_slots(slots, query))
    windows = [window for _, window in found]
    offered = {slot.day for slot, _ in found}

    slots_by_day: dict[date, list[_Slot]] = {}
    for slot in slots:
        slots_by_day.setdefault(slot.day, []).append(slot)
    days = sorted(slots_by_day)
    day_bounds = _day_boundaries(days[0], days[-1], ZoneInfo(query.location_tz))
    staffing = _staffing_by_day(crew, day_bounds)

    reasons = {
        day: _reason(day, slots_by_day[day], query, staffing[day], service.agents_needed)
        for day in days
        if day not in offered
    }
    return windows, reasons


# --- the window grid ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Slot:
    """A grid window in epoch minutes; ``last`` is the latest candidate start inside it."""

    day: date  # local date in the location's zone
    start: int
    end: int
    last: int


def _grid_slots(grid: Grid, query: Query) -> list[_Slot]:
    """Every grid window whose start lies in the query range, in time order."""
    zone = ZoneInfo(query.location_tz)
    range_lo, range_hi = _ceil_minute(query.range_start), _ceil_minute(query.range_end)
    slots = [
        slot
        for day in _local_days(query.range_start, query.range_end, zone)
        for slot in _day_slots(day, query.location_tz, grid.window_minutes, grid.stride)
        if range_lo <= slot.start < range_hi
    ]
    # Already ordered (fold=0 keeps existing wall times in order); sorting is cheap insurance
    # for _offer, which takes the first slot's start as the earliest minute to look at.
    slots.sort(key=lambda slot: slot.start)
    return slots


@lru_cache(maxsize=4096)
def _day_slots(day: date, tz: str, window_minutes: int, stride: int) -> tuple[_Slot, ...]:
    """One local day's grid windows. Cached: pages ask for the same weeks over and over."""
    zone = ZoneInfo(tz)
    midnight = datetime.combine(day, time())
    slots = (
        _make_slot(day, midnight + timedelta(minutes=offset), window_minutes, zone)
        for offset in range(0, _MINUTES_PER_DAY, stride)
    )
    return tuple(slot for slot in slots if slot is not None)


def _make_slot(
    day: date, wall_start: datetime, window_minutes: int, zone: ZoneInfo
) -> _Slot | None:
    """The window starting at naive ``wall_start`` on the location's clock, or None if the
    start falls in a spring-forward gap (it would round-trip to a different wall time)."""
    start_utc = wall_start.replace(tzinfo=zone).astimezone(UTC)
    if start_utc.astimezone(zone).replace(tzinfo=None) != wall_start:
        return None
    start = _floor_minute(start_utc)
    if window_minutes == 0:
        return _Slot(day, start, start, start)
    end = _wall_end(wall_start, window_minutes, zone)
    if end <= start:
        return None
    return _Slot(day, start, end, end - 1)


def _wall_end(wall_start: datetime, window_minutes: int, zone: ZoneInfo) -> int:
    """The minute a window starting at naive ``wall_start`` ends: ``window_minutes`` later on
    the location's wall clock (fold=0), not in elapsed time, so every window of a day keeps
    its place on the clock across a change."""
    return _floor_minute((wall_start + timedelta(minutes=window_minutes)).replace(tzinfo=zone))


def _open_slots(slots: list[_Slot], query: Query) -> list[_Slot]:
    """The slots the business rules allow us to offer: notice, horizon and holidays.

    Slot starts are whole minutes, so comparing them with the ceiling of each limit gives
    exactly the same answer as comparing instants.
    """
    earliest = _ceil_minute(query.now + timedelta(minutes=query.min_notice_minutes))
    horizon = _ceil_minute(query.now + timedelta(days=query.horizon_days))
    return [
        slot
        for slot in slots
        if earliest <= slot.start < horizon and slot.day not in query.holidays
    ]


# --- agents' free time ----------------------------------------------------------------------


def _offer(
    service: ServiceSpec, crew: Sequence[AgentInput], slots: list[_Slot]
) -> list[tuple[_Slot, Window]]:
    """Settle each open slot against the crew's free time; keep the bookable ones.

    Every agent's feasible start ranges go into two sorted lists, of first minutes and of
    stop minutes (last + 1), one sweep line for the whole crew. A slot is then settled with
    bisections over the starts that fall inside it, never with a scan over the agents; only
    the windows we offer go back to the agents, to name the ones free at the planned start.
    """
    if len({agent.id for agent in crew}) != len(crew):
        raise ValueError("agent ids must be unique")  # the counting below relies on it
    needed = service.agents_needed
    if not slots or len(crew) < needed:
        return []
    need = service.blocked_minutes
    lo = slots[0].start
    hi = max(slot.last for slot in slots) + need  # no job we could plan runs past this
    # The crew's start ranges in three flat lists of integers (agent, first, last): a big
    # crew has tens of thousands of ranges, and integers are nothing for the garbage
    # collector to track, where pairs or lists per agent made its full collections
    # frequent enough to show in the 95th percentile of a page load.
    ids: list[int] = []
    range_firsts: list[int] = []
    range_lasts: list[int] = []
    for agent in crew:
        for first, last in _start_ranges(agent, need, lo, hi):
            ids.append(agent.id)
            range_firsts.append(first)
            range_lasts.append(last)
    firsts = sorted(range_firsts)
    stops = sorted([last + 1 for last in range_lasts])
    settled = []
    for slot in slots:
        count, minute = _best_start(slot, firsts, stops)
        if count >= needed:
            settled.append((slot, count, minute))
    minutes = sorted({minute for _, _, minute in settled})
    free_at = _agents_free_at(minutes, ids, range_firsts, range_lasts)
    return [
        (
            slot,
            Window(
                starts_at=_to_datetime(slot.start),
                ends_at=_to_datetime(slot.end),
                planned_start=_to_datetime(minute),
                capacity=count // needed,
                agent_ids=free_at[minute],
            ),
        )
        for slot, count, minute in settled
    ]


def _start_ranges(agent: AgentInput, need: int, lo: int, hi: int) -> list[Interval]:
    """Closed ranges [first, last] of minutes at which ``agent`` could start a job that keeps
    them busy for ``need`` minutes, looking only at [lo, hi)."""
    blocked = _blocked_time((*agent.time_off, *agent.busy), lo, hi)
    free = _subtract(_working_time(agent, lo, hi), blocked)
    return [(start, end - need) for start, end in free if end - start >= need]


def _working_time(agent: AgentInput, lo: int, hi: int) -> tuple[Interval, ...]:
    """The agent's weekly hours turned into merged UTC intervals within [lo, hi)."""
    return _shifts(agent.tz, agent.hours, lo, hi)


@lru_cache(maxsize=1024)
def _shifts(tz: str, hours: tuple[WorkingHours, ...], lo: int, hi: int) -> tuple[Interval, ...]:
    """Weekly hours on a wall clock as merged UTC intervals within [lo, hi).

    Cached: most agents of an organisation share a zone and standard hours, so one query
    asks the same question for hundreds of agents.
    """
    zone = ZoneInfo(tz)
    rules_by_weekday: list[list[WorkingHours]] = [[] for _ in range(7)]
    for rule in hours:
        rules_by_weekday[rule.weekday].append(rule)
    # One spare local day each side: a shift ending in a DST gap can spill past midnight.
    first = _to_datetime(lo).astimezone(zone).date() - timedelta(days=1)
    last = _to_datetime(hi).astimezone(zone).date() + timedelta(days=1)
    periods = []
    for day in _dates(first, last):
        for rule in rules_by_weekday[day.weekday()]:
            start = max(_ceil_minute(_wall_instant(day, rule.start, tz)), lo)
            end = min(_floor_minute(_wall_instant(day, rule.end, tz)), hi)
            if start < end:
                periods.append((start, end))
    return tuple(_merge(periods))


def _blocked_time(
    intervals: Iterable[tuple[datetime, datetime]], lo: int, hi: int
) -> list[Interval]:
    """Time off or bookings, rounded outward to whole minutes and merged, within [lo, hi)."""
    blocked = []
    for start, end in intervals:
        # _floor_minute and _ceil_minute written out: this runs for every booking.
        first = max((start - _EPOCH) // _MINUTE, lo)
        last = min(-((_EPOCH - end) // _MINUTE), hi)
        if first < last:
            blocked.append((first, last))
    return _merge(blocked)


# --- matching free time to windows ----------------------------------------------------------


def _best_start(slot: _Slot, firsts: list[int], stops: list[int]) -> tuple[int, int]:
    """(most agents free at one minute of the slot, earliest minute with that many).

    ``firsts`` and ``stops`` are every start range's first minute and last minute + 1,
    sorted, so the ranges holding minute m number bisect_right(firsts, m) less
    bisect_right(stops, m); an agent's ranges never overlap, so that is the number of
    distinct agents free there. The count only rises where a range begins, so the earliest
    best minute is the slot's first or one of the range beginnings inside it: each is
    weighed with a bisection, in time order, and only a strictly larger count replaces the
    best so far.
    """
    minute = slot.start
    started = bisect_right(firsts, minute)
    stopped = bisect_right(stops, minute)
    best, best_start = started - stopped, minute
    until = bisect_right(firsts, slot.last, started)  # ranges that begin inside the slot
    while started < until:
        minute = firsts[started]
        started = bisect_right(firsts, minute, started, until)
        stopped = bisect_right(stops, minute, stopped)
        if started - stopped > best:
            best, best_start = started - stopped, minute
    return best, best_start


def _agents_free_at(
    minutes: list[int], ids: list[int], firsts: list[int], lasts: list[int]
) -> dict[int, tuple[int, ...]]:
    """For each of the sorted ``minutes``, the sorted ids of the agents with a start range
    [first, last] holding it (the ranges are given as three parallel lists). One bisection
    per range finds the first minute at or after its start."""
    found: list[list[int]] = [[] for _ in minutes]
    count = len(minutes)
    if count:
        for agent_id, first, last in zip(ids, firsts, lasts, strict=True):
            index = bisect_left(minutes, first)
            while index < count and minutes[index] <= last:
                found[index].append(agent_id)
                index += 1
    return {minute: tuple(sorted(free)) for minute, free in zip(minutes, found, strict=True)}


# --- explaining empty days ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Staffing:
    """How many qualified agents have hours on a day, and how many of them are not on leave."""

    working: int
    available: int


def _staffing_by_day(
    crew: Sequence[AgentInput], bounds: list[tuple[date, int]]
) -> dict[date, _Staffing]:
    """Count, per local day, agents whose hours touch it, before and after removing leave.

    Agents who share a zone and hours share their working days, so those are found once
    per (zone, hours); only an agent with leave in the range has its own days worked out.
    """
    day_starts = [start for _, start in bounds]
    lo, hi = day_starts[0], day_starts[-1]
    working = [0] * (len(bounds) - 1)
    available = [0] * (len(bounds) - 1)
    days_by_hours: dict[tuple[str, tuple[WorkingHours, ...]], set[int]] = {}
    for agent in crew:
        hours = _working_time(agent, lo, hi)
        days = days_by_hours.get((agent.tz, agent.hours))
        if days is None:
            days = days_by_hours[agent.tz, agent.hours] = _days_touched(hours, day_starts)
        leave = _blocked_time(agent.time_off, lo, hi)
        for index in days:
            working[index] += 1
        for index in _days_touched(_subtract(hours, leave), day_starts) if leave else days:
            available[index] += 1
    return {
        day: _Staffing(working[index], available[index])
        for index, (day, _) in enumerate(bounds[:-1])
    }


def _reason(day: date, slots: list[_Slot], query: Query, staffing: _Staffing, needed: int) -> str:
    """The most useful reason code for a day with no offered window (see REASONS).

    Notice and horizon only explain a day when they rule out every one of its windows;
    otherwise the day falls through to the staffing checks and finally "fully_booked".
    """
    zone = ZoneInfo(query.location_tz)
    if datetime.combine(day + timedelta(days=1), time(), tzinfo=zone) <= query.now:
        return "past"
    if day in query.holidays:
        return "holiday"
    earliest = _ceil_minute(query.now + timedelta(minutes=query.min_notice_minutes))
    horizon = _ceil_minute(query.now + timedelta(days=query.horizon_days))
    too_soon = [slot.start < earliest for slot in slots]
    too_late = [slot.start >= horizon for slot in slots]
    if all(too_soon):
        return "notice"
    if all(too_late):
        return "horizon"
    if all(soon or late for soon, late in zip(too_soon, too_late, strict=True)):
        return "notice"  # only when the horizon is shorter than the notice
    if staffing.working < needed:
        return "no_agent"
    if staffing.available < needed:
        return "time_off"
    return "fully_booked"


def _day_boundaries(first: date, last: date, zone: ZoneInfo) -> list[tuple[date, int]]:
    """(day, minute its local midnight falls on) for first..last, plus the day after last,
    whose midnight closes the final day."""
    return [
        (day, _floor_minute(datetime.combine(day, time(), tzinfo=zone)))
        for day in _dates(first, last + timedelta(days=1))
    ]


def _days_touched(intervals: Sequence[Interval], day_starts: list[int]) -> set[int]:
    """Indices i of the days [day_starts[i], day_starts[i + 1]) that the intervals overlap."""
    touched: set[int] = set()
    for start, end in intervals:
        first = max(bisect_right(day_starts, start) - 1, 0)
        last = min(bisect_left(day_starts, end) - 1, len(day_starts) - 2)
        touched.update(range(first, last + 1))
    return touched


# --- interval and time helpers --------------------------------------------------------------


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort intervals and join the ones that overlap or touch; drop empty ones."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(base: Sequence[Interval], cuts: list[Interval]) -> list[Interval]:
    """``base`` minus ``cuts``; both sorted and merged. One pass over each list."""
    result = []
    first_cut = 0
    for start, end in base:
        while first_cut < len(cuts) and cuts[first_cut][1] <= start:
            first_cut += 1  # cuts that end before this base interval cannot touch later ones
        cursor = start
        index = first_cut
        while index < len(cuts) and cuts[index][0] < end:
            if cuts[index][0] > cursor:
                result.append((cursor, cuts[index][0]))
            cursor = max(cursor, cuts[index][1])
            index += 1
        if cursor < end:
            result.append((cursor, end))
    return result


@lru_cache(maxsize=16384)
def _wall_instant(day: date, wall: time, tz: str) -> datetime:
    """The instant a local wall time happens, with zoneinfo's default fold=0.

    Cached because many agents share zones and hours, so the same conversions recur.
    """
    return datetime.combine(day, wall, tzinfo=ZoneInfo(tz))


def _local_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """The local dates that the instants [start, end) touch."""
    if end <= start:
        return []
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return _dates(first, last)


def _dates(first: date, last: date) -> list[date]:
    """Every date from first to last inclusive."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got {moment!r}")


# The two conversions below run for every booking, so they do not check awareness: a naive
# datetime fails the subtraction with a TypeError anyway.


def _floor_minute(moment: datetime) -> int:
    """Whole minutes since the epoch, rounded down."""
    return (moment - _EPOCH) // _MINUTE


def _ceil_minute(moment: datetime) -> int:
    """Whole minutes since the epoch, rounded up."""
    return -((_EPOCH - moment) // _MINUTE)


def _to_datetime(minute: int) -> datetime:
    """An aware UTC datetime from minutes since the epoch."""
    return _EPOCH + timedelta(minutes=minute)
