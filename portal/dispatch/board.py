"""The dispatch board's read side: who works when, and what waits for a scheduler.

The board selects the columns it shows, never ORM objects, and asks one query per kind
of thing (agents, their territories, the holds in the range, the queue, the parked
appointments, the filter choices): its query count does not grow with the number of
appointments, and a week of 2,000 appointments costs rows, not round trips. Holds are
found by their planned interval overlapping the shown range, bounded on `starts_at`
(a hold lasts at most a day) so the index does the work.

Everything is laid out in the viewer's zone, which the page names.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import CustomerAccount, ServiceLocation, User
from portal.booking import states
from portal.booking.models import APPOINTMENT_STATES, Appointment, AppointmentHold, Service
from portal.booking.windows import free_agents_at, qualified_agent_names
from portal.formatting import status_label
from portal.timeutil import local_day_bounds, now_utc, week_start
from portal.workforce.models import (
    Agent,
    Skill,
    Territory,
    TimeOff,
    agent_skills,
    agent_territories,
)
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrder, WorkOrderTask
from portal.workorders.services import SCHEDULING_QUEUE

VIEWS = ("day", "week")
# The day view always shows at least these wall-clock hours, widened to fit what is booked.
DAY_FIRST_HOUR, DAY_LAST_HOUR = 7, 19
QUARTER = 15  # minutes: the day view's grid
MINUTE = timedelta(minutes=1)
QUEUE_LIMIT = 50
HOLD_LOOKBACK = timedelta(days=1)  # no hold is longer (a constraint guarantees it)

# What each status means to a scheduler (the legend); STATUS_WORDS speaks to customers.
LEGEND = states.STAFF_STATUS_WORDS
STATUS_CHOICES = tuple(s for s in APPOINTMENT_STATES if s != "cancelled")


def appointment_number(appointment_id: int) -> str:
    return f"SA-{appointment_id:06d}"


# --- what is shown ------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardFilters:
    skill_id: int | None = None
    service_id: int | None = None
    status: str | None = None
    territory_id: int | None = None

    @property
    def active(self) -> bool:
        values = (self.skill_id, self.service_id, self.status, self.territory_id)
        return any(v is not None for v in values)


@dataclass(frozen=True)
class BoardRange:
    """A local day or Monday-to-Sunday week in `zone`, and its UTC bounds."""

    view: str
    anchor: date
    days: tuple[date, ...]
    zone: str
    starts_at: datetime
    ends_at: datetime

    @property
    def step(self) -> timedelta:
        return timedelta(days=1 if self.view == "day" else 7)

    @property
    def previous(self) -> date:
        return self.anchor - self.step

    @property
    def next(self) -> date:
        return self.anchor + self.step


def board_range(view: str, anchor: date, zone: str) -> BoardRange:
    """The day of `anchor`, or the week that holds it, in the viewer's zone."""
    if view == "week":
        first = week_start(anchor)
        days = tuple(first + timedelta(days=i) for i in range(7))
    else:
        days = (anchor,)
    starts_at, _ = local_day_bounds(days[0], zone)
    _, ends_at = local_day_bounds(days[-1], zone)
    return BoardRange(view, anchor, days, zone, starts_at, ends_at)


@dataclass(slots=True)
class Block:
    """One agent held by one appointment: a block in that agent's row."""

    appointment_id: int
    number: str
    status: str
    status_text: str
    customer: str
    service: str
    time_label: str
    starts: datetime  # local
    ends: datetime  # local
    task_id: int | None
    reassignable: bool


@dataclass(slots=True)
class Cell:
    """One cell of an agent's row. In the week view a day with its blocks in time order;
    in the day view a stretch of `span` quarter hours, empty or holding one block, so
    the block's width and place follow its time (colspan: no inline styles needed)."""

    day: str  # ISO date
    blocks: list[Block]
    span: int = 1
    on_the_hour: bool = False


@dataclass
class AgentRow:
    id: int
    name: str
    territories: str
    days: list[list[Block]]  # one list per day, in time order
    cells: list[Cell] = field(default_factory=list)  # what the table shows


@dataclass(frozen=True, slots=True)
class QueueItem:
    task_id: int
    title: str
    due_at: datetime | None
    work_order: str
    customer: str
    appointment_id: int | None
    number: str | None
    status: str | None
    service: str | None
    window_start: datetime | None
    window_end: datetime | None


@dataclass(frozen=True, slots=True)
class ParkedItem:
    appointment_id: int
    number: str
    customer: str
    service: str
    window_start: datetime
    window_end: datetime


@dataclass
class Board:
    range: BoardRange
    filters: BoardFilters
    rows: list[AgentRow]
    hours: list[str]  # the day view's hour columns, as local times
    block_count: int
    queue: list[QueueItem]
    queue_total: int
    parked: list[ParkedItem]
    parked_total: int


@dataclass(frozen=True)
class FilterChoices:
    skills: list[tuple[int, str]]
    services: list[tuple[int, str]]
    territories: list[tuple[int, str]]


def filter_choices(session: so.Session) -> FilterChoices:
    """What the filters offer: skills, active services, territories (by name)."""

    def pairs(query) -> list[tuple[int, str]]:
        return [(row[0], row[1]) for row in session.execute(query)]

    return FilterChoices(
        skills=pairs(sa.select(Skill.id, Skill.name).order_by(Skill.name)),
        services=pairs(
            sa.select(Service.id, Service.name).where(Service.active).order_by(Service.name)
        ),
        territories=pairs(sa.select(Territory.id, Territory.name).order_by(Territory.name)),
    )


# --- the queries --------------------------------------------------------------------------


def _agent_conditions(filters: BoardFilters) -> list:
    """Which agents get a row: active, and matching the skill, service and territory."""
    conditions = [Agent.active.is_(True)]
    if filters.skill_id is not None:
        conditions.append(
            Agent.id.in_(
                sa.select(agent_skills.c.agent_id).where(
                    agent_skills.c.skill_id == filters.skill_id
                )
            )
        )
    if filters.service_id is not None:
        # Agents who could do the service: it needs no skill, or they have it.
        required = (
            sa.select(Service.required_skill_id)
            .where(Service.id == filters.service_id)
            .scalar_subquery()
        )
        conditions.append(
            sa.or_(
                required.is_(None),
                Agent.id.in_(
                    sa.select(agent_skills.c.agent_id).where(agent_skills.c.skill_id == required)
                ),
            )
        )
    if filters.territory_id is not None:
        conditions.append(
            Agent.id.in_(
                sa.select(agent_territories.c.agent_id).where(
                    agent_territories.c.territory_id == filters.territory_id
                )
            )
        )
    return conditions


def _appointment_conditions(filters: BoardFilters, *, queue: bool) -> list:
    """Which appointments show. On the board the skill and territory filters choose the
    rows (agents) and each row keeps its whole schedule, so nobody looks free who is
    not; in the queues every filter applies to the appointment itself."""
    conditions = []
    if filters.service_id is not None:
        conditions.append(Appointment.service_id == filters.service_id)
    if filters.status is not None:
        conditions.append(Appointment.status == filters.status)
    if not queue:
        return conditions
    if filters.skill_id is not None:
        conditions.append(Service.required_skill_id == filters.skill_id)
    if filters.territory_id is not None:
        conditions.append(
            Appointment.location_id.in_(
                sa.select(ServiceLocation.id).where(
                    ServiceLocation.territory_id == filters.territory_id
                )
            )
        )
    return conditions


def load_board(session: so.Session, rng: BoardRange, filters: BoardFilters) -> Board:
    """Agents down the side, their holds in the range as blocks, and the queue."""
    agent_conditions = _agent_conditions(filters)
    agents = session.execute(
        sa.select(Agent.id, User.full_name)
        .join(User, User.id == Agent.user_id)
        .where(*agent_conditions)
        .order_by(User.full_name, Agent.id)
    ).all()
    shown_agents = sa.select(Agent.id).where(*agent_conditions)
    territories: dict[int, list[str]] = defaultdict(list)
    for agent_id, name in session.execute(
        sa.select(agent_territories.c.agent_id, Territory.name)
        .join(Territory, Territory.id == agent_territories.c.territory_id)
        .where(agent_territories.c.agent_id.in_(shown_agents))
        .order_by(Territory.name)
    ):
        territories[agent_id].append(name)

    blocks = _load_blocks(session, rng, filters, shown_agents)
    rows = [
        AgentRow(
            id=agent_id,
            name=name,
            territories=", ".join(territories[agent_id]),
            days=[[] for _ in rng.days],
        )
        for agent_id, name in agents
    ]
    by_id = {row.id: row for row in rows}
    first_day, last = rng.days[0], len(rng.days) - 1
    count = 0
    for agent_id, block in blocks:
        row = by_id.get(agent_id)
        if row is None:
            continue
        index = min(max((block.starts.date() - first_day).days, 0), last)
        row.days[index].append(block)
        count += 1
    hours: list[str] = []
    if rng.view == "day":
        hours = _lay_out_day(rows, rng)
    else:
        iso = [day.isoformat() for day in rng.days]
        for row in rows:
            row.cells = [Cell(iso[i], day_blocks) for i, day_blocks in enumerate(row.days)]
    queue, queue_total = _load_queue(session, filters)
    parked, parked_total = _load_parked(session, filters)
    return Board(rng, filters, rows, hours, count, queue, queue_total, parked, parked_total)


def _load_blocks(
    session: so.Session, rng: BoardRange, filters: BoardFilters, shown_agents
) -> list[tuple[int, Block]]:
    task = so.aliased(WorkOrderTask)
    query = (
        sa.select(
            AppointmentHold.id,
            AppointmentHold.agent_id,
            Appointment.id,
            Appointment.status,
            Appointment.planned_start,
            Appointment.planned_end,
            Service.name,
            CustomerAccount.name,
            task.id,
            task.status,
        )
        .join(Appointment, Appointment.id == AppointmentHold.appointment_id)
        .join(Service, Service.id == Appointment.service_id)
        .join(CustomerAccount, CustomerAccount.id == Appointment.account_id)
        .outerjoin(
            task,
            sa.and_(
                task.appointment_id == AppointmentHold.appointment_id,
                task.agent_id == AppointmentHold.agent_id,
                task.status.in_(ACTIVE_TASK_STATES),
            ),
        )
        .where(
            AppointmentHold.starts_at >= rng.starts_at - HOLD_LOOKBACK,
            AppointmentHold.starts_at < rng.ends_at,
            AppointmentHold.ends_at > rng.starts_at,
            AppointmentHold.agent_id.in_(shown_agents),
            *_appointment_conditions(filters, queue=False),
        )
        .order_by(AppointmentHold.agent_id, AppointmentHold.starts_at, task.id)
    )
    zone = ZoneInfo(rng.zone)
    labels = {status: status_label(status) for status in APPOINTMENT_STATES}
    seen: set[int] = set()
    out: list[tuple[int, Block]] = []
    # Plain rows through the connection: the ORM's row handling costs more than the
    # query itself at a few thousand rows.
    for (
        hold_id,
        agent_id,
        appointment_id,
        status,
        planned_start,
        planned_end,
        service,
        customer,
        task_id,
        task_status,
    ) in session.connection().execute(query):
        if hold_id in seen:  # two open tasks for one agent: show the block once
            continue
        seen.add(hold_id)
        starts, ends = planned_start.astimezone(zone), planned_end.astimezone(zone)
        block = Block(
            appointment_id,
            f"SA-{appointment_id:06d}",
            status,
            labels[status],
            customer,
            service,
            # Not strftime: at thousands of blocks it shows in the page's time.
            f"{starts.hour:02d}:{starts.minute:02d}–{ends.hour:02d}:{ends.minute:02d}",
            starts,
            ends,
            task_id,
            task_id is not None and states.can_reassign(task_status, status),
        )
        out.append((agent_id, block))
    return out


def _quarters(moment: datetime, rng: BoardRange, *, up: bool) -> int:
    """Quarter hours elapsed since the day began, clipped to the day. Elapsed, not wall
    clock: on the day the clocks go back the repeated hour gets columns of its own."""
    minutes = (min(max(moment, rng.starts_at), rng.ends_at) - rng.starts_at) // MINUTE
    return -(-minutes // QUARTER) if up else minutes // QUARTER


def _hour_quarters(rng: BoardRange, hour: int, *, up: bool) -> int:
    """Quarter hours from the day's start to `hour`:00 on its wall clock, in whole hour
    columns (rounded down, or up): 07:00 is six hours in on a 23-hour day, eight on a
    25-hour one."""
    wall = datetime.combine(rng.days[0], time(hour), tzinfo=ZoneInfo(rng.zone))
    quarters = _quarters(wall, rng, up=up)
    return -(-quarters // 4) * 4 if up else quarters // 4 * 4


def _lay_out_day(rows: list[AgentRow], rng: BoardRange) -> list[str]:
    """Give each row of the day view its lane; return the labels of the hour columns."""
    day_quarters = _quarters(rng.ends_at, rng, up=True)  # 92, 96 or 100
    first_q = _hour_quarters(rng, DAY_FIRST_HOUR, up=False)
    last_q = min(_hour_quarters(rng, DAY_LAST_HOUR, up=True), day_quarters)
    spans: dict[int, list[tuple[int, int, Block]]] = {}
    for row in rows:
        placed, end = [], 0
        for block in row.days[0]:
            start_q = max(_quarters(block.starts, rng, up=False), end)
            end = max(_quarters(block.ends, rng, up=True), start_q + 1)  # at least a quarter
            placed.append((start_q, end, block))
        if placed:
            first_q = min(first_q, placed[0][0] // 4 * 4)
            last_q = max(last_q, -(-placed[-1][1] // 4) * 4)
        spans[row.id] = placed
    day = rng.days[0].isoformat()
    for row in rows:
        row.cells = _lane(day, spans[row.id], first_q, last_q)
    zone = ZoneInfo(rng.zone)
    # Name the zone in each label only when the day is not 24 hours long.
    shape = "%H:%M" if day_quarters == 96 else "%H:%M %Z"
    return [
        (rng.starts_at + timedelta(hours=h)).astimezone(zone).strftime(shape)
        for h in range(first_q // 4, last_q // 4)
    ]


def _lane(day: str, placed: list[tuple[int, int, Block]], first_q: int, last_q: int) -> list[Cell]:
    cells: list[Cell] = []

    def gap(to: int) -> None:
        nonlocal position
        # Empty stretches break on the hour, so every hour line is drawn.
        while position < to:
            stop = min(to, (position // 4 + 1) * 4)
            cells.append(Cell(day, [], stop - position, position % 4 == 0))
            position = stop

    position = first_q
    for start, end, block in placed:
        gap(start)
        cells.append(Cell(day, [block], end - start, start % 4 == 0))
        position = end
    gap(last_q)
    return cells


def _load_queue(session: so.Session, filters: BoardFilters) -> tuple[list[QueueItem], int]:
    """Open tasks in the scheduling queue, soonest due first, with the total."""
    query = (
        sa.select(
            WorkOrderTask.id,
            WorkOrderTask.title,
            WorkOrderTask.due_at,
            WorkOrder.id,
            CustomerAccount.name,
            Appointment.id,
            Appointment.status,
            Service.name,
            Appointment.window_start,
            Appointment.window_end,
            sa.func.count().over(),
        )
        .join(WorkOrder, WorkOrder.id == WorkOrderTask.work_order_id)
        .join(CustomerAccount, CustomerAccount.id == WorkOrder.account_id)
        .outerjoin(Appointment, Appointment.id == WorkOrderTask.appointment_id)
        .outerjoin(Service, Service.id == Appointment.service_id)
        .where(
            WorkOrderTask.queue == SCHEDULING_QUEUE,
            WorkOrderTask.agent_id.is_(None),
            WorkOrderTask.status.in_(ACTIVE_TASK_STATES),
            *_appointment_conditions(filters, queue=True),
        )
        .order_by(WorkOrderTask.due_at.nulls_last(), WorkOrderTask.id)
        .limit(QUEUE_LIMIT)
    )
    items, total = [], 0
    for row in session.execute(query):
        total = row[10]
        items.append(
            QueueItem(
                task_id=row[0],
                title=row[1],
                due_at=row[2],
                work_order=f"WO-{row[3]:06d}",
                customer=row[4],
                appointment_id=row[5],
                number=appointment_number(row[5]) if row[5] is not None else None,
                status=row[6],
                service=row[7],
                window_start=row[8],
                window_end=row[9],
            )
        )
    return items, total


def _load_parked(session: so.Session, filters: BoardFilters) -> tuple[list[ParkedItem], int]:
    """Appointments that need a new time (they hold nobody), soonest first."""
    query = (
        sa.select(
            Appointment.id,
            CustomerAccount.name,
            Service.name,
            Appointment.window_start,
            Appointment.window_end,
            sa.func.count().over(),
        )
        .join(Service, Service.id == Appointment.service_id)
        .join(CustomerAccount, CustomerAccount.id == Appointment.account_id)
        .where(
            Appointment.status == "needs_reschedule", *_appointment_conditions(filters, queue=True)
        )
        .order_by(Appointment.window_start, Appointment.id)
        .limit(QUEUE_LIMIT)
    )
    items, total = [], 0
    for appointment_id, customer, service, start, end, count in session.execute(query):
        total = count
        items.append(
            ParkedItem(
                appointment_id, appointment_number(appointment_id), customer, service, start, end
            )
        )
    return items, total


# --- the reassign and assign panels -------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    agent_id: int
    name: str
    free: bool
    why: str  # what the panel says next to the name


@dataclass(frozen=True)
class ReassignOptions:
    task: WorkOrderTask
    appointment: Appointment
    current_agent: str
    candidates: list[Candidate]
    blocked: str | None  # why this task cannot be reassigned now, or None


def _candidates(
    session: so.Session, appointment: Appointment, *, leave_out: int | None = None
) -> list[Candidate]:
    """The agents qualified for the appointment (skill and territory), by name, each
    marked free or not for its planned time and why not.

    A fixed number of queries whatever the number of agents: the qualified agents, one
    availability check for all of them at once (free_agents_at: hours, leave and holds
    loaded in one query each), and the bookings and leave that explain who is not free.
    The database still has the last word when the assignment is made."""
    service, location = appointment.service, appointment.location
    qualified = [
        (agent_id, name)
        for agent_id, name in qualified_agent_names(session, service, location)
        if agent_id != leave_out
    ]
    if not qualified:
        return []
    ids = [agent_id for agent_id, _ in qualified]
    starts = appointment.planned_start
    ends = starts + timedelta(minutes=service.duration_minutes + service.buffer_minutes)
    free = set(free_agents_at(session, service, location, starts, now=min(now_utc(), starts)))
    held = {hold.agent_id for hold in appointment.holds}
    booked = _booked_at(session, appointment, ids, starts, ends)
    away = set(
        session.scalars(
            sa.select(TimeOff.agent_id).where(
                TimeOff.agent_id.in_(ids), TimeOff.starts_at < ends, TimeOff.ends_at > starts
            )
        )
    )
    candidates = []
    for agent_id, name in qualified:
        if agent_id in held:
            candidates.append(Candidate(agent_id, name, False, "already on this appointment"))
        elif agent_id in free:
            candidates.append(Candidate(agent_id, name, True, "free"))
        elif agent_id in booked:
            candidates.append(Candidate(agent_id, name, False, "not free: booked at that time"))
        elif agent_id in away:
            candidates.append(Candidate(agent_id, name, False, "not free: on leave then"))
        else:
            candidates.append(Candidate(agent_id, name, False, "not free: not working then"))
    return candidates


def reassign_options(session: so.Session, task: WorkOrderTask) -> ReassignOptions:
    """The agents who could take the task instead of its agent, free or not (see
    _candidates: one query set for all of them)."""
    appointment = task.appointment
    current = session.get(Agent, task.agent_id) if task.agent_id is not None else None
    blocked = states.reassign_block(task.status, appointment.status)
    candidates: list[Candidate] = []
    if blocked is None:
        candidates = _candidates(session, appointment, leave_out=task.agent_id)
    return ReassignOptions(
        task=task,
        appointment=appointment,
        current_agent=current.name if current else "nobody",
        candidates=candidates,
        blocked=blocked,
    )


@dataclass(frozen=True)
class AssignOptions:
    appointment: Appointment
    needed: int  # how many agents the job takes
    candidates: list[Candidate]
    blocked: str | None  # why it cannot be assigned from here, or None

    @property
    def free_count(self) -> int:
        return sum(1 for c in self.candidates if c.free)

    @property
    def enough_free(self) -> bool:
        return self.free_count >= self.needed


def assign_options(session: so.Session, appointment: Appointment, now: datetime) -> AssignOptions:
    """The agents who could take a parked appointment at its current window, free or
    not; `blocked` says why it cannot be assigned from the queue at all."""
    blocked = states.assign_block(appointment.status, appointment.window_start, now)
    candidates = [] if blocked else _candidates(session, appointment)
    return AssignOptions(appointment, appointment.service.agents_needed, candidates, blocked)


def _booked_at(
    session: so.Session,
    appointment: Appointment,
    agent_ids: list[int],
    starts: datetime,
    ends: datetime,
) -> set[int]:
    """Agents another appointment holds during [starts, ends), in one query."""
    return set(
        session.scalars(
            sa.select(AppointmentHold.agent_id).where(
                AppointmentHold.agent_id.in_(agent_ids),
                AppointmentHold.appointment_id != appointment.id,
                AppointmentHold.starts_at >= starts - HOLD_LOOKBACK,
                AppointmentHold.starts_at < ends,
                AppointmentHold.ends_at > starts,
            )
        )
    )
