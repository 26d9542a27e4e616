"""Who hears of a case's changes: the SLA clocks (portal/sla), webhooks, notices.

The case services call `case_changed` after each change, in the caller's transaction;
packages above cases register from the app factory. Registration is by name, so building
the app twice registers nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy.orm as so

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.cases.models import Case

# What happened to the case:
#   created    a new case (old None, new its status)
#   status     its status changed (old and new status names; `meaning` the new one's)
#   priority   its priority changed (old and new)
#   owner      its owner changed (old and new as "user:<id>" or "queue:<id>")
#   responded  staff answered the customer for the first time (a customer-visible comment)
#   comment    a comment (new: "internal" or "customer"; by: its author)
#   closed     it closed (old and new status names)
#   reopened   a closed case opened again
#   handed_off work went to a back-office queue (new: the work order's id; the
#              CaseWorkOrder row exists): its internal milestones start here
# One change is one event: a move into a closed status is "closed" (not also "status"), a
# move out of one is "reopened"; `meaning` always says the new status's meaning.
CASE_EVENTS = (
    "created",
    "status",
    "priority",
    "owner",
    "responded",
    "comment",
    "closed",
    "reopened",
    "handed_off",
)


@dataclass(frozen=True)
class CaseEvent:
    case: Case
    kind: str
    at: datetime
    by: User | None = None
    old: str | None = None
    new: str | None = None
    meaning: str | None = None  # the new status's meaning: "open", "waiting" or "closed"


CaseWatcher = Callable[[so.Session, CaseEvent], None]

_watchers: dict[str, CaseWatcher] = {}


def watch_case(name: str, watcher: CaseWatcher) -> None:
    """Call `watcher` after every change of any case."""
    _watchers[name] = watcher


def case_changed(session: so.Session, event: CaseEvent) -> None:
    """Tell every watcher, in registration order."""
    if event.kind not in CASE_EVENTS:
        raise ValueError(f"unknown case event {event.kind!r}")
    for watcher in _watchers.values():
        watcher(session, event)
