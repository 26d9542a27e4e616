"""The reassign and assign panels: which agents could take a task or a parked
appointment, each marked free or not for its time and why not, and why the move is not
possible at all when it is not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.booking import states
from portal.booking.models import Appointment, AppointmentHold
from portal.booking.windows import free_agents_at, qualified_agent_names
from portal.dispatch.board import HOLD_LOOKBACK
from portal.timeutil import now_utc
from portal.workforce.models import (
    Agent,
    TimeOff,
)
from portal.workorders.models import WorkOrderTask


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
