"""Staff-side set-up: territories, skills, agents, their hours and time off, holidays.

Changes to an agent's hours, time off or active flag may break bookings it holds: those
are parked for the scheduler in the same transaction by whoever watches availability
(portal/workforce/watchers.py; the dispatch feature does), and the functions that make
such changes return what the watchers changed so the page can say how many there were.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.audit.services import record_change, record_saved, snapshot
from portal.errors import Invalid
from portal.ids import unique_code
from portal.timeutil import is_valid_zone
from portal.workforce.models import (
    Agent,
    Holiday,
    PostalPrefix,
    Skill,
    Territory,
    TimeOff,
    WorkingHours,
)
from portal.workforce.watchers import availability_changed

if TYPE_CHECKING:
    from portal.accounts.models import User

MAX_NAME = 80
MAX_PREFIX = 16
MAX_REASON = 120
# What the customer reads when a booking is parked: never the agent's private reason.
WHY_HOURS = "The technician's working hours changed."
WHY_TIME_OFF = "The technician is not available at that time any more."
WHY_INACTIVE = "The technician is no longer available."


def _clean_name(name: str, what: str, field: str = "name") -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid(f"Enter a name for the {what}.", field=field)
    if len(name) > MAX_NAME:
        raise Invalid(f"Use at most {MAX_NAME} characters.", field=field)
    return name


def split_prefixes(text: str) -> list[str]:
    """'SE, sw1 ,E' -> ['SE', 'SW1', 'E']: comma separated, spaces dropped, upper case."""
    return [p.replace(" ", "").upper() for p in (text or "").split(",") if p.strip()]


def _clean_prefixes(
    session: so.Session, prefixes: Iterable[str], territory: Territory | None = None
) -> list[str]:
    """Each prefix letters and digits, listed once, and not another territory's."""
    clean: list[str] = []
    for prefix in prefixes:
        value = prefix.replace(" ", "").upper()
        if not value.isalnum() or not value.isascii():
            raise Invalid(
                f"Postal prefix {prefix!r} may hold letters and digits only.", field="prefixes"
            )
        if len(value) > MAX_PREFIX:
            raise Invalid(
                f"Postal prefix {value} is longer than {MAX_PREFIX} characters.", field="prefixes"
            )
        if value in clean:
            raise Invalid(f"Postal prefix {value} is listed twice.", field="prefixes")
        clean.append(value)
    if clean:
        taken = session.execute(
            sa.select(PostalPrefix.prefix, Territory.name)
            .join(Territory, PostalPrefix.territory_id == Territory.id)
            .where(PostalPrefix.prefix.in_(clean))
            .where(PostalPrefix.territory_id != (territory.id if territory else 0))
            .order_by(PostalPrefix.prefix)
        ).first()
        if taken is not None:
            raise Invalid(
                f"Postal prefix {taken.prefix} already belongs to {taken.name}.", field="prefixes"
            )
    return clean


def _check_territory_name(session: so.Session, name: str, territory: Territory | None) -> str:
    name = _clean_name(name, "territory")
    clash = session.scalar(
        sa.select(Territory.id).where(
            sa.func.lower(Territory.name) == name.lower(),
            Territory.id != (territory.id if territory else 0),
        )
    )
    if clash is not None:
        raise Invalid("Another territory has that name.", field="name")
    return name


def _territory_state(territory: Territory) -> dict:
    return {
        **snapshot(territory, "name", "time_zone"),
        "prefixes": [p.prefix for p in territory.prefixes],
    }


def create_territory(
    session: so.Session,
    *,
    name: str,
    time_zone: str,
    prefixes: Iterable[str],
    by: User | None = None,
) -> Territory:
    """A territory and the postal-code prefixes that place a location in it."""
    name = _check_territory_name(session, name, None)
    if not is_valid_zone(time_zone):
        raise Invalid("Choose a time zone from the list.", field="time_zone")
    territory = Territory(name=name, time_zone=time_zone)
    for prefix in _clean_prefixes(session, prefixes):
        territory.prefixes.append(PostalPrefix(prefix=prefix))
    session.add(territory)
    return record_saved(session, by, "create", territory, None, _territory_state)


def update_territory(
    session: so.Session,
    territory: Territory,
    *,
    name: str,
    time_zone: str,
    prefixes: Iterable[str],
    by: User | None = None,
) -> Territory:
    """Rename a territory, change its zone, replace its prefixes (existing addresses keep
    the territory they were given; the prefixes place new ones)."""
    name = _check_territory_name(session, name, territory)
    if not is_valid_zone(time_zone):
        raise Invalid("Choose a time zone from the list.", field="time_zone")
    wanted = _clean_prefixes(session, prefixes, territory)
    before = _territory_state(territory)
    territory.name, territory.time_zone = name, time_zone
    kept = {p.prefix: p for p in territory.prefixes if p.prefix in wanted}
    territory.prefixes = [kept.get(p) or PostalPrefix(prefix=p) for p in wanted]
    return record_saved(session, by, "update", territory, before, _territory_state)


def get_or_create_skill(session: so.Session, code: str, name: str | None = None) -> Skill:
    """The skill with this code, made (with `name`) when there is none."""
    skill = session.scalar(sa.select(Skill).where(Skill.code == code))
    if skill is None:
        skill = Skill(code=code, name=name or code.replace("_", " ").capitalize())
        session.add(skill)
        session.flush()
    return skill


def _check_skill_name(session: so.Session, name: str, skill: Skill | None) -> str:
    name = _clean_name(name, "skill")
    clash = session.scalar(
        sa.select(Skill.id).where(
            sa.func.lower(Skill.name) == name.lower(), Skill.id != (skill.id if skill else 0)
        )
    )
    if clash is not None:
        raise Invalid("Another skill has that name.", field="name")
    return name


def _skill_state(skill: Skill) -> dict:
    return snapshot(skill, "code", "name")


def create_skill(session: so.Session, name: str, *, by: User | None = None) -> Skill:
    """A new skill; its code (used by services and reports) is made from the name once."""
    name = _check_skill_name(session, name, None)
    skill = Skill(code=unique_code(session, Skill.code, name, sep="_", fallback="skill"), name=name)
    session.add(skill)
    return record_saved(session, by, "create", skill, None, _skill_state)


def rename_skill(session: so.Session, skill: Skill, name: str, *, by: User | None = None) -> Skill:
    """Change what a skill is called; its code, and so every service using it, stay."""
    before = snapshot(skill, "name")
    skill.name = _check_skill_name(session, name, skill)
    return record_saved(session, by, "update", skill, before, lambda s: snapshot(s, "name"))


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
    _never_bookable(user)
    if not is_valid_zone(time_zone):
        raise Invalid("Choose a time zone from the list.", field="time_zone")
    agent = Agent(user=user, time_zone=time_zone)
    agent.skills = list(skills)
    agent.territories = list(territories)
    session.add(agent)
    set_weekly_hours(agent, hours)
    session.flush()
    return agent


def _never_bookable(user: User) -> None:
    # "backoffice" (portal.accounts.models.BACKOFFICE, a floor above): outside the ladder,
    # never a technician.
    if user.role == "backoffice":
        raise Invalid(
            f"{user.full_name} works in the back office, which is never bookable: an agent "
            "(technician) needs a staff log-in of their own.",
            field="role",
        )


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


def _agent_reach(agent: Agent) -> dict:
    return {
        "skills": sorted(s.name for s in agent.skills),
        "territories": sorted(t.name for t in agent.territories),
    }


def _agent_hours(agent: Agent) -> dict:
    rules = sorted((h.weekday, h.start_time, h.end_time) for h in agent.hours)
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    return {
        "hours": [f"{days[d]} {s:%H:%M}-{e:%H:%M}" for d, s, e in rules],
        "time_zone": agent.time_zone,
    }


def update_agent_skills(
    session: so.Session,
    agent: Agent,
    *,
    skills: Iterable[Skill],
    territories: Iterable[Territory],
    by: User | None = None,
) -> Agent:
    """Replace what the agent can do and where it goes (bookings it holds stay its own)."""
    before = _agent_reach(agent)
    agent.skills = sorted(set(skills), key=lambda s: s.code)
    agent.territories = sorted(set(territories), key=lambda t: t.name)
    return record_saved(session, by, "update_skills", agent, before, _agent_reach)


def update_weekly_hours(
    session: so.Session,
    agent: Agent,
    hours: Iterable[tuple[int, time, time]],
    by: User | None,
    *,
    time_zone: str | None = None,
) -> list:
    """Replace the agent's weekly hours (and zone); park the bookings that no longer fit."""
    if time_zone is not None and not is_valid_zone(time_zone):
        raise Invalid("Choose a time zone from the list.", field="time_zone")
    before = _agent_hours(agent)
    set_weekly_hours(agent, hours)
    if time_zone is not None:
        agent.time_zone = time_zone
    record_saved(session, by, "update_hours", agent, before, _agent_hours)
    return _disrupt(session, agent, by, WHY_HOURS)


@dataclass(frozen=True)
class TimeOffAdded:
    time_off: TimeOff
    parked: list


def take_time_off(
    session: so.Session,
    agent: Agent,
    starts_at: datetime,
    ends_at: datetime,
    *,
    reason: str = "",
    by: User | None = None,
) -> TimeOffAdded:
    """Record the agent's time off and park the bookings it falls on."""
    if ends_at <= starts_at:
        raise Invalid("Time off must end after it starts.", field="ends_at")
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_REASON:
        raise Invalid(f"Keep the reason under {MAX_REASON} characters.", field="reason")
    entry = TimeOff(agent=agent, starts_at=starts_at, ends_at=ends_at, reason=reason)
    session.add(entry)
    record_saved(session, by, "create", entry, None, _time_off_state)
    return TimeOffAdded(entry, _disrupt(session, agent, by, WHY_TIME_OFF))


def _time_off_state(entry: TimeOff) -> dict:
    return snapshot(entry, "agent_id", "starts_at", "ends_at", "reason")


def remove_time_off(session: so.Session, entry: TimeOff, *, by: User | None = None) -> None:
    """Delete a stretch of time off: the agent can be booked then again."""
    record_change(session, by, "delete", entry, _time_off_state(entry), None)
    entry.agent.time_off.remove(entry)
    session.flush()


def set_agent_active(session: so.Session, agent: Agent, active: bool, by: User | None) -> list:
    """Switch an agent on or off for booking; switching off parks all its upcoming bookings."""
    if active:
        _never_bookable(agent.user)
    before = snapshot(agent, "active")
    agent.active = active
    action = "reactivate" if active else "deactivate"
    record_saved(session, by, action, agent, before, lambda a: snapshot(a, "active"))
    return [] if active else _disrupt(session, agent, by, WHY_INACTIVE)


def _disrupt(session: so.Session, agent: Agent, by: User | None, why: str) -> list:
    return availability_changed(session, agent, by, why)


def add_holiday(session: so.Session, day: date, name: str, *, by: User | None = None) -> Holiday:
    """A day the organisation is closed: no window is offered on it."""
    name = _clean_name(name, "holiday")
    if session.scalar(sa.select(Holiday.id).where(Holiday.day == day)) is not None:
        raise Invalid("That day is already a holiday.", field="day")
    holiday = Holiday(day=day, name=name)
    session.add(holiday)
    return record_saved(session, by, "create", holiday, None, lambda h: snapshot(h, "day", "name"))


def remove_holiday(session: so.Session, holiday: Holiday, *, by: User | None = None) -> None:
    """The day is a working day again: its windows are offered at once."""
    record_change(session, by, "delete", holiday, snapshot(holiday, "day", "name"), None)
    session.delete(holiday)
    session.flush()
