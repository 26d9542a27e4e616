"""The calendar identity of an appointment (iCalendar UID, RFC 5545), shared by the
invitations e-mailed to customers (portal/booking/ics.py) and the calendar feeds.

One appointment is one calendar event for its whole life: the UID never changes, so a
calendar client updates the event it already has.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

from flask import current_app


class HasId(Protocol):
    id: int


def appointment_uid(appointment: HasId) -> str:
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "portal"
    return f"appointment-{appointment.id}@{host}"
