"""Calendar feeds: the secret URL of a user's appointments, and the .ics behind it.

A customer's feed holds its account's appointments (what its appointments page shows);
an agent's holds the appointments of the tasks assigned to it now (or done by it), as
the API and the pages let it see them. Both run from 30 days back to a year ahead and
leave cancelled appointments out, so a calendar that refreshes the feed drops them. Each
event keeps the UID of the e-mailed invitation and the appointment's SEQUENCE, so a
client updates the event it has rather than adding one.

The feed URL is rate-limited as the API is (portal/ratelimit.py): every request of one
user's feed counts in one window, and requests whose secret opens nothing count per
client address; past either limit the answer is 429 with Retry-After, and an address
over its limit of refusals is refused before its secret is looked at, so secrets cannot
be guessed quickly.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from icalendar import Calendar, Event
from itsdangerous import BadSignature, Signer

from portal.accounts.models import User
from portal.booking.models import Appointment
from portal.booking.states import CALENDAR_STATUS_WORDS
from portal.calendar_feeds.models import CalendarFeed
from portal.errors import NotAllowed
from portal.notifications.ics import appointment_uid
from portal.ratelimit import RateLimited, count_request, current_count
from portal.workforce.models import Agent
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrderTask

PAST = timedelta(days=30)
AHEAD = timedelta(days=365)
SALT = "portal.calendar-feed"
LEFT_OUT = ("cancelled",)
# Calendar apps refresh a feed every few minutes at most, from a few devices each.
RATE_LIMIT = 20  # requests of one user's feed per window
REFUSAL_LIMIT = 30  # requests per client address whose secret opens no feed, per window
RATE_WINDOW_SECONDS = 60
# The tasks that put an appointment in its agent's feed: the rule of
# booking.steps.is_assigned_agent, which the API and the pages use for an agent's access. A
# task reassigned, cancelled, parked or moved away is "cancelled" and leaves the feed.
AGENT_TASKS = (*ACTIVE_TASK_STATES, "done")
# Calendar STATUS: a booking nobody has confirmed yet is tentative.
TENTATIVE = frozenset({"requested", "accepted", "needs_reschedule", "declined_by_customer"})


# --- the key and the URL --------------------------------------------------------------------


def agent_of(session: so.Session, user: User) -> Agent | None:
    return session.scalar(sa.select(Agent).where(Agent.user_id == user.id))


def can_have_feed(session: so.Session, user: User) -> bool:
    """Customers of an account and agents have appointments to subscribe to."""
    if not user.is_staff:
        return user.account_id is not None
    return agent_of(session, user) is not None


def get_feed(session: so.Session, user: User) -> CalendarFeed | None:
    return session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def reset_feed(session: so.Session, user: User) -> CalendarFeed:
    """Make the user's feed key, or draw a new one: the old URL stops working at once."""
    if not can_have_feed(session, user):
        raise NotAllowed("Your account has no appointments to put in a calendar.")
    feed = get_feed(session, user)
    if feed is None:
        feed = CalendarFeed(user_id=user.id)
        session.add(feed)
    feed.key = secrets.token_urlsafe(24)
    session.flush()
    return feed


def feed_token(feed: CalendarFeed, secret_key: str) -> str:
    """The secret part of the feed's URL: the key signed with the app's secret key."""
    return Signer(secret_key, salt=SALT).sign(feed.key).decode()


def user_for_token(session: so.Session, token: str, secret_key: str) -> User | None:
    """The user whose feed `token` opens, or None (forged, reset, or a user turned off)."""
    try:
        key = Signer(secret_key, salt=SALT).unsign(token).decode()
    except (BadSignature, UnicodeError):
        return None
    feed = session.scalar(sa.select(CalendarFeed).where(CalendarFeed.key == key))
    if feed is None:
        return None
    user = session.get(User, feed.user_id)
    if user is None or not user.active or not can_have_feed(session, user):
        return None
    return user


def open_feed(
    session: so.Session,
    token: str,
    secret_key: str,
    *,
    client: str,
    now: datetime,
    limit: int = RATE_LIMIT,
    refusal_limit: int = REFUSAL_LIMIT,
    window_seconds: int = RATE_WINDOW_SECONDS,
) -> User | None:
    """The user whose feed `token` opens, after counting the request; None when it opens
    nothing (counted against the `client` address). RateLimited past either limit.

    The counts are flushed, not committed: the caller commits them whatever the answer,
    so refused requests count too."""
    refusals = f"feed-addr:{client}"[:80]
    refused, retry_after = current_count(session, refusals, now, window_seconds=window_seconds)
    if refused >= refusal_limit:
        raise RateLimited(
            f"Too many calendar requests with a wrong address came from yours: at most "
            f"{refusal_limit} every {window_seconds} seconds. Try again in {retry_after} "
            "seconds.",
            retry_after=retry_after,
        )
    user = user_for_token(session, token, secret_key)
    if user is None:
        count_request(session, refusals, now, window_seconds=window_seconds)
        return None
    count, retry_after = count_request(
        session, f"feed:{user.id}", now, window_seconds=window_seconds
    )
    if count > limit:
        raise RateLimited(
            f"This calendar feed may be read {limit} times every {window_seconds} seconds. "
            f"Try again in {retry_after} seconds.",
            retry_after=retry_after,
        )
    return user


# --- what the feed holds --------------------------------------------------------------------


def feed_appointments(session: so.Session, user: User, now: datetime) -> list[Appointment]:
    """The appointments in the user's feed, soonest first."""
    query = (
        sa.select(Appointment)
        .where(
            Appointment.status.not_in(LEFT_OUT),
            Appointment.window_end >= now - PAST,
            Appointment.window_start <= now + AHEAD,
        )
        .options(
            so.joinedload(Appointment.service),
            so.joinedload(Appointment.location),
            so.joinedload(Appointment.work_order),
            so.joinedload(Appointment.account),
        )
        .order_by(Appointment.window_start, Appointment.id)
    )
    if user.is_staff:
        agent = agent_of(session, user)
        if agent is None:
            return []
        tasks = sa.select(WorkOrderTask.appointment_id).where(
            WorkOrderTask.agent_id == agent.id, WorkOrderTask.status.in_(AGENT_TASKS)
        )
        query = query.where(Appointment.id.in_(tasks))
    else:
        if user.account_id is None:
            return []
        query = query.where(Appointment.account_id == user.account_id)
    return list(session.scalars(query).unique())


def build_feed(
    appointments: list[Appointment],
    *,
    for_staff: bool,
    base_url: str,
    now: datetime,
    name: str = "Field service appointments",
) -> str:
    """The VCALENDAR text of a subscribed calendar (no METHOD: it is not an invitation)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Field Service Portal//Calendar feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    # Ask clients to refresh hourly (REFRESH-INTERVAL is RFC 7986; the other, Outlook's).
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for appointment in appointments:
        calendar.add_component(_event(appointment, for_staff, base_url, now))
    return calendar.to_ical().decode("utf-8")


def _event(appointment: Appointment, for_staff: bool, base_url: str, now: datetime) -> Event:
    event = Event()
    # The UID of the e-mailed invitation, so both are one event to a calendar.
    event.add("uid", appointment_uid(appointment))
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", appointment.window_start)
    event.add("dtend", appointment.window_end)
    summary = f"{appointment.service.name} ({appointment.number})"
    if for_staff:
        summary = f"{appointment.service.name}: {appointment.account.name} ({appointment.number})"
    event.add("summary", summary)
    event.add("location", appointment.location.one_line)
    link = (
        f"{base_url}/staff/appointments/{appointment.id}"
        if for_staff
        else f"{base_url}/appointments/{appointment.id}"
    )
    words = CALENDAR_STATUS_WORDS.get(appointment.status, appointment.status.replace("_", " "))
    event.add(
        "description",
        f"{appointment.service.name}, {words}.\n"
        f"Work order {appointment.work_order.number}, appointment {appointment.number}.\n"
        f"The technician arrives within this window.\n"
        f"Details: {link}",
    )
    event.add("status", "TENTATIVE" if appointment.status in TENTATIVE else "CONFIRMED")
    event.add("url", link)
    event.add("transp", "OPAQUE")
    return event


def delete_feed(session: so.Session, user: User, now: datetime) -> None:
    """Forget the user's feed key, so its link stops working (a new password:
    portal/accounts/watchers.py); the user can make a new one."""
    session.execute(
        sa.delete(CalendarFeed)
        .where(CalendarFeed.user_id == user.id)
        .execution_options(synchronize_session="fetch")
    )
