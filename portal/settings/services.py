"""What managers and admins configure: services, the booking policy and staff users, and
the paged lists the settings pages show (portal.pagination: never a whole table).

Availability reads services, the policy, hours and time off from the database on every
request, so a saved change shapes the live windows at once; nothing here is cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts import invitations
from portal.accounts.models import BACKOFFICE, TEAM_ROLES, User
from portal.accounts.sessions import end_user_sessions
from portal.audit.services import Entity, record_change, snapshot
from portal.booking.models import BookingPolicy, Service
from portal.errors import Invalid, NotAllowed
from portal.ids import unique_code
from portal.pagination import Page, paginate
from portal.queues.services import sync_scheduling_membership
from portal.timeutil import now_utc
from portal.workforce.models import (
    Agent,
    Holiday,
    Skill,
    Territory,
    agent_skills,
    agent_territories,
)
from portal.workforce.services import create_agent, set_agent_active

if TYPE_CHECKING:
    from datetime import date

    from portal.booking.models import Appointment

# A hold (job plus travel buffer) lasts at most a day: the database refuses longer ones.
MAX_BLOCK_MINUTES = 24 * 60
MAX_AGENTS_NEEDED = 10
MAX_DESCRIPTION = 2000
STAFF_ROLE_ORDER = ("agent", "scheduler", "manager", "admin")


# --- services ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceData:
    """What a manager sets on a service."""

    name: str
    description: str
    duration_minutes: int
    buffer_minutes: int
    agents_needed: int
    required_skill_id: int | None
    active: bool


def list_services(session: so.Session, *, page: int = 1, per_page: int = 20) -> Page:
    """Services by name, active ones first."""
    query = (
        sa.select(Service)
        .options(so.joinedload(Service.required_skill))
        .order_by(Service.active.desc(), Service.name, Service.id)
    )
    return paginate(session, query, page, per_page)


SERVICE_FIELDS = (
    "name",
    "description",
    "duration_minutes",
    "buffer_minutes",
    "agents_needed",
    "required_skill_id",
    "active",
)


def create_service(session: so.Session, data: ServiceData, *, by: User | None = None) -> Service:
    """A new bookable service; its code is made from the name once and never changes."""
    service = Service(
        code=unique_code(session, Service.code, data.name, sep="-", fallback="service")
    )
    _apply_service(session, service, data)
    session.add(service)
    session.flush()
    record_change(session, by, "create", service, None, snapshot(service, *SERVICE_FIELDS))
    return service


def update_service(
    session: so.Session, service: Service, data: ServiceData, *, by: User | None = None
) -> Service:
    """Change a service; the windows offered for it change with the next page load.

    Bookings already made keep the time they hold."""
    before = snapshot(service, *SERVICE_FIELDS)
    _apply_service(session, service, data)
    session.flush()
    record_change(session, by, "update", service, before, snapshot(service, *SERVICE_FIELDS))
    return service


def _apply_service(session: so.Session, service: Service, data: ServiceData) -> None:
    name = " ".join(data.name.split())
    if not name:
        raise Invalid("Enter a name for the service.", field="name")
    if len(name) > 120:
        raise Invalid("Use at most 120 characters.", field="name")
    clash = session.scalar(
        sa.select(Service.id).where(
            sa.func.lower(Service.name) == name.lower(), Service.id != (service.id or 0)
        )
    )
    if clash is not None:
        raise Invalid("Another service has that name.", field="name")
    if len(data.description) > MAX_DESCRIPTION:
        raise Invalid(f"Use at most {MAX_DESCRIPTION} characters.", field="description")
    if data.duration_minutes <= 0:
        raise Invalid("The job must take at least a minute.", field="duration_minutes")
    if data.buffer_minutes < 0:
        raise Invalid("The travel buffer cannot be negative.", field="buffer_minutes")
    if data.duration_minutes + data.buffer_minutes > MAX_BLOCK_MINUTES:
        raise Invalid(
            "The job and its travel buffer must fit in one day (1,440 minutes).",
            field="duration_minutes",
        )
    if not 1 <= data.agents_needed <= MAX_AGENTS_NEEDED:
        raise Invalid(
            f"A job needs between 1 and {MAX_AGENTS_NEEDED} agents.", field="agents_needed"
        )
    skill = None
    if data.required_skill_id is not None:
        skill = session.get(Skill, data.required_skill_id)
        if skill is None:
            raise Invalid("Choose a skill from the list.", field="required_skill_id")
    service.name = name
    service.description = data.description.strip()
    service.duration_minutes = data.duration_minutes
    service.buffer_minutes = data.buffer_minutes
    service.agents_needed = data.agents_needed
    service.required_skill = skill
    service.active = data.active


# --- the booking policy --------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyData:
    window_minutes: int
    step_minutes: int
    min_notice_minutes: int
    horizon_days: int
    reschedule_cutoff_hours: int
    max_self_reschedules: int


def update_policy(
    session: so.Session, data: PolicyData, *, by: User | None = None
) -> BookingPolicy:
    """Save the booking rules (the single policy row, made on first save)."""
    if data.window_minutes < 0 or data.window_minutes > MAX_BLOCK_MINUTES:
        raise Invalid("A window lasts between 0 and 1,440 minutes.", field="window_minutes")
    if data.step_minutes < 0 or data.step_minutes > MAX_BLOCK_MINUTES:
        raise Invalid("The step is between 0 and 1,440 minutes.", field="step_minutes")
    if data.window_minutes == 0 and data.step_minutes == 0:
        raise Invalid(
            "With exact start times (window 0) the step must be at least a minute.",
            field="step_minutes",
        )
    if data.min_notice_minutes < 0:
        raise Invalid("The notice cannot be negative.", field="min_notice_minutes")
    if not 1 <= data.horizon_days <= 366:
        raise Invalid("The horizon is between 1 and 366 days.", field="horizon_days")
    if data.min_notice_minutes >= data.horizon_days * 24 * 60:
        raise Invalid(
            "The minimum notice must be shorter than the horizon, or nothing could be booked.",
            field="min_notice_minutes",
        )
    if data.reschedule_cutoff_hours < 0:
        raise Invalid("The cut-off cannot be negative.", field="reschedule_cutoff_hours")
    if data.max_self_reschedules < 0:
        raise Invalid("The limit cannot be negative.", field="max_self_reschedules")
    policy = session.get(BookingPolicy, 1)
    fields = tuple(vars(data))
    before = snapshot(policy, *fields) if policy is not None else None
    if policy is None:
        policy = BookingPolicy(id=1)
        session.add(policy)
    for name, value in vars(data).items():
        setattr(policy, name, value)
    session.flush()
    record_change(
        session,
        by,
        "update",
        Entity("booking_policy", policy.id, "Booking policy"),
        before or {},
        snapshot(policy, *fields),
    )
    return policy


# --- agents, skills, territories, holidays: the lists ---------------------------------------


def list_agents(
    session: so.Session,
    *,
    territory_id: int | None = None,
    skill_id: int | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page:
    """Agents by name, filtered by a territory they serve and a skill they have."""
    query = (
        sa.select(Agent)
        .join(User, Agent.user_id == User.id)
        .options(
            so.joinedload(Agent.user),
            so.selectinload(Agent.skills),
            so.selectinload(Agent.territories),
            so.selectinload(Agent.hours),
        )
        .order_by(Agent.active.desc(), User.full_name, Agent.id)
    )
    if territory_id is not None:
        query = query.where(
            Agent.id.in_(
                sa.select(agent_territories.c.agent_id).where(
                    agent_territories.c.territory_id == territory_id
                )
            )
        )
    if skill_id is not None:
        query = query.where(
            Agent.id.in_(
                sa.select(agent_skills.c.agent_id).where(agent_skills.c.skill_id == skill_id)
            )
        )
    return paginate(session, query, page, per_page)


DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def summarise_hours(rules) -> list[str]:
    """Weekly hours in a few lines: days with the same periods together,
    ['Mon–Fri 09:00–17:00', 'Sat 10:00–14:00']."""
    by_day: dict[int, tuple[str, ...]] = {}
    for rule in sorted(rules, key=lambda r: (r.weekday, r.start_time)):
        period = f"{rule.start_time:%H:%M}–{rule.end_time:%H:%M}"
        by_day[rule.weekday] = (*by_day.get(rule.weekday, ()), period)
    groups: dict[tuple[str, ...], list[int]] = {}
    for day, periods in sorted(by_day.items()):
        groups.setdefault(periods, []).append(day)
    return [f"{_day_span(days)} {', '.join(periods)}" for periods, days in groups.items()]


def _day_span(days: list[int]) -> str:
    """[0, 1, 2, 4] -> 'Mon–Wed, Fri'."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        DAY_NAMES[r[0]] if len(r) == 1 else f"{DAY_NAMES[r[0]]}–{DAY_NAMES[r[-1]]}" for r in runs
    )


def list_skills(session: so.Session, *, page: int = 1, per_page: int = 30) -> Page:
    return paginate(session, sa.select(Skill).order_by(Skill.name, Skill.id), page, per_page)


def list_territories(session: so.Session, *, page: int = 1, per_page: int = 20) -> Page:
    query = (
        sa.select(Territory)
        .options(so.selectinload(Territory.prefixes))
        .order_by(Territory.name, Territory.id)
    )
    return paginate(session, query, page, per_page)


def list_holidays(
    session: so.Session, *, today: date, past: bool = False, page: int = 1, per_page: int = 20
) -> Page:
    """Coming holidays soonest first; or, with `past`, the ones gone by, latest first."""
    query = sa.select(Holiday)
    if past:
        query = query.where(Holiday.day < today).order_by(Holiday.day.desc())
    else:
        query = query.where(Holiday.day >= today).order_by(Holiday.day)
    return paginate(session, query, page, per_page)


def all_skills(session: so.Session) -> list[Skill]:
    """Every skill, for pickers (a short list: a skill is a trade, not a record)."""
    return list(session.scalars(sa.select(Skill).order_by(Skill.name)))


def all_territories(session: so.Session) -> list[Territory]:
    """Every territory, for pickers (a short list: regions of the organisation)."""
    return list(session.scalars(sa.select(Territory).order_by(Territory.name)))


# --- staff users (admins) --------------------------------------------------------------------


def list_staff_users(
    session: so.Session,
    *,
    role: str | None = None,
    page: int = 1,
    per_page: int = 25,
) -> Page:
    """Staff and back-office users by name, active ones first, optionally of one role."""
    query = (
        sa.select(User)
        .where(User.role.in_(sorted(TEAM_ROLES)))
        .order_by(User.active.desc(), User.full_name, User.id)
    )
    if role:
        query = query.where(User.role == role)
    return paginate(session, query, page, per_page)


def get_staff_user(session: so.Session, user_id: int) -> User | None:
    user = session.get(User, user_id)
    return user if user is not None and user.role in TEAM_ROLES else None


def _require_admin(admin: User) -> None:
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can manage staff users.")


def _check_role(role: str) -> None:
    if role not in TEAM_ROLES:
        raise Invalid("Choose agent, scheduler, manager, admin or back office.", field="role")


def invite_team_user(
    session: so.Session, admin: User, *, full_name: str, email: str, role: str, time_zone: str
) -> User:
    """Invite a staff or back-office user (portal.accounts.invitations); a scheduler joins
    the Scheduling queue at once."""
    user = invitations.invite_staff_user(
        session, admin, full_name=full_name, email=email, role=role, time_zone=time_zone
    )
    sync_scheduling_membership(session, user)
    return user


def change_role(session: so.Session, admin: User, user: User, role: str) -> User:
    """Give a staff user another role; an admin cannot change its own. A scheduler joins
    the Scheduling queue, one who stops being a scheduler leaves it. A bookable agent
    cannot become back office (never bookable) until its agent is switched off."""
    _require_admin(admin)
    _check_role(role)
    if user.id == admin.id:
        raise Invalid("You cannot change your own role: ask another admin.", field="role")
    agent = agent_for_user(session, user)
    if role == BACKOFFICE and agent is not None and agent.active:
        raise Invalid(
            f"{user.full_name} is bookable as a technician, and back office never is: switch "
            "their agent off first (Settings, Agents), which moves their upcoming visits "
            "to the scheduler.",
            field="role",
        )
    before = snapshot(user, "role")
    user.role = role
    if role == "agent" and agent is None:
        create_agent(session, user, time_zone=user.time_zone)
    sync_scheduling_membership(session, user)
    session.flush()
    record_change(session, admin, "change_role", user, before, snapshot(user, "role"))
    return user


def set_user_active(
    session: so.Session, admin: User, user: User, active: bool
) -> list[Appointment]:
    """Let a staff user log in or not. Deactivating ends the user's sessions on every
    device at once. Deactivating an agent's user switches the agent off too, which parks
    its upcoming bookings (returned); reactivating switches it on."""
    _require_admin(admin)
    if user.id == admin.id and not active:
        raise Invalid("You cannot deactivate yourself: ask another admin.")
    before = snapshot(user, "active")
    user.active = active
    session.flush()
    record_change(
        session,
        admin,
        "reactivate" if active else "deactivate",
        user,
        before,
        snapshot(user, "active"),
    )
    if not active:
        end_user_sessions(session, user, now_utc(), "deactivated")
    agent = agent_for_user(session, user)
    if agent is None or agent.active == active:
        return []
    return set_agent_active(session, agent, active, admin)


def agent_for_user(session: so.Session, user: User) -> Agent | None:
    """The agent record that makes this user bookable, if any."""
    return session.scalar(sa.select(Agent).where(Agent.user_id == user.id))
