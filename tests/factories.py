"""Factories: `create_<thing>(session, **overrides)` makes a valid row, flushes, returns it.

Defaults are unique where the schema wants them unique (e-mails, names, codes), so a test
states only what it is about. Users get the password "demo", hashed once per process:
argon2id costs about a tenth of a second per hash, and a test makes many users.

Defaults fit together: an agent made with defaults works Monday to Friday, 09:00-17:00
(Europe/London) in the default territory, and a location made with defaults lies in
that territory, so the agent can serve it.

`build_world(session, **overrides)` puts those together into a bookable world (policy,
customer, address, service, agents, staff), and `NOW` is the moment tests pin the clock to.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cache
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, CustomerAccount, ServiceLocation, User
from portal.accounts.services import add_contact, create_customer_account, hash_password
from portal.booking.models import Appointment, AppointmentHold, BookingPolicy, Service
from portal.queues.services import scheduling_queue_id
from portal.timeutil import now_utc
from portal.workforce.models import Agent, Skill, Territory
from portal.workforce.services import create_agent as _create_agent
from portal.workforce.services import create_territory as _create_territory
from portal.workforce.services import take_time_off
from portal.workorders.models import WorkOrder, WorkOrderTask

DEMO_PASSWORD = "demo"
DEFAULT_ZONE = "Europe/London"
DEFAULT_TERRITORY = "Factory territory"
WEEKDAYS_9_TO_5 = tuple((day, time(9), time(17)) for day in range(5))

# The moment tests pin the clock to (`frozen_now(NOW)`): Monday 1 June 2026, 07:00 in
# London (BST), before the agents' working day (09:00-17:00) starts.
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


def pinned_now(**changes: int) -> datetime:
    """`NOW` with some fields changed (`pinned_now(hour=9)`), for a file that needs
    another moment of the same world; say in that file why."""
    return NOW.replace(**changes)


_numbers = itertools.count(1)


def _next() -> int:
    return next(_numbers)


@cache
def demo_password_hash() -> str:
    """The argon2id hash of "demo", computed once per process."""
    return hash_password(DEMO_PASSWORD)


def _password_hash(password: str | None) -> str | None:
    if password is None:
        return None
    return demo_password_hash() if password == DEMO_PASSWORD else hash_password(password)


def create_user(session: so.Session, **overrides) -> User:
    """A user (a customer unless `role` says otherwise) with the password "demo"."""
    n = _next()
    password = overrides.pop("password", DEMO_PASSWORD)
    values = {
        "email": f"user{n}@example.com",
        "full_name": f"Test User {n}",
        "role": "customer",
        "time_zone": DEFAULT_ZONE,
        "active": True,
        "email_verified_at": now_utc(),
        "password_hash": _password_hash(password),
        **overrides,
    }
    values["email"] = values["email"].lower()
    user = User(**values)
    session.add(user)
    session.flush()
    return user


def create_account(session: so.Session, **overrides) -> CustomerAccount:
    values = {"name": f"Account {_next()}", "kind": "business", **overrides}
    return create_customer_account(session, **values)


def create_customer(
    session: so.Session,
    *,
    account: CustomerAccount | None = None,
    phone: str = "+44 20 7946 0000",
    **user_overrides,
) -> tuple[User, CustomerAccount, Contact]:
    """A customer user, the account it belongs to and the contact joining them."""
    user = create_user(session, **{"role": "customer", **user_overrides})
    account = account or create_account(session)
    contact = add_contact(
        session, account, full_name=user.full_name, email=user.email, phone=phone, user=user
    )
    return user, account, contact


def default_territory(session: so.Session) -> Territory:
    """The territory that default agents and locations share (made on first use)."""
    territory = session.scalar(sa.select(Territory).where(Territory.name == DEFAULT_TERRITORY))
    if territory is None:
        territory = _create_territory(
            session, name=DEFAULT_TERRITORY, time_zone=DEFAULT_ZONE, prefixes=()
        )
    return territory


def create_territory(session: so.Session, **overrides) -> Territory:
    values = {
        "name": f"Territory {_next()}",
        "time_zone": DEFAULT_ZONE,
        "prefixes": (),
        **overrides,
    }
    return _create_territory(session, **values)


def create_location(session: so.Session, account: CustomerAccount, **overrides) -> ServiceLocation:
    """An address of `account`, in the default territory unless `territory` is given."""
    n = _next()
    if "territory" not in overrides:
        overrides["territory"] = default_territory(session)
    values = {
        "label": f"Site {n}",
        "street": f"{n} High Street",
        "city": "London",
        "postal_code": "SE1 9PG",
        "country": "GB",
        **overrides,
    }
    location = ServiceLocation(account=account, **values)
    session.add(location)
    session.flush()
    return location


def create_skill(session: so.Session, **overrides) -> Skill:
    n = _next()
    skill = Skill(**{"code": f"skill-{n}", "name": f"Skill {n}", **overrides})
    session.add(skill)
    session.flush()
    return skill


def create_agent(
    session: so.Session,
    *,
    user: User | None = None,
    time_zone: str = DEFAULT_ZONE,
    skills: Iterable[Skill] = (),
    territories: Iterable[Territory] | None = None,
    hours: Iterable[tuple[int, time, time]] = WEEKDAYS_9_TO_5,
    active: bool = True,
    **user_overrides,
) -> Agent:
    """An agent user made bookable: hours Mon-Fri 09:00-17:00 local, the default territory."""
    if user is None:
        user = create_user(session, **{"role": "agent", "time_zone": time_zone, **user_overrides})
    if territories is None:
        territories = [default_territory(session)]
    agent = _create_agent(
        session, user, time_zone=time_zone, skills=skills, territories=territories, hours=hours
    )
    agent.active = active
    session.flush()
    return agent


def create_service(session: so.Session, **overrides) -> Service:
    """A bookable service: 60 minutes, no buffer, one agent, no skill required."""
    n = _next()
    values = {
        "code": f"service-{n}",
        "name": f"Service {n}",
        "description": "",
        "duration_minutes": 60,
        "buffer_minutes": 0,
        "agents_needed": 1,
        "required_skill": None,
        "active": True,
        **overrides,
    }
    service = Service(**values)
    session.add(service)
    session.flush()
    return service


def ensure_policy(session: so.Session, **overrides) -> BookingPolicy:
    """The single booking-policy row (id 1), made if missing, with `overrides` applied."""
    policy = session.get(BookingPolicy, 1)
    if policy is None:
        policy = BookingPolicy(id=1)
        session.add(policy)
    for name, value in overrides.items():
        setattr(policy, name, value)
    session.flush()
    return policy


def create_work_order(
    session: so.Session, *, account: CustomerAccount | None = None, **overrides
) -> WorkOrder:
    account = account or create_account(session)
    values = {"summary": f"Work order {_next()}", "status": "new", **overrides}
    work_order = WorkOrder(account=account, **values)
    session.add(work_order)
    session.flush()
    return work_order


def create_task(
    session: so.Session,
    *,
    work_order: WorkOrder | None = None,
    agent: Agent | None = None,
    **overrides,
) -> WorkOrderTask:
    """A task on a work order: assigned to `agent`, or waiting in the scheduling queue."""
    work_order = work_order or create_work_order(session)
    values = {
        "title": f"Task {_next()}",
        "status": "assigned" if agent else "open",
        "queue_id": None if agent else scheduling_queue_id(session),
        **overrides,
    }
    task = WorkOrderTask(work_order=work_order, agent=agent, **values)
    session.add(task)
    session.flush()
    return task


WORK_ORDER_STATUS_OF = {
    "in_progress": "in_progress",
    "completed": "completed",
    "signed_off": "closed",
}


def create_appointment(
    session: so.Session,
    *,
    start: datetime,
    contact: Contact,
    service: Service | None = None,
    location: ServiceLocation | None = None,
    agents: Iterable[Agent] = (),
    window_minutes: int = 120,
    **overrides,
) -> Appointment:
    """An appointment written straight to the tables (no booking rules), with its holds.

    The window starts at `start`; the planned interval is the service's duration plus
    buffer from `start`, and each of `agents` gets a hold on it.
    """
    account = contact.account
    service = service or create_service(session)
    location = location or create_location(session, account)
    planned_end = start + timedelta(minutes=service.duration_minutes + service.buffer_minutes)
    # Work that has begun or ended has its work order where the moves would have put it
    # (the work-order status service refuses, say, closing a work order never started).
    wo_status = WORK_ORDER_STATUS_OF.get(overrides.get("status", "confirmed"), "scheduled")
    work_order = overrides.pop("work_order", None) or create_work_order(
        session, account=account, contact=contact, location=location, status=wo_status
    )
    values = {
        "status": "confirmed",
        "window_start": start,
        "window_end": start + timedelta(minutes=window_minutes),
        "planned_start": start,
        "planned_end": planned_end,
        **overrides,
    }
    appointment = Appointment(
        work_order=work_order,
        service=service,
        account=account,
        contact=contact,
        location=location,
        **values,
    )
    session.add(appointment)
    for agent in agents:
        appointment.holds.append(
            AppointmentHold(
                agent=agent, starts_at=appointment.planned_start, ends_at=appointment.planned_end
            )
        )
    session.flush()
    return appointment


# --- a bookable world -----------------------------------------------------------------------

# The booking policy of a world: two-hour windows on a fixed grid, an hour's notice, four
# weeks ahead, moves up to 24 hours before and twice per booking.
BOOKABLE_POLICY = MappingProxyType(
    {
        "window_minutes": 120,
        "step_minutes": 0,
        "min_notice_minutes": 60,
        "horizon_days": 28,
        "reschedule_cutoff_hours": 24,
        "max_self_reschedules": 2,
    }
)
_NONE: Mapping[str, Any] = MappingProxyType({})


@dataclass(kw_only=True)
class World:
    """What `build_world` made. A test file may name more records with `add()`.

    `world["name"]` reads a record by name, one of the fields or one added: fixtures that
    used to return a dict of records return the world, and their tests read it unchanged."""

    policy: BookingPolicy | None
    customer: User
    account: CustomerAccount
    contact: Contact
    location: ServiceLocation
    service: Service
    agents: list[Agent]
    skill: Skill | None = None
    scheduler: User | None = None
    manager: User | None = None
    appt: Appointment | None = None
    named: dict[str, Any] = field(default_factory=dict)

    @property
    def agent(self) -> Agent:
        """The first agent (a world has one unless told otherwise)."""
        return self.agents[0]

    def booking_fields(self, start: datetime) -> dict[str, Any]:
        """What a BookingRequest needs for the customer to book the service at its address
        in the window from `start`: `BookingRequest(**world.booking_fields(WINDOW))`."""
        return {
            "customer": self.customer,
            "service": self.service,
            "location": self.location,
            "window_start": start,
        }

    def add(self, **records: Any) -> World:
        """Name more records of this world (`world.add(holder=agent)`); returns it."""
        self.named.update(records)
        return self

    def __getitem__(self, name: str) -> Any:
        if name in self.named:
            return self.named[name]
        if name == "agent" or (name in self.__dataclass_fields__ and name != "named"):
            return getattr(self, name)
        raise KeyError(name)


def build_world(
    session: so.Session,
    *,
    policy: Mapping[str, int] | None = _NONE,
    customer: Mapping[str, Any] = _NONE,
    location: Mapping[str, Any] = _NONE,
    service: Mapping[str, Any] = _NONE,
    agents: int | Sequence[Mapping[str, Any]] = 1,
    skill: Mapping[str, Any] | None = None,
    scheduler: Mapping[str, Any] | None = None,
    manager: Mapping[str, Any] | None = None,
    appointment_at: datetime | None = None,
) -> World:
    """A world a customer can book in, made in this order and flushed.

    * the booking policy: BOOKABLE_POLICY with `policy` applied (`policy=None`: no row);
    * a `skill`, when given: the service requires it and every agent has it;
    * a customer (`customer`: create_customer's overrides), an address of its account
      in the default territory (`location`) and a 60-minute `service`;
    * `agents`: how many, or each one's create_agent overrides (hours, time_zone, ...);
    * a `scheduler` and a `manager`, when given (their create_user overrides, `{}` for
      the defaults);
    * with `appointment_at`, an appointment written straight to the tables (no booking
      rules) from that moment, held by the first agent: `world.appt`.
    """
    made: dict[str, Any] = {"policy": None, "skill": None}
    if policy is not None:
        made["policy"] = ensure_policy(session, **{**BOOKABLE_POLICY, **policy})
    if skill is not None:
        made["skill"] = create_skill(session, **skill)
    made["customer"], made["account"], made["contact"] = create_customer(session, **customer)
    made["location"] = create_location(session, made["account"], **location)
    made["service"] = create_service(session, **{"required_skill": made["skill"], **service})
    specs = [{}] * agents if isinstance(agents, int) else agents
    skills = [made["skill"]] if made["skill"] else []
    made["agents"] = [create_agent(session, **{"skills": skills, **spec}) for spec in specs]
    for role, overrides in [("scheduler", scheduler), ("manager", manager)]:
        made[role] = None if overrides is None else create_user(session, role=role, **overrides)
    world = World(**made)
    if appointment_at is not None:
        where = {"contact": world.contact, "service": world.service, "location": world.location}
        world.appt = create_appointment(
            session, start=appointment_at, agents=world.agents[:1], **where
        )
    return world


def add_time_off(session, agent, starts_at, ends_at, reason="", *, by=None):
    """Time off for `agent` (the bookings it falls on are parked); the TimeOff row."""
    return take_time_off(session, agent, starts_at, ends_at, reason=reason, by=by).time_off
