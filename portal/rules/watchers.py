"""The rules hear of every change to fed records (portal/feed/watchers.py), registered
when this module is imported (the app factory imports it)."""

from __future__ import annotations

from portal.feed.watchers import watch
from portal.rules.engine import run_rules


@watch
def rules_follow_fed_records(session, changes, cause) -> None:
    """Run the enabled rules on the changes, in the change's transaction."""
    run_rules(session, changes, cause)
