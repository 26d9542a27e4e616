"""The free windows the booking offers: the availability engine fed from the database.

Loads only what can matter for the asked range: the qualified agents, their hours,
the time off that touches the range and the holds that touch the part of it where a
window can be offered (after the notice, before the horizon). The cost of a query
therefore grows with the bookings inside the horizon, never with the whole history;
an index on (agent, start, end, appointment) answers the holds without the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from itertools import groupby
from operator import itemgetter

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import ServiceLocation, User
from portal.availability import engine
from portal.booking.models import AppointmentHold, BookingPolicy, Service
from portal.formatting import org_zone as configured_zone
from portal.workforce.models import (
    Agent,
    Holiday,
    TimeOff,
    WorkingHours,
    agent_skills,
    agent_territories,
)

# No single hold or stretch of time off that matters is looked up further back than
# this before the range: a job longer than a day does not exist here.
LOOKBACK = timedelta(days=1)
# Time off can be long (a month's leave), so it is matched on overlap, not start.


@dataclass(frozen=True)
class Availability:
    windows: list[engine.Window]
    reasons: dict[date, str]
    zone: str


def get_policy(session: so.Session) -> BookingPolicy:
    """The booking policy row; the defaults when nobody has configured one yet."""
    return session.get(BookingPolicy, 1) or BookingPolicy(
        id=1,
        window_minutes=120,
        step_minutes=0,
        min_notice_minutes=24 * 60,
        horizon_days=28,
        reschedule_cutoff_hours=24,
        max_self_reschedules=2,
    )


def service_spec(service: Service) -> engine.ServiceSpec:
    return engine.ServiceSpec(
        duration_minutes=service.duration_minutes,
        buffer_minutes=service.buffer_minutes,
        agents_needed=service.agents_needed,
        required_skill=service.required_skill.code if service.required_skill else None,
    )


def grid_for(policy: BookingPolicy) -> engine.Grid:
    return engine.Grid(window_minutes=policy.window_minutes, step_minutes=policy.step_minutes)


def window_end(session: so.Session, start: datetime, tz: str) -> datetime:
    """Where the window starting at `start` ends on today's grid, as availability and
    booking lay it (on the wall clock in `tz`, the location's zone)."""
    return grid_for(get_policy(session)).window_end(start, tz)


def load_agents(
    session: so.Session,
    service: Service,
    territory_id: int | None,
    start: datetime,
    end: datetime,
    *,
    only: set[int] | None = None,
    ignore_appointment: int | None = None,
    holds_between: tuple[datetime, datetime] | None = None,
) -> list[engine.AgentInput]:
    """The active agents qualified for `service` in the territory, with what keeps them busy.

    `ignore_appointment` leaves that appointment's own holds out: when it moves, the time
    it holds now is free for it. `holds_between` narrows the holds to the part of the range
    where a job can be planned (none when it is empty); time off is read for the whole
    range, because it explains the days without windows.

    Two queries whatever the number of agents: the agents with their weekly hours, then
    their time off and holds touching the range. Both select the agents with the same
    subquery, so the statement text never depends on how many agents qualify (SQLAlchemy
    caches it compiled) and the database matches them through its indexes.
    """
    zones: dict[int, str] = {}
    rotas: dict[int, tuple[engine.WorkingHours, ...]] = {}
    # Agents mostly share their rules, and whole rotas: one object for each, so a big crew
    # does not make thousands of equal ones for the garbage collector to track.
    rules: dict[tuple, engine.WorkingHours] = {}
    shared: dict[tuple[tuple, ...], tuple[engine.WorkingHours, ...]] = {}
    hours_statement, intervals_statement, off_statement = _agent_statements(
        service.required_skill_id is not None, territory_id is not None, only is not None
    )
    params = {
        "skill": service.required_skill_id,
        "territory": territory_id,
        "only": sorted(only or ()),
    }
    hour_rows = session.execute(hours_statement, params)
    for agent_id, rows in groupby(hour_rows, key=itemgetter(0)):
        keys = []
        for _, zone, *key in rows:
            zones[agent_id] = zone
            if key[0] is not None:  # the agent has no hours at all
                keys.append(tuple(key))
        # Keyed by plain tuples: they hash in C, the engine's dataclasses in Python.
        rota = shared.get(rota_key := tuple(keys))
        if rota is None:
            for key in keys:
                if key not in rules:
                    rules[key] = engine.WorkingHours(*key)
            rota = shared[rota_key] = tuple(rules[key] for key in keys)
        rotas[agent_id] = rota
    if not zones:
        return []
    # Widen by a day each side: an agent's local working day can start before the
    # range's first UTC instant when zones differ.
    lo, hi = start - LOOKBACK, end + LOOKBACK
    held_lo, held_hi = (
        (holds_between[0] - LOOKBACK, holds_between[1] + LOOKBACK) if holds_between else (lo, hi)
    )
    params.update(off_from=lo, off_to=hi)
    if holds_between is not None and holds_between[0] >= holds_between[1]:
        statement = off_statement
    else:
        statement = intervals_statement
        # Bounded on both sides of starts_at so the index does the work.
        params.update(
            held_from=held_lo - LOOKBACK,
            held_to=held_hi,
            held_after=held_lo,
            ignore=ignore_appointment or 0,
        )
    off: dict[int, tuple[tuple[datetime, datetime], ...]] = {}
    busy: dict[int, tuple[tuple[datetime, datetime], ...]] = {}
    for agent_id, rows in groupby(session.execute(statement, params), key=itemgetter(1)):
        agent_off, agent_busy = [], []
        for is_off, _, starts_at, ends_at in rows:
            (agent_off if is_off else agent_busy).append((starts_at, ends_at))
        off[agent_id], busy[agent_id] = tuple(agent_off), tuple(agent_busy)
    skill = frozenset({service.required_skill.code}) if service.required_skill else frozenset()
    territories = frozenset({territory_id}) if territory_id is not None else frozenset()
    return [
        engine.AgentInput(
            id=agent_id,
            tz=tz,
            hours=rotas[agent_id],
            skills=skill,
            territories=territories,
            time_off=off.get(agent_id, ()),
            busy=busy.get(agent_id, ()),
        )
        for agent_id, tz in zones.items()
    ]


@cache
def _agent_statements(
    by_skill: bool, by_territory: bool, by_ids: bool
) -> tuple[sa.Select, sa.CompoundSelect, sa.Select]:
    """`load_agents`' statements, built once with bound parameters: (hours, time off and
    holds, time off alone).

    Building a statement and its cache key costs more Python than running it (about a
    fifth of a millisecond each), and the live re-check of every booking runs these.
    """
    qualified = sa.select(Agent.id).where(Agent.active.is_(True))
    if by_skill:
        qualified = qualified.where(
            Agent.id.in_(
                sa.select(agent_skills.c.agent_id).where(
                    agent_skills.c.skill_id == sa.bindparam("skill")
                )
            )
        )
    if by_territory:
        qualified = qualified.where(
            Agent.id.in_(
                sa.select(agent_territories.c.agent_id).where(
                    agent_territories.c.territory_id == sa.bindparam("territory")
                )
            )
        )
    if by_ids:
        qualified = qualified.where(Agent.id.in_(sa.bindparam("only", expanding=True)))
    hours = (
        sa.select(
            Agent.id,
            Agent.time_zone,
            WorkingHours.weekday,
            WorkingHours.start_time,
            WorkingHours.end_time,
        )
        .outerjoin(WorkingHours, WorkingHours.agent_id == Agent.id)
        .where(Agent.id.in_(qualified))
        .order_by(Agent.id, WorkingHours.id)
    )
    time_off = sa.select(
        sa.literal(True).label("is_off"), TimeOff.agent_id, TimeOff.starts_at, TimeOff.ends_at
    ).where(
        TimeOff.agent_id.in_(qualified),
        TimeOff.starts_at < sa.bindparam("off_to"),
        TimeOff.ends_at > sa.bindparam("off_from"),
    )
    holds = sa.select(
        sa.literal(False).label("is_off"),
        AppointmentHold.agent_id,
        AppointmentHold.starts_at,
        AppointmentHold.ends_at,
    ).where(
        AppointmentHold.agent_id.in_(qualified),
        AppointmentHold.starts_at >= sa.bindparam("held_from"),
        AppointmentHold.starts_at < sa.bindparam("held_to"),
        AppointmentHold.ends_at > sa.bindparam("held_after"),
        AppointmentHold.appointment_id != sa.bindparam("ignore"),
    )
    # By agent, so each agent's intervals are collected and done with in one go (both
    # sides come out of their indexes in that order: SQLite merges them, no sort).
    both = sa.union_all(time_off, holds).order_by("agent_id")
    return hours, both, time_off.order_by(TimeOff.agent_id)


def holidays_between(session: so.Session, first: date, last: date) -> frozenset[date]:
    return frozenset(
        session.scalars(sa.select(Holiday.day).where(Holiday.day.between(first, last)))
    )


# Built once (see `_agent_statements`).
_POLICY_AND_HOLIDAYS = (
    sa.select(BookingPolicy, Holiday.day)
    .outerjoin(Holiday, Holiday.day.between(sa.bindparam("first"), sa.bindparam("last")))
    .where(BookingPolicy.id == 1)
)


def policy_and_holidays(
    session: so.Session, first: date, last: date
) -> tuple[BookingPolicy, frozenset[date]]:
    """`get_policy` and `holidays_between` in one round trip (every booking asks both)."""
    rows = session.execute(_POLICY_AND_HOLIDAYS, {"first": first, "last": last}).all()
    if not rows:  # nobody has configured a policy yet
        return get_policy(session), holidays_between(session, first, last)
    return rows[0][0], frozenset(day for _, day in rows if day is not None)


def location_zone(location: ServiceLocation, default: str | None = None) -> str:
    """The zone a location's windows are shown in: its territory's, else `default`, else
    the organisation's (configuration)."""
    if location.territory:
        return location.territory.time_zone
    return default or configured_zone()


def get_availability(
    session: so.Session,
    service: Service,
    location: ServiceLocation,
    *,
    range_start: datetime,
    range_end: datetime,
    now: datetime,
    org_zone: str | None = None,
    explain: bool = True,
    ignore_appointment: int | None = None,
) -> Availability:
    """Bookable windows for `service` at `location` in [range_start, range_end)."""
    policy, holidays = policy_and_holidays(
        session, (range_start - LOOKBACK).date(), (range_end + LOOKBACK).date()
    )
    zone = location_zone(location, org_zone)
    # Holds matter only where a window can be offered: after the notice, before the horizon.
    bookable = (
        max(range_start, now + timedelta(minutes=policy.min_notice_minutes)),
        min(range_end, now + timedelta(days=policy.horizon_days)),
    )
    agents = load_agents(
        session,
        service,
        location.territory_id,
        range_start,
        range_end,
        ignore_appointment=ignore_appointment,
        holds_between=bookable,
    )
    query = engine.Query(
        location_tz=zone,
        territory_id=location.territory_id,
        range_start=range_start,
        range_end=range_end,
        now=now,
        min_notice_minutes=policy.min_notice_minutes,
        horizon_days=policy.horizon_days,
        holidays=holidays,
    )
    spec, grid = service_spec(service), grid_for(policy)
    if explain:
        windows, reasons = engine.find_windows_explained(spec, agents, grid, query)
    else:
        windows, reasons = engine.find_windows(spec, agents, grid, query), {}
    return Availability(windows=windows, reasons=reasons, zone=zone)


def next_free_window(
    session: so.Session,
    service: Service,
    location: ServiceLocation,
    *,
    after: datetime,
    now: datetime,
    org_zone: str | None = None,
) -> engine.Window | None:
    """The first bookable window at or after `after`, within the horizon."""
    policy = get_policy(session)
    horizon_end = now + timedelta(days=policy.horizon_days)
    start = max(after, now)
    # Look a week at a time: most answers are close, and each step stays cheap.
    while start < horizon_end:
        end = min(start + timedelta(days=7), horizon_end)
        found = get_availability(
            session,
            service,
            location,
            range_start=start,
            range_end=end,
            now=now,
            org_zone=org_zone,
            explain=False,
        ).windows
        if found:
            return found[0]
        start = end
    return None


def free_agents_at(
    session: so.Session,
    service: Service,
    location: ServiceLocation,
    start: datetime,
    *,
    now: datetime,
    exclude: frozenset[int] = frozenset(),
) -> list[int]:
    """Qualified agents free for the whole job (buffer included) starting exactly at `start`.

    Used when a hold moves to another agent: the customer keeps the planned time, so
    the replacement must be free at that very minute. The engine answers it as a
    one-minute arrival window on a one-minute grid.
    """
    start = start.replace(second=0, microsecond=0)
    agents = [
        a
        for a in load_agents(
            session, service, location.territory_id, start, start + timedelta(minutes=1)
        )
        if a.id not in exclude
    ]
    query = engine.Query(
        location_tz="UTC",  # a one-minute grid is the same on every wall clock
        territory_id=location.territory_id,
        range_start=start,
        range_end=start + timedelta(minutes=1),
        now=min(now, start),
        min_notice_minutes=0,
        horizon_days=366,
    )
    # One agent at a time: the caller counts how many it still needs.
    single = engine.ServiceSpec(
        duration_minutes=service.duration_minutes,
        buffer_minutes=service.buffer_minutes,
        agents_needed=1,
        required_skill=service_spec(service).required_skill,
    )
    grid = engine.Grid(window_minutes=1, step_minutes=1)
    found = engine.find_windows(single, agents, grid, query)
    return list(found[0].agent_ids) if found else []


def qualified_agent_names(
    session: so.Session, service: Service, location: ServiceLocation
) -> list[tuple[int, str]]:
    """(id, name) of the active agents who could do `service` at `location`, by name."""
    query = (
        sa.select(Agent.id, User.full_name)
        .join(User, User.id == Agent.user_id)
        .where(Agent.active.is_(True))
        .order_by(User.full_name)
    )
    if service.required_skill_id is not None:
        query = query.where(
            Agent.id.in_(
                sa.select(agent_skills.c.agent_id).where(
                    agent_skills.c.skill_id == service.required_skill_id
                )
            )
        )
    if location.territory_id is not None:
        query = query.where(
            Agent.id.in_(
                sa.select(agent_territories.c.agent_id).where(
                    agent_territories.c.territory_id == location.territory_id
                )
            )
        )
    return [(row.id, row.full_name) for row in session.execute(query)]
