"""Calendar invitations (iCalendar, RFC 5545/5546) for the customer's e-mails.

One appointment is one calendar event for its whole life: the UID never changes and
SEQUENCE is the appointment's own counter, which grows on every move, so a calendar
client updates the event it already has (REQUEST) or removes it (CANCEL).
"""

from __future__ import annotations

from email.utils import parseaddr

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText

from portal.booking.links import manage_url
from portal.booking.models import Appointment
from portal.notifications.ics import appointment_uid
from portal.timeutil import now_utc

METHODS = ("REQUEST", "CANCEL")


def build_ics(appointment: Appointment, method: str) -> str:
    """The VCALENDAR text that invites to (REQUEST) or cancels (CANCEL) the appointment.

    `appointment` may be the appointment as it was when an event happened (its window
    and sequence then; see portal/booking/announce.py)."""
    if method not in METHODS:
        raise ValueError(f"unknown iTIP method {method!r}")
    calendar = Calendar()
    calendar.add("prodid", "-//Field Service Portal//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)

    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", now_utc())
    event.add("dtstart", appointment.window_start)
    event.add("dtend", appointment.window_end)
    event.add("summary", f"{appointment.service.name} ({appointment.number})")
    event.add("location", appointment.location.one_line)
    event.add(
        "description",
        f"Work order {appointment.work_order.number}, appointment {appointment.number}.\n"
        f"The technician arrives within this window.\n"
        f"Confirm, move or cancel: {manage_url(appointment.id)}",
    )
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")

    name, address = parseaddr(current_app.config["MAIL_FROM"])
    organizer = vCalAddress(f"mailto:{address}")
    if name:
        organizer.params["cn"] = vText(name)
    event.add("organizer", organizer)

    contact = appointment.contact
    attendee = vCalAddress(f"mailto:{contact.email}")
    attendee.params["cn"] = vText(contact.full_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["rsvp"] = vText("FALSE")
    event.add("attendee", attendee)

    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
