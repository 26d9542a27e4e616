"""Who hears of a change to an agent's availability (hours, time off, deactivation).

The workforce floor knows nothing of bookings: a floor above registers a watcher here
(the dispatch feature parks the bookings the agent can no longer keep), and the
workforce services call every watcher in the caller's transaction, so the change and its
consequences commit or roll back together. Registration is by name, so building the app
twice does not register a watcher twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy.orm as so

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.workforce.models import Agent

# watcher(session, agent, by, why) -> the records it changed (shown to the user)
AvailabilityWatcher = Callable[[so.Session, "Agent", "User | None", str], list[Any]]

_watchers: dict[str, AvailabilityWatcher] = {}


def watch_availability(name: str, watcher: AvailabilityWatcher) -> None:
    """Call `watcher` after every change that may break what an agent was booked for."""
    _watchers[name] = watcher


def availability_changed(session: so.Session, agent: Agent, by: User | None, why: str) -> list:
    """Tell every watcher; returns what they changed, in registration order."""
    changed: list = []
    for watcher in _watchers.values():
        changed.extend(watcher(session, agent, by, why))
    return changed
