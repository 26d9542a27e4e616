"""Who hears of changes to fed records: the rules (portal/rules) register here.

The feed does not know the rules: it reports what changed, after the derived fields, in
the transaction of the change, and each watcher does its part in that transaction (a
watcher that raises rolls the whole change back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy.orm as so


@dataclass(frozen=True)
class RecordChange:
    record_type: str  # "account" | "contact" (portal/feed/records.py)
    record_id: int
    # Field -> value before and after, derived flags included. `before` is empty for a
    # record just created; a field missing from both did not change.
    before: Mapping[str, object]
    after: Mapping[str, object]
    created: bool = False

    def changed(self, name: str) -> bool:
        return self.before.get(name) != self.after.get(name)


@dataclass(frozen=True)
class Cause:
    """What made the change, for the firing log and the case's timeline."""

    kind: str  # "import" | "hand_edit" | "rule_enabled"
    label: str  # "Feed import IMP-000012", "Edited by Ann Manager"
    import_id: int | None = None
    actor_id: int | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


Watcher = Callable[[so.Session, Sequence[RecordChange], Cause], None]
_watchers: list[Watcher] = []


def watch(watcher: Watcher) -> Watcher:
    """Register `watcher` (once); usable as a decorator."""
    if watcher not in _watchers:
        _watchers.append(watcher)
    return watcher


def records_changed(session: so.Session, changes: Sequence[RecordChange], cause: Cause) -> None:
    """Tell every watcher about `changes` (only records whose values changed)."""
    if not changes:
        return
    for watcher in list(_watchers):
        watcher(session, changes, cause)
