"""A deliberately slow, obviously correct model of the availability engine.

The property tests compare the engine with this model. It shares the input and output
dataclasses with the engine and nothing else, and it decides everything minute by minute:
each agent gets a map of the minutes around the query in which they are free, painted
from their weekly hours (every wall-clock shift turned into instants with zoneinfo) and
then cleared minute by minute for time off and bookings; a start minute works for an agent
when every minute of the job plus buffer is free in that map. No interval arithmetic, no
bisection, no sweeps.

The rules it encodes are the engine's, restated:

* a shift is [combine(day, start, zone), combine(day, end, zone)) with zoneinfo's default
  fold=0; a minute is working time when the whole minute lies inside some shift;
* a minute is blocked when any part of it overlaps time off or a booking;
* grid windows start at local midnight + k * step on the location's wall clock; a start
  that does not exist on that clock (spring-forward gap) is skipped.

``reference_reasons`` restates ``explain_days`` the same way: a day's staffing is read off
the same minute maps (does any minute of the local day hold working time, and any minute
of working time that is not leave?), and the reasons are tried in the order REASONS ranks
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.availability.engine import AgentInput, Grid, Query, ServiceSpec, Window

MINUTE = timedelta(minutes=1)


def reference_windows(
    service: ServiceSpec, agents: Sequence[AgentInput], grid: Grid, query: Query
) -> list[Window]:
    """The windows the engine should offer, found by trying every candidate minute."""
    crew = [agent for agent in agents if _qualifies(agent, service, query.territory_id)]
    need = service.duration_minutes + service.buffer_minutes
    origin = _floor_to_minute(query.range_start) - timedelta(days=2)
    span = int((query.range_end - origin) / MINUTE) + 3 * 24 * 60
    free = {agent.id: _free_minutes(agent, origin, span) for agent in crew}

    windows = []
    for day, start, end in reference_grid(grid, query):
        if day in query.holidays:
            continue
        if start < query.now + timedelta(minutes=query.min_notice_minutes):
            continue
        if start >= query.now + timedelta(days=query.horizon_days):
            continue
        first = _index(start, origin)
        count = 1 if grid.window_minutes == 0 else _index(end, origin) - first
        best_ids: tuple[int, ...] = ()
        best_minute = first
        for minute in range(first, first + count):
            ids = tuple(sorted(aid for aid, mask in free.items() if _fits(mask, minute, need)))
            if len(ids) > len(best_ids):
                best_ids, best_minute = ids, minute
        if len(best_ids) >= service.agents_needed:
            windows.append(
                Window(
                    starts_at=start,
                    ends_at=end,
                    planned_start=origin + best_minute * MINUTE,
                    capacity=len(best_ids) // service.agents_needed,
                    agent_ids=best_ids,
                )
            )
    return windows


def reference_reasons(
    service: ServiceSpec, agents: Sequence[AgentInput], grid: Grid, query: Query
) -> dict[date, str]:
    """Why each local day with grid windows in the range, but no offered window, has none."""
    zone = ZoneInfo(query.location_tz)
    crew = [agent for agent in agents if _qualifies(agent, service, query.territory_id)]
    origin = _floor_to_minute(query.range_start) - timedelta(days=2)
    span = int((query.range_end - origin) / MINUTE) + 3 * 24 * 60
    working = [_working_minutes(agent, origin, span) for agent in crew]
    not_on_leave = [
        _clear(bytearray(mask), agent.time_off, origin, span)
        for agent, mask in zip(crew, working, strict=True)
    ]
    windows = reference_windows(service, agents, grid, query)
    offered = {window.starts_at.astimezone(zone).date() for window in windows}
    starts_by_day: dict[date, list[datetime]] = {}
    for day, start, _ in reference_grid(grid, query):
        starts_by_day.setdefault(day, []).append(start)
    earliest = query.now + timedelta(minutes=query.min_notice_minutes)
    horizon = query.now + timedelta(days=query.horizon_days)
    reasons = {}
    for day, starts in starts_by_day.items():
        if day in offered:
            continue
        midnight = datetime.combine(day, time(), tzinfo=zone)
        next_midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
        minutes = slice(
            _index(_floor_to_minute(midnight), origin),
            _index(_floor_to_minute(next_midnight), origin),
        )
        if next_midnight <= query.now:
            reasons[day] = "past"
        elif day in query.holidays:
            reasons[day] = "holiday"
        elif all(start < earliest for start in starts):
            reasons[day] = "notice"
        elif all(start >= horizon for start in starts):
            reasons[day] = "horizon"
        elif all(start < earliest or start >= horizon for start in starts):
            reasons[day] = "notice"  # the horizon is shorter than the notice
        elif sum(1 in mask[minutes] for mask in working) < service.agents_needed:
            reasons[day] = "no_agent"
        elif sum(1 in mask[minutes] for mask in not_on_leave) < service.agents_needed:
            reasons[day] = "time_off"
        else:
            reasons[day] = "fully_booked"
    return reasons


def reference_grid(grid: Grid, query: Query) -> list[tuple[date, datetime, datetime]]:
    """(local date, start, end) in UTC of every grid window that starts inside the range."""
    zone = ZoneInfo(query.location_tz)
    step = grid.step_minutes or grid.window_minutes
    day = query.range_start.astimezone(zone).date() - timedelta(days=1)
    last_day = query.range_end.astimezone(zone).date() + timedelta(days=1)
    found = []
    while day <= last_day:
        midnight = datetime(day.year, day.month, day.day)
        for offset in range(0, 24 * 60, step):
            wall = midnight + timedelta(minutes=offset)
            start = wall.replace(tzinfo=zone).astimezone(UTC)
            if start.astimezone(zone).replace(tzinfo=None) != wall:
                continue  # this wall time never happens
            end = (wall + timedelta(minutes=grid.window_minutes)).replace(tzinfo=zone)
            end = end.astimezone(UTC)
            if grid.window_minutes and end <= start:
                continue
            if query.range_start <= start < query.range_end:
                found.append((day, start, end))
        day += timedelta(days=1)
    return found


def _qualifies(agent: AgentInput, service: ServiceSpec, territory_id: int | None) -> bool:
    has_skill = service.required_skill is None or service.required_skill in agent.skills
    in_territory = territory_id is None or territory_id in agent.territories
    return has_skill and in_territory


def _free_minutes(agent: AgentInput, origin: datetime, span: int) -> bytearray:
    """1 for every minute origin + i*MINUTE (i < span) in which the agent is free, else 0."""
    mask = _working_minutes(agent, origin, span)
    return _clear(mask, (*agent.time_off, *agent.busy), origin, span)


def _working_minutes(agent: AgentInput, origin: datetime, span: int) -> bytearray:
    """1 for every minute origin + i*MINUTE (i < span) wholly inside a shift, else 0."""
    mask = bytearray(span)
    zone = ZoneInfo(agent.tz)
    day = origin.astimezone(zone).date() - timedelta(days=1)
    last_day = (origin + span * MINUTE).astimezone(zone).date() + timedelta(days=1)
    while day <= last_day:
        for rule in agent.hours:
            if rule.weekday == day.weekday():
                shift_start = datetime.combine(day, rule.start, tzinfo=zone)
                shift_end = datetime.combine(day, rule.end, tzinfo=zone)
                for i in _indices_near(shift_start, shift_end, origin, span):
                    moment = origin + i * MINUTE
                    if shift_start <= moment and moment + MINUTE <= shift_end:
                        mask[i] = 1
        day += timedelta(days=1)
    return mask


def _clear(
    mask: bytearray, blocks: Sequence[tuple[datetime, datetime]], origin: datetime, span: int
) -> bytearray:
    """``mask`` with 0 in every minute that any part of a block overlaps."""
    for block_start, block_end in blocks:
        for i in _indices_near(block_start, block_end, origin, span):
            moment = origin + i * MINUTE
            if moment < block_end and moment + MINUTE > block_start:
                mask[i] = 0
    return mask


def _fits(mask: bytearray, minute: int, need: int) -> bool:
    """Is every minute of [minute, minute + need) free? (memchr over the slice.)"""
    if minute + need > len(mask):
        raise AssertionError("reference span too short for this query")
    return 0 not in mask[minute : minute + need]


def _indices_near(start: datetime, end: datetime, origin: datetime, span: int) -> range:
    """A generous range of minute indices around [start, end); callers test each one."""
    first = int((start - origin) / MINUTE) - 1
    last = int((end - origin) / MINUTE) + 1
    return range(max(first, 0), min(last + 1, span))


def _index(moment: datetime, origin: datetime) -> int:
    offset = moment - origin
    if offset % MINUTE:
        raise AssertionError(f"{moment} is not on a whole minute")
    return offset // MINUTE


def _floor_to_minute(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(second=0, microsecond=0)
