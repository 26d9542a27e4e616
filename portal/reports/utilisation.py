"""The agent utilisation report: for each agent, the minutes booked against the minutes
they were working in the range (weekly hours less time off and holidays), by SQL
aggregates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.availability.engine import AgentInput, working_minutes
from portal.availability.engine import WorkingHours as HoursRule
from portal.booking.models import Appointment, AppointmentHold
from portal.reports.figures import ReportParams, rate, seconds_between
from portal.workforce.models import Agent, Holiday, TimeOff, WorkingHours


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
        return rate(self.booked_minutes, self.working_minutes)


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
                seconds_between(session, AppointmentHold.starts_at, AppointmentHold.ends_at)
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
