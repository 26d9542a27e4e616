"""The dispatch board's read side: who works when, and what waits for a scheduler.

The board selects the columns it shows, never ORM objects, and asks one query per kind
of thing (agents, their territories, the holds in the range, the queue, the parked
appointments, the filter choices): its query count does not grow with the number of
appointments, and a week of 2,000 appointments costs rows, not round trips. Holds are
found by their planned interval overlapping the shown range, bounded on `starts_at`
(a hold lasts at most a day) so the index does the work.

Everything is laid out in the viewer's zone, which the page names.

The filters live in filters.py, the waiting lists in queues.py and the reassign and
assign panels in panels.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import CustomerAccount, User
from portal.booking import states
from portal.booking.models import APPOINTMENT_STATES, Appointment, AppointmentHold, Service
from portal.dispatch.filters import BoardFilters, agent_conditions, appointment_conditions
from portal.dispatch.queues import ParkedItem, QueueItem, load_parked, load_queue
from portal.formatting import status_label
from portal.timeutil import local_day_bounds, week_start
from portal.workforce.models import (
    Agent,
    Territory,
    agent_territories,
)
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrderTask

VIEWS = ("day", "week")
# The day view always shows at least these wall-clock hours, widened to fit what is booked.
DAY_FIRST_HOUR, DAY_LAST_HOUR = 7, 19
QUARTER = 15  # minutes: the day view's grid
MINUTE = timedelta(minutes=1)
HOLD_LOOKBACK = timedelta(days=1)  # no hold is longer (a constraint guarantees it)

# What each status means to a scheduler (the legend); STATUS_WORDS speaks to customers.
LEGEND = states.STAFF_STATUS_WORDS


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


def load_board(session: so.Session, rng: BoardRange, filters: BoardFilters) -> Board:
    """Agents down the side, their holds in the range as blocks, and the queue."""
    conditions = agent_conditions(filters)
    agents = session.execute(
        sa.select(Agent.id, User.full_name)
        .join(User, User.id == Agent.user_id)
        .where(*conditions)
        .order_by(User.full_name, Agent.id)
    ).all()
    shown_agents = sa.select(Agent.id).where(*conditions)
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
    queue, queue_total = load_queue(session, filters)
    parked, parked_total = load_parked(session, filters)
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
            *appointment_conditions(filters, queue=False),
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
