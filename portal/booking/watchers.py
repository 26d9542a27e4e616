"""What booking does when one of its work orders changes status.

Every work order today is a booking's (portal/workorders/watchers.py), and booking moves
them itself, in the same step that moves the appointment (lifecycle.py, agent_moves.py,
portal/dispatch/services.py), so there is nothing left to follow up yet: the watcher
only logs. It is the place where an appointment will follow a change someone else makes
to its work order (an order cancelling its line, say), registered by the app factory.
"""

from __future__ import annotations

import logging

import sqlalchemy.orm as so

from portal.workorders.watchers import StatusChange

log = logging.getLogger(__name__)


def work_order_moved(session: so.Session, change: StatusChange) -> None:
    """Follow a status change of a booking's work order or task (nothing to do yet)."""
    log.debug(
        "%s %s of work order %s: %s -> %s",
        type(change.subject).__name__,
        change.subject.id,
        change.work_order_id,
        change.old,
        change.new,
    )
