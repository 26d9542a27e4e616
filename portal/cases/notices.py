"""Who hears of what happens to a case, expanded from its outbox events after the commit
(the "expand-events" job of the scheduler process; see portal/notifications/events.py).

* The customer: an e-mail to the case's contact on every customer-visible update made by
  someone else (a staff reply, a status change, the case closing), unless the contact's
  user turned e-mails off, and an in-portal notice for that user.
* The team: the owner (a person, or every member of the owning queue) hears of a new
  case, of a case given to them, of the customer's comments, of finished back-office work
  and of the case closing or reopening; the members of a queue hear of work handed to it.
  Nobody is told of what they did themselves.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from portal.accounts.models import User
from portal.cases.models import Case
from portal.notifications.events import Event
from portal.notifications.rendering import render_email
from portal.notifications.services import notify_user, queue_email
from portal.queues.models import Queue, QueueMember

# Events the customer hears of (when customer-visible and not their own doing).
CUSTOMER_EVENTS = frozenset({"created", "comment", "status", "closed", "reopened"})
# What the owner is told, by event; {number} {subject} {actor} {note} are filled in.
OWNER_NOTICES = {
    "created": "New case {number}: {subject}",
    "owner": "Case {number} is yours now: {subject}",
    "comment": "{actor} commented on case {number}: {note}",
    "work_done": "Back-office work on case {number}: {note}",
    "closed": "Case {number} closed: {subject}",
    "reopened": "Case {number} reopened: {subject}",
}


def expand_case_event(session: so.Session, event: Event) -> None:
    """Write the notices and queue the e-mails a case event calls for (the expander the
    app factory registers for "case" events). Flushes, never commits."""
    case = session.get(Case, event.subject_id)
    if case is None:
        return
    data = event.data
    actor = session.get(User, data["by"]) if data.get("by") else None
    if data.get("by_email"):
        return  # the customer's e-mail: its receiver alerted the team (cases/inbound.py)
    if event.name in CUSTOMER_EVENTS and data.get("visibility") == "customer":
        _tell_customer(session, case, event, actor)
    if event.name == "handed_off":
        queue = session.get(Queue, data.get("queue"))
        if queue is not None:
            message = f"New work from case {case.number}: {data.get('note', '')}"
            link = f"/back-office/work-orders/{data.get('work_order')}"
            for user_id in _members(session, queue.id):
                if actor is None or user_id != actor.id:
                    notify_user(session, user_id, message, link, at=event.occurred_at)
    elif event.name in OWNER_NOTICES:
        if event.name == "comment" and (actor is None or actor.is_team):
            return  # only the customer's comments are news to the owner
        fields = {
            "number": case.number,
            "subject": case.subject,
            "actor": actor.full_name if actor else "Someone",
            "note": _short(data.get("note") or ""),
        }
        message = OWNER_NOTICES[event.name].format(**fields)
        for user_id in _owners(session, case):
            if actor is None or user_id != actor.id:
                notify_user(session, user_id, message, f"/cases/{case.id}", at=event.occurred_at)
    session.flush()


def _owners(session: so.Session, case: Case) -> list[int]:
    if case.owner_user_id is not None:
        return [case.owner_user_id]
    return _members(session, case.owner_queue_id)


def _members(session: so.Session, queue_id: int | None) -> list[int]:
    if queue_id is None:
        return []
    return list(
        session.scalars(
            sa.select(QueueMember.user_id)
            .join(User, User.id == QueueMember.user_id)
            .where(QueueMember.queue_id == queue_id, User.active.is_(True))
            .order_by(QueueMember.user_id)
        )
    )


def _tell_customer(session: so.Session, case: Case, event: Event, actor: User | None) -> None:
    contact = case.contact
    if contact is None:
        return
    user = contact.user
    if actor is not None and user is not None and actor.id == user.id and event.name != "created":
        return  # the customer's own comment or change
    data = event.data
    base = current_app.config["BASE_URL"]
    context = {
        "event": event.name,
        "number": case.number,
        "case_subject": case.subject,
        "status": data.get("new") if event.name != "comment" else case.status,
        "note": data.get("note") or "",
        "actor_name": actor.full_name if actor else "",
        "by_customer": actor is not None and not actor.is_team,
        "case_url": f"{base}/support/{case.id}",
        "portal_url": base,
    }
    if user is not None and not (actor is not None and actor.id == user.id):
        notify_user(
            session, user.id, _customer_notice(context), f"/support/{case.id}", at=event.occurred_at
        )
    if not contact.email or (user is not None and not user.email_notifications):
        return
    subject, text, html = render_email(
        "email/case/customer_update.txt", **context, recipient_name=contact.full_name
    )
    queue_email(
        session,
        to=contact.email,
        subject=subject,
        text=text,
        html=html,
        dedupe_key=f"case-event:{event.id}",
        subject_type="case",
        subject_id=case.id,
    )


def _customer_notice(context: dict) -> str:
    number, event = context["number"], context["event"]
    if event == "created":
        return f"We opened case {number} for you: {context['case_subject']}"
    if event == "comment":
        return f"New reply on case {number}: {_short(context['note'])}"
    if event == "closed":
        return f"Case {number} is closed."
    return f"Case {number} is now: {context['status']}"


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
