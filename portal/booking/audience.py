"""Who hears of each appointment event, and the one line each reads in the portal.

Plain data, kept apart from `announce.py` (which records and expands the events), so the
audience of an event and its wording can be read in one screen.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Audience:
    """Who hears of one event; `ics` is the calendar METHOD the customer's e-mail carries."""

    customer: bool = False
    ics: str | None = None
    agents: bool = False
    schedulers: bool = False
    # Schedulers also get an e-mail (email/staff/<event>.txt), not only the notice.
    scheduler_emails: bool = False


EVENTS: dict[str, Audience] = {
    "booked": Audience(customer=True, ics="REQUEST", agents=True),
    "assigned": Audience(agents=True),
    "confirmation_requested": Audience(customer=True),
    "confirmed": Audience(agents=True),
    "declined_by_customer": Audience(agents=True, schedulers=True),
    "rescheduled": Audience(customer=True, ics="REQUEST", agents=True),
    "cancelled": Audience(customer=True, ics="CANCEL", agents=True),
    "needs_reschedule": Audience(customer=True, schedulers=True),
    "reminder": Audience(customer=True),
    "completed": Audience(customer=True),
    "signed_off": Audience(customer=True, agents=True),
    "work_not_done": Audience(agents=True, schedulers=True),
    "no_show": Audience(customer=True, schedulers=True),
    "change_request": Audience(schedulers=True),
    "confirmation_expired": Audience(customer=True, schedulers=True, scheduler_emails=True),
}

# One line in the in-portal list; {number}, {service}, {window}, {note} are filled in.
CUSTOMER_NOTICES = {
    "booked": "{service} booked for {window} ({number}).",
    "confirmation_requested": "Your technician accepted {number}: please confirm {window}.",
    "rescheduled": "{number} moved to {window}.",
    "cancelled": "{number} on {window} was cancelled.",
    "needs_reschedule": "{number} needs a new time: a scheduler will contact you.",
    "reminder": "Reminder: {service} on {window} ({number}).",
    "completed": "The work for {number} is done: please sign it off.",
    "signed_off": "You signed off {number}. Thank you.",
    "no_show": "We could not reach you for {number} on {window}.",
    "confirmation_expired": (
        "We did not hear from you in time about {number} on {window}: "
        "our scheduling team will be in touch."
    ),
}
STAFF_NOTICES = {
    "booked": "New task: {service} on {window} ({number}). Please accept or decline.",
    "assigned": "New task: {service} on {window} ({number}). Please accept or decline.",
    "confirmed": "The customer confirmed {number} on {window}.",
    "declined_by_customer": "The customer declined {number} on {window}.",
    "rescheduled": "{number} moved to {window}.",
    "cancelled": "{number} on {window} was cancelled. {note}",
    "needs_reschedule": "{number} needs a new time. {note}",
    "signed_off": "The customer signed off {number}.",
    "work_not_done": "The customer says the work for {number} was not done. {note}",
    "no_show": "No-show on {number} ({window}).",
    "change_request": "Change request for {number}: {note}",
    "confirmation_expired": (
        "{number} on {window} was not confirmed by the deadline: please contact the customer."
    ),
}

# Events whose staff e-mail asks the agent to accept or decline a new task.
