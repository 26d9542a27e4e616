"""An appointment's states: which move may follow which, the sets of states the rules
speak of (one name each), the words people read for them, and the `*_block` predicates
that say why an action is refused (the page hides the button with the same sentence the
action raises).

Pure: the standard library only. The predicates read attributes of whatever they are
given (an Appointment, a BookingPolicy), so they are tested without a database.

States (PRODUCT.md): requested -> accepted -> confirmed -> in_progress -> completed ->
signed_off, beside them declined_by_customer, needs_reschedule, no_show, cancelled.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

# Which appointment state may follow which. Anything else is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"accepted", "needs_reschedule", "cancelled", "in_progress"}),
    "accepted": frozenset(
        {
            "confirmed",
            "declined_by_customer",
            "requested",
            "needs_reschedule",
            "cancelled",
            "in_progress",
            "no_show",
        }
    ),
    "confirmed": frozenset(
        {"accepted", "requested", "in_progress", "needs_reschedule", "cancelled", "no_show"}
    ),
    "in_progress": frozenset({"completed"}),
    "completed": frozenset({"signed_off", "needs_reschedule"}),
    "needs_reschedule": frozenset({"requested", "cancelled"}),
    "declined_by_customer": frozenset({"requested", "cancelled"}),
    "no_show": frozenset({"requested", "cancelled"}),
    "signed_off": frozenset(),
    "cancelled": frozenset(),
}

# Booked, holding its agents, and not started: the customer may still change it by
# itself, its tasks may move to other agents, a change to an agent's hours can break it.
PENDING_STATES = ("requested", "accepted", "confirmed")
# Booked and not over: pending, or work under way.
OPEN_STATES = frozenset({*PENDING_STATES, "in_progress"})
# Over for good: nothing more happens to it, and a manage link opens nothing.
CLOSED_STATES = frozenset({"signed_off", "cancelled"})
# Work has begun (or is over): staff can neither move nor cancel it.
FIXED_STATES = CLOSED_STATES | {"in_progress", "completed"}
# Waiting for a new time: a reschedule books it again (requested).
PARKED_STATES = ("needs_reschedule", "declined_by_customer", "no_show")
# Moves the customer does not see: the agents changed, so the appointment waits for the
# new ones to accept, but the customer's time stands.
INTERNAL_MOVES = frozenset({("accepted", "requested"), ("confirmed", "requested")})
# Tasks whose work has not started: they can be declined or handed to another agent.
UNSTARTED_TASKS = ("assigned", "accepted")

# What each state means, to the customer (pages, e-mails, the API's status_text).
STATUS_WORDS = {
    "requested": "waiting for the technician to accept",
    "accepted": "waiting for your confirmation",
    "confirmed": "confirmed",
    "in_progress": "in progress",
    "completed": "done and waiting for your sign-off",
    "signed_off": "signed off",
    "declined_by_customer": "declined by you",
    "needs_reschedule": "waiting for a new time from our scheduler",
    "no_show": "marked as missed",
    "cancelled": "cancelled",
}
# The same, for a scheduler (the dispatch board's legend).
STAFF_STATUS_WORDS = {
    "requested": "waiting for the agent to accept",
    "accepted": "waiting for the customer to confirm",
    "confirmed": "confirmed by the customer",
    "in_progress": "work has started",
    "completed": "done, waiting for the customer's sign-off",
    "signed_off": "signed off by the customer",
    "no_show": "the customer was not there",
}
# The same, in a calendar event read by customer and agent alike (third person).
CALENDAR_STATUS_WORDS = {
    "requested": "waiting for the technician to accept",
    "accepted": "waiting for the customer's confirmation",
    "confirmed": "confirmed",
    "in_progress": "in progress",
    "completed": "done, waiting for the customer's sign-off",
    "signed_off": "signed off",
    "declined_by_customer": "declined by the customer",
    "needs_reschedule": "waiting for a new time",
    "no_show": "missed",
}


def can_move(old: str, new: str) -> bool:
    """Whether the table allows an appointment in `old` to become `new`."""
    return new in TRANSITIONS[old]


def move_block(old: str, new: str) -> str | None:
    """Why an appointment in `old` cannot become `new`, or None if it can."""
    if can_move(old, new):
        return None
    return f"This appointment is {STATUS_WORDS[old]}, so it cannot become {STATUS_WORDS[new]}."


def self_service_block(appointment, policy, now: datetime, *, zone: str) -> str | None:
    """Why the customer cannot change this appointment by itself now, or None if it can."""
    if appointment.status not in PENDING_STATES:
        return (
            f"This appointment is {STATUS_WORDS[appointment.status]} and can no longer be changed."
        )
    if appointment.confirm_deadline is not None and now > appointment.confirm_deadline:
        return (
            "The deadline our scheduler set for changes has passed "
            f"({appointment.confirm_deadline.astimezone(ZoneInfo(zone)):%a %-d %b, %H:%M %Z})."
        )
    cutoff = appointment.window_start - timedelta(hours=policy.reschedule_cutoff_hours)
    if now >= cutoff:
        return (
            f"Changes are possible until {policy.reschedule_cutoff_hours} hours before the "
            "arrival window, and that time has passed."
        )
    return None


def reschedule_block(appointment, policy, now: datetime, *, zone: str) -> str | None:
    """Why the customer cannot move this appointment by itself now, or None if it can."""
    reason = self_service_block(appointment, policy, now, zone=zone)
    if reason is None and appointment.self_reschedules >= policy.max_self_reschedules:
        times = (
            "once" if policy.max_self_reschedules == 1 else f"{policy.max_self_reschedules} times"
        )
        reason = f"You have already moved this appointment {times}, the most we allow online."
    return reason


def staff_block(status: str, verb: str) -> str | None:
    """Why staff cannot move or cancel (`verb`: "moved", "cancelled") an appointment in
    this state, or None if they can."""
    if status in FIXED_STATES:
        return f"This appointment is {STATUS_WORDS[status]}; it cannot be {verb}."
    return None


def can_reassign(task_status: str, appointment_status: str) -> bool:
    """Whether a task may be handed to another agent (the board draws it movable)."""
    return task_status in UNSTARTED_TASKS and appointment_status in PENDING_STATES


def reassign_block(task_status: str, appointment_status: str | None) -> str | None:
    """Why a task cannot be handed to another agent (None: the task has no appointment),
    or None if it can."""
    if task_status not in UNSTARTED_TASKS or appointment_status is None:
        return "Only a task that has not started can be reassigned."
    if appointment_status not in PENDING_STATES:
        return f"The appointment is {STATUS_WORDS[appointment_status]}; its tasks cannot move."
    return None


def assign_block(status: str, window_start: datetime, now: datetime) -> str | None:
    """Why a parked appointment cannot be given to agents from the queue at its current
    window, or None if it can."""
    if status != "needs_reschedule":
        return (
            f"The appointment is {STATUS_WORDS[status]}, so it is no longer waiting in the "
            "queue: only an appointment waiting for a new time can be assigned."
        )
    if window_start <= now:
        return "Its window has already begun, so nobody can be sent then any more."
    return None
