"""Who hears of a work order's status changes (and its tasks').

A work order belongs to the part of the product that made it (`WorkOrder.owner_kind`:
"booking", "case"); a task of a case (no work order) belongs to "case". The owner
registers a watcher here, from
the app factory, and the status service (portal/workorders/status.py) calls the owner's
watchers in the caller's transaction, so a change and its consequences commit or roll
back together. The spine knows no owner's code: only the name it registered under.
Registration is by name, so building the app twice does not register a watcher twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy.orm as so

from portal.workorders.models import WorkOrder

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.workorders.models import WorkOrderTask

# A task that belongs to a case rather than to a work order is the case's.
CASE_OWNER = "case"


@dataclass(frozen=True)
class StatusChange:
    """One move of a work order or of one of its tasks (the `subject`)."""

    subject: WorkOrder | WorkOrderTask
    work_order_id: int
    old: str
    new: str
    by: User | None
    why: str


StatusWatcher = Callable[[so.Session, StatusChange], None]

_watchers: dict[str, dict[str, StatusWatcher]] = {}


def watch(owner_kind: str, name: str, watcher: StatusWatcher) -> None:
    """Call `watcher` after every status change of a work order `owner_kind` owns."""
    _watchers.setdefault(owner_kind, {})[name] = watcher


def owner_of(session: so.Session, change: StatusChange) -> str:
    """Which part of the product owns what changed (whose watchers hear of it)."""
    subject = change.subject
    if isinstance(subject, WorkOrder):
        return subject.owner_kind
    if change.work_order_id is None:
        return CASE_OWNER
    work_order = subject.work_order or session.get(WorkOrder, change.work_order_id)
    return work_order.owner_kind


def status_changed(session: so.Session, change: StatusChange) -> None:
    """Tell the owner's watchers, in registration order."""
    for watcher in _watchers.get(owner_of(session, change), {}).values():
        watcher(session, change)
