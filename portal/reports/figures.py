"""The figures of the three reports, computed by SQL aggregates.

Every number here comes from a COUNT, SUM or AVG in the database, never from loading the
rows into Python; the one exception is the sign-off listing, which is detail by nature and
is read in pages (the PDF shows the newest, the CSV streams them all).

A report covers whole local days, date_from to date_to inclusive, in the organisation's
time zone; an appointment belongs to it by the start of its arrival window.

This module holds the parameters every report takes, the pieces the three share (the
periods of a range, the filters chosen) and the operations report; the agent utilisation
report is in utilisation.py and the sign-offs in sign_offs.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.booking.models import APPOINTMENT_STATES, Appointment, Service
from portal.errors import Invalid
from portal.reports.models import REPORT_KINDS
from portal.timeutil import local_day_bounds, week_start
from portal.workforce.models import Agent
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
    if params.kind == "sla" and (params.service_id is not None or params.agent_id is not None):
        raise Invalid(
            "The SLA report covers every queue: choose all services and all agents.",
            field="service_id" if params.service_id is not None else "agent_id",
        )
    if params.service_id is not None and session.get(Service, params.service_id) is None:
        raise Invalid("There is no such service.", field="service_id")
    if params.agent_id is not None and session.get(Agent, params.agent_id) is None:
        raise Invalid("There is no such agent.", field="agent_id")


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


def period_index(column, spans: list[Period]):
    """A CASE giving the index of the period an instant falls in (the spans are ordered)."""
    return sa.case(*((column < p.end, index) for index, p in enumerate(spans)), else_=None)


def seconds_between(session: so.Session, start, end):
    """end - start in seconds, as an SQL expression for this session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.extract("epoch", end - start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def only_chosen(query, params: ReportParams):
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
    return only_chosen(query, params)


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


@dataclass(frozen=True)
class PeriodCount:
    period: Period
    booked: int
    completed: int


def _share_of_booked(count: str) -> property:
    """A rate of the operations report: the named count over the appointments booked."""
    return property(lambda report: rate(getattr(report, count), report.booked))


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

    completion_rate = _share_of_booked("completed")
    cancellation_rate = _share_of_booked("cancelled")
    reschedule_rate = _share_of_booked("rescheduled")
    no_show_rate = _share_of_booked("no_shows")


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
            sa.func.avg(seconds_between(session, Appointment.created_at, first_confirmed.c.at)),
        ).join(first_confirmed, first_confirmed.c.appointment_id == Appointment.id)
    ).one()

    spans = periods(params)
    bucket = period_index(Appointment.window_start, spans).label("bucket")
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
