"""Cases' webhook events: `case.created` and `case.closed`, with the case in its public
shape (portal/cases/shapes.py, as staff see it).

`expand_case_webhooks` is registered by the app factory as an expander of "case" events
(portal/notifications/events.py), after the notices' expander: when the scheduler process
expands an event the case services recorded (portal/cases/events.py), the webhook
service queues one delivery per subscribed endpoint in the expansion's transaction. The
payload is built then, from the case as it stands, as booking's webhooks are.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy.orm as so

from portal.cases.models import Case
from portal.cases.shapes import case_out
from portal.notifications.events import Event
from portal.timeutil import now_utc
from portal.webhooks.services import queue_to_subscribers

# Case events (portal/cases/watchers.py CASE_EVENTS) -> the webhook event they make.
ANNOUNCED = {"created": "case.created", "closed": "case.closed"}


def expand_case_webhooks(session: so.Session, event: Event) -> None:
    """Queue the webhooks a case event makes (the expander for webhooks)."""
    if event.name not in ANNOUNCED:
        return
    case = session.get(Case, event.subject_id)
    if case is not None:
        queue_case_event(session, event.name, case, occurred_at=event.occurred_at)


def queue_case_event(
    session: so.Session, event: str, case: Case, *, occurred_at: datetime | None = None
) -> int:
    """Queue the webhook of a case event to every active endpoint subscribed to it;
    returns how many were queued (0 for events that make no webhook). A `case.closed`
    whose case was reopened before the expansion is not sent (as `work_order.closed`
    is not for a work order that is no longer closed): the receiver would get a closed
    event carrying an open case."""
    kind = ANNOUNCED.get(event)
    if kind is None:
        return 0
    if kind == "case.closed" and not case.is_closed:
        return 0
    return queue_to_subscribers(session, kind, lambda: case_data(case), occurred_at or now_utc())


def case_data(case: Case) -> dict:
    """The case in the shape the JSON API gives staff: webhooks go to the organisation's
    own systems, which see what staff see (the owner too)."""
    return {"case": case_out(case, with_owner=True).model_dump(mode="json")}
