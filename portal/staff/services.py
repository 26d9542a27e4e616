"""Staff-side set-up: territories, skills, agents, their hours and time off, holidays."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.errors import Invalid
from portal.staff.models import (
    Agent,
    Holiday,
    PostalPrefix,
    Skill,
    Territory,
    TimeOff,
    WorkingHours,
)
from portal.timeutil import is_valid_zone


def create_territory(
    session: so.Session, *, name: str, time_zone: str, prefixes: Iterable[str]
) -> Territory:
    """A territory and the postal-code prefixes that place a location in it."""
    if not is_valid_zone(time_zone):
        raise Invalid("Choose a time zone from the list.", field="time_zone")
    territory = Territory(name=name, time_zone=time_zone)
    for prefix in prefixes:
        clean = prefix.replace(" ", "").upper()
        if not clean.isalnum():
            raise Invalid(f"Postal prefix {prefix!r} may hold letters and digits only.")
        territory.prefixes.append(PostalPrefix(prefix=clean))
    session.add(territory)
    session.flush()
    return territory


def get_or_create_skill(session: so.Session, code: str, name: str | None = None) -> Skill:
    skill = session.scalar(sa.select(Skill).where(Skill.code == code))
    if skill is None:
        skill = Skill(code=code, name=name or code.replace("_", " ").capitalize())
        session.add(skill)
        session.flush()
    return skill


def create_agent(
    session: so.Session,
    user: User,
    *,
    time_zone: str,
    skills: Iterable[Skill] = (),
    territories: Iterable[Territory] = (),
    hours: Iterable[tuple[int, time, time]] = (),
) -> Agent:
    """Make a staff user bookable: zone, skills, territories, weekly hours (local)."""
    if not is_valid_zone(time_zone):
        raise Invalid("Choose a time zone from the list.", field="time_zone")
    agent = Agent(user=user, time_zone=time_zone)
    agent.skills = list(skills)
    agent.territories = list(territories)
    session.add(agent)
    set_weekly_hours(agent, hours)
    session.flush()
    return agent


def set_weekly_hours(agent: Agent, hours: Iterable[tuple[int, time, time]]) -> None:
    """Replace the agent's weekly hours; rules on one weekday must not overlap."""
    rules = sorted(hours)
    for weekday, start, end in rules:
        if not 0 <= weekday <= 6:
            raise Invalid("Weekday must be Monday to Sunday.")
        if end <= start:
            raise Invalid("Working hours must end after they start.")
    for (d1, _s1, e1), (d2, s2, _e2) in zip(rules, rules[1:], strict=False):
        if d1 == d2 and s2 < e1:
            raise Invalid("Two periods of working hours on one day overlap.")
    agent.hours = [WorkingHours(weekday=d, start_time=s, end_time=e) for d, s, e in rules]


def add_time_off(
    session: so.Session, agent: Agent, starts_at: datetime, ends_at: datetime, reason: str = ""
) -> TimeOff:
    if ends_at <= starts_at:
        raise Invalid("Time off must end after it starts.")
    entry = TimeOff(agent=agent, starts_at=starts_at, ends_at=ends_at, reason=reason)
    session.add(entry)
    session.flush()
    return entry


def add_holiday(session: so.Session, day: date, name: str) -> Holiday:
    if session.scalar(sa.select(Holiday.id).where(Holiday.day == day)) is not None:
        raise Invalid("That day is already a holiday.")
    holiday = Holiday(day=day, name=name)
    session.add(holiday)
    session.flush()
    return holiday
