"""Webhooks of milestones: `milestone.warning` and `milestone.violated`.

A milestone that warns or is violated records an outbox event of kind "milestone" (once
per milestone and name, portal/sla/services.py `fire`); the scheduler process expands it
after the commit, and this expander (registered by the app factory) queues one delivery
per subscribed endpoint. The data is what the milestone was when it happened.
"""

from __future__ import annotations

import sqlalchemy.orm as so

from portal.notifications.events import Event
from portal.webhooks.services import queue_to_subscribers

# The milestone event -> the webhook event it makes.
ANNOUNCED = {"warning": "milestone.warning", "violated": "milestone.violated"}


def expand_milestone_webhooks(session: so.Session, event: Event) -> None:
    """Queue the webhooks a milestone event makes."""
    kind = ANNOUNCED.get(event.name)
    if kind is not None:
        queue_to_subscribers(session, kind, lambda: event.data, event.occurred_at)
