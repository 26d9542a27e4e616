"""The hold race, in one place.

A hold is an agent's time taken by an appointment. Two requests may want the same agent
at the same instant; the database has the last word (an exclusion constraint on
PostgreSQL, a trigger on SQLite), so whoever places holds does it in a savepoint and,
when the database refuses one, looks again: another agent may still be free.
`place_holds` is that loop; what to look at and what to hold is the caller's `attempt`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError, OperationalError

from portal.booking.models import OVERLAP_CONSTRAINT, Appointment, AppointmentHold

# Each failed attempt means some other booking committed a hold on one of our agents;
# a window offers few places, so a handful of attempts settles every race.
MAX_ATTEMPTS = 6
DEADLOCK = "40P01"  # PostgreSQL: two bookings locked agents in crossing orders

T = TypeVar("T")


def lost_race(err: Exception) -> bool:
    """Whether the database refused a hold because another booking took the agent first."""
    if isinstance(err, IntegrityError):
        return OVERLAP_CONSTRAINT in str(err.orig)
    return isinstance(err, OperationalError) and getattr(err.orig, "sqlstate", None) == DEADLOCK


def place_holds(
    session: so.Session,
    attempt: Callable[[], T | None],
    *,
    attempts: int = MAX_ATTEMPTS,
    on_lost: Callable[[], None] | None = None,
) -> T | None:
    """Run `attempt` (look at who is free, hold them) in a savepoint until the database
    accepts its holds, and return what it returned. None when `attempt` finds nothing to
    hold (it returns None) or loses the race `attempts` times; `on_lost` runs after each
    lost race (forget what the failed attempt saw). Any other error propagates."""
    for _attempt in range(attempts):
        try:
            with session.begin_nested():
                return attempt()
        except (IntegrityError, OperationalError) as err:
            if not lost_race(err):
                raise
            if on_lost is not None:
                on_lost()
    return None


def add_hold(session: so.Session, appointment: Appointment, agent_id: int) -> None:
    """Hold the agent for the appointment's planned time plus its travel buffer."""
    service = appointment.service
    appointment.holds.append(
        AppointmentHold(
            agent_id=agent_id,
            starts_at=appointment.planned_start,
            ends_at=appointment.planned_start
            + timedelta(minutes=service.duration_minutes + service.buffer_minutes),
        )
    )
    session.flush()
