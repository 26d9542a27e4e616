"""Conflicts after booking: bookings an agent can no longer keep, and moving them again.

When an agent's weekly hours or time off change, or the agent is deactivated, some of
its upcoming holds may fall outside its working time or inside its leave. Those
appointments are parked (`needs_reschedule`, holding nobody, queued for the scheduler,
the customer told) through the state machine, in the caller's transaction, so the
change and its consequences commit or roll back together. The scheduler then sees them
with ranked suggestions and can move several at once to their best suggestion.

The working-time check mirrors the availability engine: a hold (job plus travel buffer)
is keepable only when it lies wholly inside one stretch of the agent's local working
hours and touches none of its time off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.booking import lifecycle, steps
from portal.booking.models import Appointment, AppointmentHold
from portal.booking.services import WindowTaken
from portal.booking.states import PENDING_STATES
from portal.booking.suggestions import Preferences, Suggestion, suggest_windows
from portal.dispatch import services as dispatch_services
from portal.errors import PortalError
from portal.notifications.services import notify_user
from portal.timeutil import now_utc
from portal.workforce.models import Agent, TimeOff, WorkingHours
from portal.workorders.models import TimelineEntry


def find_unkeepable(session: so.Session, agent: Agent, *, now: datetime) -> list[Appointment]:
    """The agent's upcoming bookings (planned after `now`) it can no longer keep: outside
    its working hours, over its time off, or all of them when the agent is inactive."""
    rows = session.execute(
        sa.select(Appointment, AppointmentHold.starts_at, AppointmentHold.ends_at)
        .join(AppointmentHold, AppointmentHold.appointment_id == Appointment.id)
        .where(
            AppointmentHold.agent_id == agent.id,
            # Only bookings that hold their agents and have not started can break; work
            # already under way stays put.
            Appointment.status.in_(PENDING_STATES),
            Appointment.planned_start > now,
        )
        .order_by(Appointment.planned_start, Appointment.id)
    ).all()
    if not rows or not agent.active:
        return [row.Appointment for row in rows]
    first = min(row.starts_at for row in rows)
    last = max(row.ends_at for row in rows)
    leave = session.execute(
        sa.select(TimeOff.starts_at, TimeOff.ends_at).where(
            TimeOff.agent_id == agent.id, TimeOff.starts_at < last, TimeOff.ends_at > first
        )
    ).all()
    hours = session.execute(
        sa.select(WorkingHours.weekday, WorkingHours.start_time, WorkingHours.end_time).where(
            WorkingHours.agent_id == agent.id
        )
    ).all()
    return [
        row.Appointment
        for row in rows
        if not _fits_hours(row.starts_at, row.ends_at, hours, agent.time_zone)
        or any(off_start < row.ends_at and row.starts_at < off_end for off_start, off_end in leave)
    ]


def _fits_hours(start: datetime, end: datetime, hours, tz: str) -> bool:
    """Whether [start, end) lies inside one merged stretch of the weekly hours (local)."""
    zone = ZoneInfo(tz)
    # One spare day each side: a local working day may begin before the UTC date does.
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    periods = sorted(
        (
            datetime.combine(day, rule.start_time, tzinfo=zone),
            datetime.combine(day, rule.end_time, tzinfo=zone),
        )
        for day in _days(first, last)
        for rule in hours
        if rule.weekday == day.weekday()
    )
    merged: list[list[datetime]] = []
    for p_start, p_end in periods:
        if merged and p_start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], p_end)
        else:
            merged.append([p_start, p_end])
    return any(p_start <= start and end <= p_end for p_start, p_end in merged)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def apply_disruption(
    session: so.Session, agent: Agent, user: User | None, why: str
) -> list[Appointment]:
    """Park every booking the agent can no longer keep; the customers are told by the
    state machine's announcement, and the agent gets one notice listing them."""
    session.flush()  # the change that caused this must be visible to the queries
    parked = [
        dispatch_services.park_for_disruption(session, appointment, user, why)
        for appointment in find_unkeepable(session, agent, now=now_utc())
    ]
    if parked and agent.user.active:
        numbers = ", ".join(a.number for a in parked[:5]) + (" and more" if len(parked) > 5 else "")
        notify_user(
            session,
            agent.user_id,
            f"{_bookings(len(parked))} of yours went back to the scheduler ({why}): {numbers}.",
            "/staff/",
        )
    session.flush()
    return parked


def _bookings(count: int) -> str:
    return "1 booking" if count == 1 else f"{count} bookings"


def disruption_message(parked: list[Appointment]) -> str:
    """What the manager is told after a change: how many bookings need a new time."""
    if not parked:
        return "No booking was affected."
    verb = "needs" if len(parked) == 1 else "need"
    where = "it is" if len(parked) == 1 else "they are"
    return f"{_bookings(len(parked))} {verb} a new time; {where} in the scheduler's queue."


# --- the scheduler's side -----------------------------------------------------------------


def preferences_for(appointment: Appointment) -> Preferences:
    """The customer's stated preferences, as stored on the appointment."""
    return Preferences(
        weekdays=frozenset(int(d) for d in appointment.pref_weekdays if d in "0123456"),
        part_of_day=appointment.pref_part_of_day or "any",
        earliest=appointment.pref_earliest,
        agent_id=appointment.pref_agent_id,
    )


# What the queue of parked appointments shows of each, loaded with it.
SHOWN_WITH_PARKED = (
    Appointment.service,
    Appointment.location,
    Appointment.account,
    Appointment.contact,
)


def parked_appointments_query() -> sa.Select:
    """Appointments waiting for a new time, the soonest former window first."""
    return (
        sa.select(Appointment)
        .where(Appointment.status == "needs_reschedule")
        .options(*map(so.joinedload, SHOWN_WITH_PARKED))
        .order_by(Appointment.window_start, Appointment.id)
    )


def parked_reasons(session: so.Session, appointment_ids: list[int]) -> dict[int, str]:
    """Why each appointment was parked: the note on its latest move to needs_reschedule."""
    if not appointment_ids:
        return {}
    rows = session.execute(
        sa.select(TimelineEntry.subject_id, TimelineEntry.note)
        .where(
            TimelineEntry.subject_type == "Appointment",
            TimelineEntry.subject_id.in_(appointment_ids),
            TimelineEntry.action == "status",
            TimelineEntry.new_value == "needs_reschedule",
        )
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    return {subject_id: note for subject_id, note in rows}  # the latest wins


def suggestions_for(
    session: so.Session,
    appointments: Iterable[Appointment],
    *,
    now: datetime,
    limit: int = 3,
    org_zone: str | None = None,
) -> dict[int, list[Suggestion]]:
    """The top suggestions for each appointment, by its id."""
    return {
        appointment.id: suggest_windows(
            session,
            appointment,
            preferences_for(appointment),
            now=now,
            limit=limit,
            org_zone=org_zone,
        )
        for appointment in appointments
    }


@dataclass(frozen=True)
class Moved:
    appointment: Appointment
    old_window: tuple[datetime, datetime]


@dataclass(frozen=True)
class NotMoved:
    appointment: Appointment
    reason: str


@dataclass(frozen=True)
class BulkMove:
    moved: list[Moved]
    not_moved: list[NotMoved]


def move_to_best_suggestions(
    session: so.Session,
    appointment_ids: Iterable[int],
    user: User,
    *,
    now: datetime,
    org_zone: str | None = None,
) -> BulkMove:
    """Move each parked appointment to its best suggestion, one after another (each
    sees the windows the ones before it took); one that cannot move is reported and
    leaves the others alone."""
    actor = steps.Actor(user)
    moved: list[Moved] = []
    not_moved: list[NotMoved] = []
    for appointment_id in dict.fromkeys(appointment_ids):  # each once, in the given order
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            continue
        if appointment.status != "needs_reschedule":
            not_moved.append(NotMoved(appointment, "it no longer waits for a new time"))
            continue
        old = (appointment.window_start, appointment.window_end)
        best = suggest_windows(
            session, appointment, preferences_for(appointment), now=now, limit=1, org_zone=org_zone
        )
        if not best:
            not_moved.append(NotMoved(appointment, "no free window in the next two weeks"))
            continue
        try:
            with session.begin_nested():
                lifecycle.reschedule_appointment(
                    session, appointment, best[0].window.starts_at, actor, org_zone=org_zone
                )
        except WindowTaken:
            session.expire(appointment)
            not_moved.append(NotMoved(appointment, "its best window was taken a moment ago"))
        except PortalError as err:  # another change got there first (a cancellation, say)
            session.expire(appointment)
            not_moved.append(NotMoved(appointment, err.message))
        else:
            moved.append(Moved(appointment, old))
    session.flush()
    return BulkMove(moved=moved, not_moved=not_moved)


def move_to_window(
    session: so.Session,
    appointment: Appointment,
    start: datetime,
    user: User,
    *,
    org_zone: str | None = None,
) -> Appointment:
    """Move one parked appointment to a chosen suggestion (the same rules as any move)."""
    return lifecycle.reschedule_appointment(
        session, appointment, start, steps.Actor(user), org_zone=org_zone
    )
