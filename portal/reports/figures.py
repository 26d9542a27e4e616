"""The figures of the three reports, computed by SQL aggregates.

Every number here comes from a COUNT, SUM or AVG in the database, never from loading the
rows into Python; the one exception is the sign-off listing, which is detail by nature and
is read in pages (the PDF shows the newest, the CSV streams them all).

A report covers whole local days, date_from to date_to inclusive, in the organisation's
time zone; an appointment belongs to it by the start of its arrival window.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import CustomerAccount, User
from portal.availability.engine import AgentInput, working_minutes
from portal.availability.engine import WorkingHours as HoursRule
from portal.booking.models import APPOINTMENT_STATES, Appointment, AppointmentHold, Service, SignOff
from portal.errors import Invalid
from portal.reports.models import REPORT_KINDS
from portal.timeutil import local_day_bounds, week_start
from portal.workforce.models import Agent, Holiday, TimeOff, WorkingHours
from portal.workorders.models import TimelineEntry, WorkOrderTask

# A range up to this many days is shown day by day; a longer one week by week.
DAILY_UP_TO_DAYS = 31
MAX_RANGE_DAYS = 366
COMPLETED_STATES = ("completed", "signed_off")
TOP = 5


@dataclass(frozen=True)
class ReportParams:
    """What a report covers: its kind, whole local days, and optionally one service or agent."""

    kind: str
    date_from: date
    date_to: date
    zone: str
    service_id: int | None = None
    agent_id: int | None = None

    @property
    def start(self) -> datetime:
        return local_day_bounds(self.date_from, self.zone)[0]

    @property
    def end(self) -> datetime:
        return local_day_bounds(self.date_to, self.zone)[1]

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


def check_params(session: so.Session, params: ReportParams) -> None:
    """Refuse a report that cannot be made, naming the field at fault."""
    if params.kind not in REPORT_KINDS:
        raise Invalid("Choose one of the reports.", field="kind")
    if params.date_to < params.date_from:
        raise Invalid("The last day must not come before the first.", field="date_to")
    if params.days > MAX_RANGE_DAYS:
        raise Invalid(f"A report covers at most {MAX_RANGE_DAYS} days.", field="date_to")
    if params.service_id is not None and session.get(Service, params.service_id) is None:
        raise Invalid("There is no such service.", field="service_id")
    if params.agent_id is not None and session.get(Agent, params.agent_id) is None:
        raise Invalid("There is no such agent.", field="agent_id")


# --- shared pieces ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One bar of a chart: a local day or a week (starting Monday) and its UTC bounds."""

    first_day: date
    start: datetime
    end: datetime
    unit: str  # "day" or "week"

    @property
    def label(self) -> str:
        return f"{self.first_day:%-d %b}"


def periods(params: ReportParams) -> list[Period]:
    """The days (short ranges) or weeks (long ranges) the range falls into, in order."""
    unit = "day" if params.days <= DAILY_UP_TO_DAYS else "week"
    step = timedelta(days=1 if unit == "day" else 7)
    first = params.date_from if unit == "day" else week_start(params.date_from)
    result = []
    while first <= params.date_to:
        lo = max(first, params.date_from)
        hi = min(first + step - timedelta(days=1), params.date_to)
        start = local_day_bounds(lo, params.zone)[0]
        end = local_day_bounds(hi, params.zone)[1]
        result.append(Period(first, start, end, unit))
        first += step
    return result


def _period_index(column, spans: list[Period]):
    """A CASE giving the index of the period an instant falls in (the spans are ordered)."""
    return sa.case(*((column < p.end, index) for index, p in enumerate(spans)), else_=None)


def _seconds_between(session: so.Session, start, end):
    """end - start in seconds, as an SQL expression for this session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.extract("epoch", end - start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def _only_chosen(query, params: ReportParams):
    """`query` (which selects from appointments) kept to the report's service or agent."""
    if params.service_id is not None:
        query = query.where(Appointment.service_id == params.service_id)
    if params.agent_id is not None:
        query = query.where(
            sa.exists().where(
                WorkOrderTask.appointment_id == Appointment.id,
                WorkOrderTask.agent_id == params.agent_id,
            )
        )
    return query


def _appointments_in(params: ReportParams):
    """The appointments a report covers: window starting in range, optional filters."""
    query = sa.select(Appointment.id).where(
        Appointment.window_start >= params.start, Appointment.window_start < params.end
    )
    return _only_chosen(query, params)


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


# --- operations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodCount:
    period: Period
    booked: int
    completed: int


@dataclass(frozen=True)
class Operations:
    params: ReportParams
    booked: int
    by_status: dict[str, int]
    rescheduled: int  # appointments moved at least once
    reschedules: int  # moves in all
    confirmed: int  # appointments the customer confirmed
    avg_hours_to_confirm: float | None
    series: list[PeriodCount]
    top_services: list[tuple[str, int]]
    top_agents: list[tuple[str, int]]  # by completed appointments

    @property
    def completed(self) -> int:
        return sum(self.by_status[s] for s in COMPLETED_STATES)

    @property
    def cancelled(self) -> int:
        return self.by_status["cancelled"]

    @property
    def no_shows(self) -> int:
        return self.by_status["no_show"]

    @property
    def completion_rate(self) -> float | None:
        return _rate(self.completed, self.booked)

    @property
    def cancellation_rate(self) -> float | None:
        return _rate(self.cancelled, self.booked)

    @property
    def reschedule_rate(self) -> float | None:
        return _rate(self.rescheduled, self.booked)

    @property
    def no_show_rate(self) -> float | None:
        return _rate(self.no_shows, self.booked)


def operations(session: so.Session, params: ReportParams) -> Operations:
    covered = _appointments_in(params).subquery()
    in_report = Appointment.id.in_(sa.select(covered.c.id))

    by_status = dict.fromkeys(APPOINTMENT_STATES, 0)
    for status, count in session.execute(
        sa.select(Appointment.status, sa.func.count()).where(in_report).group_by(Appointment.status)
    ):
        by_status[status] = count

    moved = session.execute(
        sa.select(
            sa.func.count(sa.distinct(TimelineEntry.subject_id)), sa.func.count(TimelineEntry.id)
        ).where(
            TimelineEntry.subject_type == "Appointment",
            TimelineEntry.action == "rescheduled",
            TimelineEntry.subject_id.in_(sa.select(covered.c.id)),
        )
    ).one()

    first_confirmed = (
        sa.select(
            TimelineEntry.subject_id.label("appointment_id"),
            sa.func.min(TimelineEntry.at).label("at"),
        )
        .where(
            TimelineEntry.subject_type == "Appointment",
            TimelineEntry.field == "status",
            TimelineEntry.new_value == "confirmed",
            TimelineEntry.subject_id.in_(sa.select(covered.c.id)),
        )
        .group_by(TimelineEntry.subject_id)
        .subquery()
    )
    confirmed, avg_seconds = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.avg(_seconds_between(session, Appointment.created_at, first_confirmed.c.at)),
        ).join(first_confirmed, first_confirmed.c.appointment_id == Appointment.id)
    ).one()

    spans = periods(params)
    bucket = _period_index(Appointment.window_start, spans).label("bucket")
    counts = {
        index: (booked, completed or 0)
        for index, booked, completed in session.execute(
            sa.select(
                bucket,
                sa.func.count(),
                sa.func.sum(sa.case((Appointment.status.in_(COMPLETED_STATES), 1), else_=0)),
            )
            .where(in_report)
            .group_by(bucket)
        )
    }
    series = [PeriodCount(p, *counts.get(i, (0, 0))) for i, p in enumerate(spans)]

    count = sa.func.count(Appointment.id).label("n")
    top_services = [
        (name, n)
        for name, n in session.execute(
            sa.select(Service.name, count)
            .join(Appointment, Appointment.service_id == Service.id)
            .where(in_report)
            .group_by(Service.id, Service.name)
            .order_by(count.desc(), Service.name)
            .limit(TOP)
        )
    ]
    done = sa.func.count(sa.distinct(Appointment.id)).label("n")
    top_agents = [
        (name, n)
        for name, n in session.execute(
            sa.select(User.full_name, done)
            .join(Agent, Agent.user_id == User.id)
            .join(WorkOrderTask, WorkOrderTask.agent_id == Agent.id)
            .join(Appointment, Appointment.id == WorkOrderTask.appointment_id)
            .where(
                in_report,
                Appointment.status.in_(COMPLETED_STATES),
                WorkOrderTask.status == "done",
            )
            .group_by(Agent.id, User.full_name)
            .order_by(done.desc(), User.full_name)
            .limit(TOP)
        )
    ]
    return Operations(
        params=params,
        booked=sum(by_status.values()),
        by_status=by_status,
        rescheduled=moved[0],
        reschedules=moved[1],
        confirmed=confirmed,
        avg_hours_to_confirm=None if avg_seconds is None else float(avg_seconds) / 3600,
        series=series,
        top_services=top_services,
        top_agents=top_agents,
    )


# --- agent utilisation -----------------------------------------------------------------------


@dataclass(frozen=True)
class AgentUse:
    agent_id: int
    name: str
    working_minutes: int
    booked_minutes: int
    appointments: int

    @property
    def working_hours(self) -> float:
        return self.working_minutes / 60

    @property
    def booked_hours(self) -> float:
        return self.booked_minutes / 60

    @property
    def utilisation(self) -> float | None:
        return _rate(self.booked_minutes, self.working_minutes)


@dataclass(frozen=True)
class Utilisation:
    params: ReportParams
    agents: list[AgentUse]
    total: AgentUse = field(init=False)

    def __post_init__(self) -> None:
        total = AgentUse(
            agent_id=0,
            name="All agents",
            working_minutes=sum(a.working_minutes for a in self.agents),
            booked_minutes=sum(a.booked_minutes for a in self.agents),
            appointments=sum(a.appointments for a in self.agents),
        )
        object.__setattr__(self, "total", total)


def utilisation(session: so.Session, params: ReportParams) -> Utilisation:
    """Booked hours (held intervals, travel buffer included) over working hours, per agent.

    Working hours are the agent's weekly hours on its own clock over the range, less time
    off and the organisation's holidays.
    """
    booked_query = (
        sa.select(
            AppointmentHold.agent_id,
            sa.func.count(sa.distinct(AppointmentHold.appointment_id)),
            sa.func.sum(
                _seconds_between(session, AppointmentHold.starts_at, AppointmentHold.ends_at)
            ),
        )
        .join(Appointment, Appointment.id == AppointmentHold.appointment_id)
        .where(AppointmentHold.starts_at >= params.start, AppointmentHold.starts_at < params.end)
        .group_by(AppointmentHold.agent_id)
    )
    if params.service_id is not None:
        booked_query = booked_query.where(Appointment.service_id == params.service_id)
    if params.agent_id is not None:
        booked_query = booked_query.where(AppointmentHold.agent_id == params.agent_id)
    booked = {
        agent_id: (count, round(float(seconds or 0) / 60))
        for agent_id, count, seconds in session.execute(booked_query)
    }

    agents_query = sa.select(Agent.id, Agent.time_zone, User.full_name).join(
        User, User.id == Agent.user_id
    )
    if params.agent_id is not None:
        agents_query = agents_query.where(Agent.id == params.agent_id)
    else:
        agents_query = agents_query.where(sa.or_(Agent.active, Agent.id.in_(list(booked))))
    agents = session.execute(agents_query.order_by(User.full_name, Agent.id)).all()
    ids = [a.id for a in agents]

    hours: dict[int, list[HoursRule]] = {i: [] for i in ids}
    for row in session.execute(
        sa.select(
            WorkingHours.agent_id,
            WorkingHours.weekday,
            WorkingHours.start_time,
            WorkingHours.end_time,
        ).where(WorkingHours.agent_id.in_(ids))
    ):
        hours[row.agent_id].append(HoursRule(row.weekday, row.start_time, row.end_time))
    time_off: dict[int, list[tuple[datetime, datetime]]] = {i: [] for i in ids}
    for row in session.execute(
        sa.select(TimeOff.agent_id, TimeOff.starts_at, TimeOff.ends_at).where(
            TimeOff.agent_id.in_(ids),
            TimeOff.starts_at < params.end,
            TimeOff.ends_at > params.start,
        )
    ):
        time_off[row.agent_id].append((row.starts_at, row.ends_at))
    holidays = frozenset(
        session.scalars(
            sa.select(Holiday.day).where(
                Holiday.day >= params.date_from - timedelta(days=1),
                Holiday.day <= params.date_to + timedelta(days=1),
            )
        )
    )

    rows = []
    for agent in agents:
        agent_input = AgentInput(
            id=agent.id,
            tz=agent.time_zone,
            hours=tuple(hours[agent.id]),
            time_off=tuple(time_off[agent.id]),
        )
        count, minutes = booked.get(agent.id, (0, 0))
        rows.append(
            AgentUse(
                agent_id=agent.id,
                name=agent.full_name,
                working_minutes=working_minutes(agent_input, params.start, params.end, holidays),
                booked_minutes=minutes,
                appointments=count,
            )
        )
    return Utilisation(params=params, agents=rows)


# --- sign-offs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignOffRow:
    work_order: str
    appointment_id: int
    account: str
    signed_by: str
    signed_at: datetime
    service: str
    agents: str


@dataclass(frozen=True)
class SignOffs:
    params: ReportParams
    count: int
    by_service: list[tuple[str, int]]
    series: list[tuple[Period, int]]
    latest: list[SignOffRow]


def _sign_off_query(params: ReportParams):
    query = (
        sa.select(SignOff, Appointment, Service.name, CustomerAccount.name)
        .join(Appointment, Appointment.id == SignOff.appointment_id)
        .join(Service, Service.id == Appointment.service_id)
        .join(CustomerAccount, CustomerAccount.id == Appointment.account_id)
        .where(SignOff.signed_at >= params.start, SignOff.signed_at < params.end)
    )
    return _only_chosen(query, params)


def _agent_names(session: so.Session, appointment_ids: list[int]) -> dict[int, str]:
    names: dict[int, list[str]] = {}
    rows = session.execute(
        sa.select(WorkOrderTask.appointment_id, User.full_name)
        .join(Agent, Agent.id == WorkOrderTask.agent_id)
        .join(User, User.id == Agent.user_id)
        .where(WorkOrderTask.appointment_id.in_(appointment_ids), WorkOrderTask.status == "done")
        .order_by(WorkOrderTask.appointment_id, User.full_name)
    )
    for appointment_id, name in rows:
        names.setdefault(appointment_id, []).append(name)
    return {key: ", ".join(value) for key, value in names.items()}


def _rows(session: so.Session, results) -> list[SignOffRow]:
    results = list(results)
    agents = _agent_names(session, [appt.id for _s, appt, _n, _a in results])
    return [
        SignOffRow(
            work_order=f"WO-{appt.work_order_id:06d}",
            appointment_id=appt.id,
            account=account,
            signed_by=sign_off.full_name,
            signed_at=sign_off.signed_at,
            service=service,
            agents=agents.get(appt.id, ""),
        )
        for sign_off, appt, service, account in results
    ]


def sign_off_rows(
    session: so.Session, params: ReportParams, *, batch: int = 500
) -> Iterator[SignOffRow]:
    """Every sign-off of the report, oldest first, read `batch` rows at a time."""
    query = _sign_off_query(params).order_by(SignOff.signed_at, SignOff.id)
    offset = 0
    while True:
        chunk = _rows(session, session.execute(query.offset(offset).limit(batch)))
        yield from chunk
        if len(chunk) < batch:
            return
        offset += batch


def sign_offs(session: so.Session, params: ReportParams, *, latest: int = 40) -> SignOffs:
    covered = _sign_off_query(params).with_only_columns(SignOff.id, Appointment.service_id)
    covered = covered.subquery()
    count = session.scalar(sa.select(sa.func.count()).select_from(covered))
    n = sa.func.count().label("n")
    by_service = [
        (name, number)
        for name, number in session.execute(
            sa.select(Service.name, n)
            .join(covered, covered.c.service_id == Service.id)
            .group_by(Service.id, Service.name)
            .order_by(n.desc(), Service.name)
        )
    ]
    spans = periods(params)
    bucket = _period_index(SignOff.signed_at, spans).label("bucket")
    per = dict(
        session.execute(
            sa.select(bucket, sa.func.count())
            .where(SignOff.id.in_(sa.select(covered.c.id)))
            .group_by(bucket)
        ).all()
    )
    newest = _rows(
        session,
        session.execute(
            _sign_off_query(params)
            .order_by(SignOff.signed_at.desc(), SignOff.id.desc())
            .limit(latest)
        ),
    )
    return SignOffs(
        params=params,
        count=count,
        by_service=by_service,
        series=[(p, per.get(i, 0)) for i, p in enumerate(spans)],
        latest=newest,
    )
