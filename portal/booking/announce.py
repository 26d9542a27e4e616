"""Who hears of what happens to an appointment, and what they are told: in two moments.

* `announce(session, event, appointment, ...)` is the one call the appointment lifecycle
  makes after each transition. In the caller's transaction it writes one event row
  (portal/notifications/events.py) holding what must be frozen at that moment: the
  window, the calendar sequence, the contact, the confirmation deadline, who acted, a
  note, the old window of a move, who was working on it. It renders nothing and tells
  nobody, and never commits, so a transition that rolls back takes its event with it.
* `expand_appointment_event(session, event)` runs in the scheduler process (the
  "expand-events" job, woken when the transaction commits): it writes the in-portal
  notices and queues the e-mails (with their .ics) in the outbox, once per event, from
  the appointment as it was when the event happened.

Customer e-mails go to the appointment's contact, unless the contact's user turned
e-mails off; each carries the signed manage link. Agents get a notice and an e-mail;
schedulers (scheduler, manager and admin users) get notices, and an e-mail too for the
events that need someone to act (`scheduler_emails`), such as an expired confirmation
request.

An appointment's events are expanded in the order of their rows. Every transaction that
announces holds the appointment's row lock (the lifecycle's `_lock`, the expiry's
claiming UPDATE, the reminders' FOR UPDATE) or created the appointment, so a later
event of an appointment always has the larger id.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from portal.accounts.models import Contact, User
from portal.booking.audience import CUSTOMER_NOTICES, EVENTS, STAFF_NOTICES
from portal.booking.ics import build_ics
from portal.booking.links import manage_url, task_url
from portal.booking.models import Appointment, SignOff
from portal.formatting import fmt_datetime, fmt_window, org_zone
from portal.notifications.events import Event, record_event
from portal.notifications.models import Notification, OutboxMessage
from portal.notifications.rendering import render_email, service_phrase
from portal.notifications.services import notify_user, queue_email
from portal.timeutil import now_utc
from portal.workforce.models import Agent
from portal.workorders.models import WorkOrderTask

# The kind of the event rows this module writes and expands.
KIND = "appointment"

SCHEDULER_ROLES = ("scheduler", "manager", "admin")
# Customers are reminded this long before a confirmed window starts.
REMINDER_AHEAD = timedelta(hours=24)


TASK_EVENTS = frozenset({"booked", "assigned"})


def announce(
    session: so.Session,
    event: str,
    appointment: Appointment,
    *,
    actor: User | None = None,
    note: str = "",
    old_window: tuple[datetime, datetime] | None = None,
    agents: Iterable[Agent] | None = None,
    working: Iterable[int] | None = None,
) -> None:
    """Record that `event` happened to `appointment`; the scheduler process tells people.

    `agents` narrows which agents hear of it (default: everyone working on it; for
    "assigned", those not yet told of this task). `working` names the agents working on
    it when the caller knows them (default: looked up). Never flushes or commits.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    if event == "reminder" and already_reminded(session, appointment):
        return
    _record(
        session,
        event,
        appointment,
        actor=actor,
        note=note,
        old_window=old_window,
        agents=agents,
        working=working,
    )


def _record(
    session, event, appointment, *, actor=None, note="", old_window=None, agents=None, working=None
) -> None:
    if working is None:
        working = _working_ids(session, appointment)
    data = {
        "actor": actor.id if actor is not None else None,
        "note": note.strip(),
        "window": [_iso(appointment.window_start), _iso(appointment.window_end)],
        "old_window": [_iso(old_window[0]), _iso(old_window[1])] if old_window else None,
        "sequence": appointment.sequence,
        "contact": appointment.contact_id,
        "deadline": _iso(appointment.confirm_deadline),
        "working": sorted(set(working)),
        "agents": sorted(a.id for a in agents) if agents is not None else None,
    }
    key = _event_reminder_key(appointment) if event == "reminder" else None
    record_event(session, KIND, event, appointment.id, data, now=now_utc(), dedupe_key=key)


def _working_ids(session: so.Session, appointment: Appointment) -> set[int]:
    """Everyone working on the appointment: its holds, and tasks not declined.

    A cancelled appointment holds nobody any more, so its tasks name who was going.
    """
    session.flush()  # a hold added by agent object gets its agent_id here
    held = {hold.agent_id for hold in appointment.holds}
    tasked = session.scalars(
        sa.select(WorkOrderTask.agent_id).where(
            WorkOrderTask.appointment_id == appointment.id,
            WorkOrderTask.agent_id.is_not(None),
            WorkOrderTask.status != "declined",
        )
    )
    return held | set(tasked)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# -- reminders -----------------------------------------------------------------------


def queue_reminders(
    session: so.Session, now: datetime, *, ahead: timedelta = REMINDER_AHEAD
) -> int:
    """Announce "reminder" for each confirmed appointment starting within `ahead` of `now`
    that has not had its reminder; returns how many were reminded. Never commits.

    The appointments are locked (PostgreSQL) so that a cancellation in the same instant
    is either seen here or announced after the reminder."""
    due = session.scalars(
        sa.select(Appointment)
        .where(
            Appointment.status == "confirmed",
            Appointment.window_start > now,
            Appointment.window_start <= now + ahead,
        )
        .order_by(Appointment.window_start, Appointment.id)
        .with_for_update()
    ).all()
    if not due:
        return 0
    # Two queries for the whole batch, not two per appointment.
    keys = {reminder_key(a) for a in due} | {_event_reminder_key(a) for a in due}
    links = {_reminder_link(a) for a in due}
    sent_keys = set(
        session.scalars(
            sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))
        )
    )
    noted_links = set(
        session.scalars(sa.select(Notification.link).where(Notification.link.in_(links)))
    )
    count = 0
    for appointment in due:
        if (
            reminder_key(appointment) in sent_keys
            or _event_reminder_key(appointment) in sent_keys
            or _reminder_link(appointment) in noted_links
        ):
            continue
        _record(session, "reminder", appointment)  # checked above, for the whole batch
        count += 1
    return count


def reminder_key(appointment: Appointment) -> str:
    """The dedupe key that makes a reminder e-mail go out once per version of the
    appointment."""
    return f"reminder:{appointment.id}:{appointment.sequence}"


def _event_reminder_key(appointment: Appointment) -> str:
    """The reminder event's own key: recorded once per version, whatever the job's runs."""
    return f"event:reminder:{appointment.id}:{appointment.sequence}"


def already_reminded(session: so.Session, appointment: Appointment) -> bool:
    """True once the reminder for this version of the appointment was recorded, queued
    or noted.

    The event carries a key, and so does the e-mail (also in rows queued before events
    existed); a customer who turned e-mails off gets only the notice, whose link carries
    the version as a fragment, so all of them mark "reminded".
    """
    keys = (reminder_key(appointment), _event_reminder_key(appointment))
    if session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key.in_(keys))):
        return True
    return (
        session.scalar(
            sa.select(Notification.id).where(Notification.link == _reminder_link(appointment))
        )
        is not None
    )


# -- expansion (scheduler process) ---------------------------------------------------


class AsItWas:
    """The appointment as it was when an event happened: the fields the event froze
    (window, sequence, confirmation deadline, contact), everything else read from the
    row. Templates and the .ics builder read it like an appointment."""

    def __init__(self, appointment: Appointment, **frozen):
        self.__dict__.update(frozen)
        self._appointment = appointment

    def __getattr__(self, name: str):  # only asked for what was not frozen
        return getattr(self._appointment, name)


def expand_appointment_event(session: so.Session, event: Event) -> None:
    """Write the notices and queue the e-mails that `event` calls for (the expander the
    app factory registers for "appointment" events). Flushes, never commits."""
    appointment = session.get(Appointment, event.subject_id)
    if appointment is None:
        return  # gone since: nobody to tell about it
    data = event.data
    start, end = (_instant(t) for t in data["window"])
    contact = session.get(Contact, data["contact"]) if data.get("contact") else None
    then = AsItWas(
        appointment,
        window_start=start,
        window_end=end,
        sequence=data["sequence"],
        confirm_deadline=_instant(data.get("deadline")),
        contact=contact or appointment.contact,
        occurred_at=event.occurred_at,
    )
    actor = session.get(User, data["actor"]) if data.get("actor") else None
    old_window = tuple(_instant(t) for t in data["old_window"]) if data.get("old_window") else None
    working = _load_agents(session, data.get("working") or [])
    narrowed = data.get("agents")
    agents = _load_agents(session, narrowed) if narrowed is not None else None
    _tell(
        session,
        event.name,
        then,
        actor=actor,
        note=data.get("note", ""),
        old_window=old_window,
        agents=agents,
        working=working,
    )


def _load_agents(session: so.Session, ids: list[int]) -> list[Agent]:
    """The agents with these ids, with their users, in one query, by id."""
    if not ids:
        return []
    return list(
        session.scalars(
            sa.select(Agent)
            .options(so.joinedload(Agent.user))
            .where(Agent.id.in_(ids))
            .order_by(Agent.id)
        )
    )


def _tell(session, event, appointment, *, actor, note, old_window, agents, working) -> None:
    audience = EVENTS[event]
    context = _context(
        session, appointment, event, actor=actor, note=note, old_window=old_window, working=working
    )
    if audience.customer:
        _tell_customer(session, event, appointment, audience, context)
    if audience.agents:
        chosen = agents if agents is not None else working
        if event == "assigned" and agents is None:
            chosen = [a for a in chosen if not _task_mail_exists(session, appointment, a)]
        for agent in chosen:
            _tell_agent(session, event, appointment, agent, context)
    if audience.schedulers:
        _tell_schedulers(session, event, appointment, audience, context, actor=actor)
    session.flush()


# -- audiences -----------------------------------------------------------------------


def _tell_customer(session, event, appointment, audience, context) -> None:
    contact = appointment.contact
    user = contact.user
    if user is not None and event in CUSTOMER_NOTICES:
        link = _reminder_link(appointment) if event == "reminder" else _customer_link(appointment)
        notify_user(
            session,
            user.id,
            CUSTOMER_NOTICES[event].format(**context["fields"]),
            link,
            at=appointment.occurred_at,
        )
    if not contact.email or (user is not None and not user.email_notifications):
        return
    _email(
        session,
        appointment,
        f"email/customer/{event}.txt",
        context,
        to=(contact.email, contact.full_name),
        ics=build_ics(appointment, audience.ics) if audience.ics else None,
        dedupe_key=reminder_key(appointment) if event == "reminder" else None,
    )


def _tell_agent(session, event, appointment, agent, context) -> None:
    user = agent.user
    if not user.active:
        return
    fields = context["fields"]
    notify_user(
        session,
        user.id,
        STAFF_NOTICES[event].format(**fields).strip(),
        "/staff/",
        at=appointment.occurred_at,
    )
    if not user.email_notifications:
        return
    template = "email/staff/task.txt" if event in TASK_EVENTS else f"email/staff/{event}.txt"
    dedupe_key = _task_key(appointment, agent) if event in TASK_EVENTS else None
    _email(session, appointment, template, context, to=_to(user), dedupe_key=dedupe_key)


def _tell_schedulers(session, event, appointment, audience, context, *, actor) -> None:
    message = STAFF_NOTICES[event].format(**context["fields"]).strip()
    users = session.scalars(
        sa.select(User)
        .where(User.role.in_(SCHEDULER_ROLES), User.active.is_(True))
        .order_by(User.id)
    )
    for user in users:
        if actor is not None and user.id == actor.id:
            continue  # the scheduler who did it need not be told
        notify_user(session, user.id, message, _staff_link(appointment), at=appointment.occurred_at)
        if not audience.scheduler_emails or not user.email_notifications:
            continue
        _email(session, appointment, f"email/staff/{event}.txt", context, to=_to(user))


def _to(user: User) -> tuple[str, str]:
    return user.email, user.full_name


def _email(session, appointment, template, context, *, to, ics=None, dedupe_key=None) -> None:
    """Queue one person's e-mail about the appointment; `to` is (address, name)."""
    address, name = to
    subject, text, html = render_email(template, **context, recipient_name=name)
    queue_email(
        session,
        to=address,
        subject=subject,
        text=text,
        html=html,
        ics=ics,
        dedupe_key=dedupe_key,
        subject_type="appointment",
        subject_id=appointment.id,
    )


def _task_key(appointment: Appointment, agent: Agent) -> str:
    return f"task:{appointment.id}:{agent.id}:{appointment.sequence}"


def _task_mail_exists(session, appointment, agent) -> bool:
    key = _task_key(appointment, agent)
    return (
        session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key))
        is not None
    )


def _staff_link(appointment: Appointment) -> str:
    return f"/staff/appointments/{appointment.id}"


def _customer_link(appointment: Appointment) -> str:
    return f"/appointments/{appointment.id}"


def _reminder_link(appointment: Appointment) -> str:
    return f"/appointments/{appointment.id}#reminder-{appointment.sequence}"


# -- rendering -----------------------------------------------------------------------


def appointment_zone(appointment: Appointment) -> str:
    """The zone the appointment's window is shown in: its location's territory's."""
    territory = appointment.location.territory if appointment.location else None
    return territory.time_zone if territory else org_zone()


def _context(session, appointment, event, *, actor, note, old_window, working) -> dict:
    zone = appointment_zone(appointment)
    window = fmt_window(appointment.window_start, appointment.window_end, zone)
    old = fmt_window(old_window[0], old_window[1], zone) if old_window else ""
    service = appointment.service
    sign_off = None
    if event == "signed_off":
        sign_off = session.scalar(
            sa.select(SignOff).where(SignOff.appointment_id == appointment.id)
        )
    agents = working
    return {
        "event": event,
        "appointment": appointment,
        "number": appointment.number,
        "work_order_number": appointment.work_order.number,
        "service_name": service.name,
        "service": service_phrase(service.name),
        "address": appointment.location.one_line,
        "window": window,
        "old_window": old,
        "zone": zone,
        "note": note.strip(),
        "actor_name": actor.full_name if actor else "",
        "agent_names": [a.user.full_name for a in agents],
        "contact_name": appointment.contact.full_name,
        "sign_off": sign_off,
        "signed_at": fmt_datetime(sign_off.signed_at, zone) if sign_off else "",
        "manage_url": manage_url(appointment.id),
        "task_url": task_url(),
        "staff_url": current_app.config["BASE_URL"] + _staff_link(appointment),
        "deadline": fmt_datetime(appointment.confirm_deadline, zone),
        "portal_url": current_app.config["BASE_URL"],
        "fields": {
            "number": appointment.number,
            "service": service.name,
            "window": window,
            "note": note.strip(),
        },
    }
