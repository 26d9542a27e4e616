"""Milestones: appending to their logs and keeping their cached state in step.

Every change to a milestone is an event appended to its log (portal/sla/models.py
MilestoneEvent); the state, due time, warning time, business time used and the next
instant to look again are then derived from the whole log (portal/sla/clock.py) and
stored on the row as a cache. The scheduler's pass (portal/sla/jobs.py) does the same for
the milestones whose `next_check_at` has come. So there is one rule for what a milestone
is, and the cache can always be rebuilt from the log.

When the derived state crosses into warning, violated or completed on time, the actions
of that trigger are written as runs (`sla_action_runs`, one per milestone and action: the
unique key makes it once, however often and by however many processes the state is
derived), due at the next business-hours instant of the recipient's calendar unless the
action runs outside hours; warnings and violations also record a "milestone" event whose
expansion queues the webhooks (portal/sla/hooks.py), once per milestone and event name.

Concurrency: a service locks the milestones it changes (SELECT ... FOR UPDATE on
PostgreSQL; SQLite has one writer at a time), and the scheduler's pass skips the ones
locked, so a request's event and a pass never overwrite each other's cache.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.calendars.business import Calendar, add_business_time, business_time_between, next_open
from portal.calendars.services import load_calendars
from portal.cases.models import Case, CaseWorkOrder
from portal.cases.shapes import case_out
from portal.db import among, insert_many
from portal.notifications.events import record_events
from portal.notifications.models import OutboxMessage
from portal.queues.models import Queue
from portal.sla import clock
from portal.sla.models import (
    Milestone,
    MilestoneAction,
    MilestoneEvent,
    SlaActionRun,
)

log = logging.getLogger(__name__)

OPEN_STATES = clock.OPEN_STATES
# The kind of outbox event a milestone records (portal/notifications/events.py), and the
# names that make webhooks: milestone.warning and milestone.violated.
EVENT_KIND = "milestone"
WEBHOOK_NAMES = {"warning": "warning", "violation": "violated"}
# Actions with no person to reach: they run at once, whatever the hour.
FIELD_ACTIONS = frozenset({"set_priority", "set_status"})
ALWAYS = clock.Clock(
    add=lambda start, amount: start + amount,
    between=lambda a, b: max(b - a, timedelta(0)),
)


# --- what one request or one pass looks up -----------------------------------------------------


class Lookup:
    """Calendars, actions, cases, hand-off links and queues one request or one job pass
    uses, each loaded once for it (nothing lives longer: an edit in the settings counts
    from the next request or pass). `preload` fetches what many milestones need in a few
    queries; the getters load what is missing one at a time."""

    def __init__(self, session: so.Session):
        self.session = session
        self._calendars: dict[int, Calendar | None] = {}
        self._actions: dict[int, list[MilestoneAction]] = {}
        self._cases: dict[int, Case | None] = {}
        self._links: dict[int, CaseWorkOrder | None] = {}

    def preload(self, milestones: Iterable[Milestone]) -> None:
        milestones = list(milestones)
        session = self.session
        definitions = {m.definition_id for m in milestones} - {None} - set(self._actions)
        if definitions:
            for definition_id in definitions:
                self._actions[definition_id] = []
            for action in session.scalars(
                sa.select(MilestoneAction)
                .where(MilestoneAction.definition_id.in_(definitions))
                .order_by(MilestoneAction.id)
            ):
                self._actions[action.definition_id].append(action)
        work_orders = {m.work_order_id for m in milestones} - {None} - set(self._links)
        if work_orders:
            for work_order_id in work_orders:
                self._links[work_order_id] = None
            for link in session.scalars(
                sa.select(CaseWorkOrder)
                .where(among(session, CaseWorkOrder.work_order_id, list(work_orders)))
                .options(so.joinedload(CaseWorkOrder.queue))
            ):
                self._links[link.work_order_id] = link
        cases = {m.case_id for m in milestones} | {
            link.case_id for link in self._links.values() if link is not None
        }
        cases = cases - {None} - set(self._cases)
        if cases:
            for case_id in cases:
                self._cases[case_id] = None
            for case in session.scalars(
                sa.select(Case)
                .where(among(session, Case.id, list(cases)))
                .options(so.joinedload(Case.owner_queue))
            ):
                self._cases[case.id] = case
        calendars = {m.calendar_id for m in milestones}
        calendars |= {link.queue.calendar_id for link in self._links.values() if link is not None}
        calendars |= {
            c.owner_queue.calendar_id for c in self._cases.values() if c and c.owner_queue
        }
        self.preload_calendars(calendars)

    def preload_calendars(self, ids: Iterable[int | None]) -> None:
        wanted = {i for i in ids if i is not None and i not in self._calendars}
        found = load_calendars(self.session, wanted)
        for calendar_id in wanted:
            self._calendars[calendar_id] = found.get(calendar_id)

    # -- getters

    def calendar(self, calendar_id: int | None) -> Calendar | None:
        if calendar_id is None:
            return None
        if calendar_id not in self._calendars:
            self.preload_calendars([calendar_id])
        return self._calendars[calendar_id]

    def actions(self, definition_id: int | None) -> list[MilestoneAction]:
        if definition_id is None:
            return []
        if definition_id not in self._actions:
            self._actions[definition_id] = list(
                self.session.scalars(
                    sa.select(MilestoneAction)
                    .where(MilestoneAction.definition_id == definition_id)
                    .order_by(MilestoneAction.id)
                )
            )
        return self._actions[definition_id]

    def link(self, work_order_id: int | None) -> CaseWorkOrder | None:
        if work_order_id is None:
            return None
        if work_order_id not in self._links:
            self._links[work_order_id] = self.session.scalar(
                sa.select(CaseWorkOrder).where(CaseWorkOrder.work_order_id == work_order_id)
            )
        return self._links[work_order_id]

    def case(self, case_id: int | None) -> Case | None:
        if case_id is None:
            return None
        if case_id not in self._cases:
            self._cases[case_id] = self.session.get(Case, case_id)
        return self._cases[case_id]

    def case_of(self, milestone: Milestone) -> Case | None:
        """The milestone's case: its own, or the case that handed out its work order."""
        if milestone.case_id is not None:
            return self.case(milestone.case_id)
        link = self.link(milestone.work_order_id)
        return self.case(link.case_id) if link is not None else None

    def owning_queue(self, milestone: Milestone) -> Queue | None:
        """Whose queue the work is in: the work order's queue, or the case's owner queue
        (None when a person owns the case)."""
        if milestone.work_order_id is not None:
            link = self.link(milestone.work_order_id)
            return link.queue if link is not None else None
        case = self.case(milestone.case_id)
        return case.owner_queue if case is not None else None

    # -- calendars

    def clock(self, calendar_id: int | None) -> clock.Clock:
        """The arithmetic of that calendar; around the clock when there is none."""
        calendar = self.calendar(calendar_id)
        if calendar is None:
            return ALWAYS
        if not calendar.hours:
            # The settings refuse such a calendar; one that slipped through must not stop
            # the clocks of every milestone on it (adding time to it is impossible).
            log.warning("Business calendar %s has no hours: counting around the clock", calendar_id)
            return ALWAYS
        return clock.Clock(
            add=lambda start, amount: add_business_time(calendar, start, amount),
            between=lambda a, b: business_time_between(calendar, a, b),
        )

    def next_business_instant(self, calendar_id: int | None, at: datetime) -> datetime:
        """`at` if the calendar is open then (or there is none), else its next opening."""
        calendar = self.calendar(calendar_id)
        if calendar is None or not calendar.hours:
            return at
        return next_open(calendar, at) or at


# --- the log and its cache -------------------------------------------------------------------


def append_event(
    milestone: Milestone, kind: str, at: datetime, *, minutes: int | None = None, note: str = ""
) -> MilestoneEvent:
    """Add one event to the milestone's log; never before its last event (clocks of two
    processes may differ by a little: the log stays in order)."""
    if milestone.events and at < milestone.events[-1].at:
        at = milestone.events[-1].at
    event = MilestoneEvent(at=at, kind=kind, minutes=minutes, note=note[:200])
    milestone.events.append(event)
    return event


def derive_state(milestone: Milestone, now: datetime, lookup: Lookup) -> clock.MilestoneState:
    """What the milestone's log says as of `now` (or as of its last event, if later)."""
    events = [clock.Event(e.at, e.kind, e.minutes) for e in milestone.events]
    as_of = max(now, events[-1].at) if events else now
    return clock.derive(
        events, as_of, lookup.clock(milestone.calendar_id), milestone.warn_percent / 100
    )


# The columns that cache what the log says.
CACHED = (
    "state",
    "paused",
    "target_minutes",
    "used_seconds",
    "due_at",
    "warn_at",
    "completed_at",
    "next_check_at",
)


def store_state(milestone: Milestone, state: clock.MilestoneState) -> None:
    """Write the derived state into the milestone's cached columns."""
    milestone.state = state.state
    milestone.paused = state.paused
    milestone.target_minutes = int(state.target.total_seconds() // 60)
    milestone.used_seconds = int(state.used.total_seconds())
    milestone.due_at = state.due_at
    milestone.warn_at = state.warn_at
    milestone.completed_at = state.completed_at
    milestone.next_check_at = state.next_check_at


def triggers_between(old: str, new: str) -> list[str]:
    """The trigger a move from state `old` to `new` fires, if any. Each fires at most once
    per milestone in the end (the runs' unique key, the events' dedupe keys), even when a
    raised target takes a milestone back from violated to pending and it is violated again.
    A pending milestone found violated (the pass came late, a lower target) fires only the
    violation: a warning after the fact is noise. Completing late fires nothing: the
    violation fired when the target passed."""
    if old == new:
        return []
    if new == "warning" and old == "pending":
        return ["warning"]
    if new == "violated":
        return ["violation"]
    if new == "completed_on_time":
        return ["success"]
    return []


def refresh(
    session: so.Session,
    milestone: Milestone,
    now: datetime,
    lookup: Lookup,
    *,
    success: bool = True,
) -> list[str]:
    """Derive the milestone's state, store it and fire what the move fires; returns the
    triggers fired. `success=False` (a cancelled work order) fires no success actions."""
    old = milestone.state
    store_state(milestone, derive_state(milestone, now, lookup))
    fired = triggers_between(old, milestone.state)
    if not success:
        fired = [t for t in fired if t != "success"]
    if fired:
        fire(session, [(milestone, t) for t in fired], now, lookup)
    return fired


# --- what a trigger does ---------------------------------------------------------------------


def fire(
    session: so.Session, fired: list[tuple[Milestone, str]], now: datetime, lookup: Lookup
) -> None:
    """Write the action runs of each (milestone, trigger), once each, and for warnings and
    violations the event that makes their webhooks, once each. A few statements for any
    number of milestones (the scheduler's pass fires hundreds at a time)."""
    rows = [
        {
            "milestone_id": milestone.id,
            "action_id": action.id,
            "trigger": trigger,
            "created_at": now,
            "due_at": run_due_at(milestone, action, now, lookup),
            "outcome": "",
        }
        for milestone, trigger in fired
        for action in lookup.actions(milestone.definition_id)
        if action.trigger == trigger
    ]
    insert_runs(session, rows)
    events = {
        f"milestone:{milestone.id}:{WEBHOOK_NAMES[trigger]}": (milestone, WEBHOOK_NAMES[trigger])
        for milestone, trigger in fired
        if trigger in WEBHOOK_NAMES
    }
    if events:
        recorded = set(
            session.scalars(
                sa.select(OutboxMessage.dedupe_key).where(
                    among(session, OutboxMessage.dedupe_key, list(events))
                )
            )
        )
        record_events(
            session,
            EVENT_KIND,
            [
                (name, milestone.id, milestone_data(milestone, lookup), key)
                for key, (milestone, name) in events.items()
                if key not in recorded
            ],
            now=now,
        )


def insert_runs(session: so.Session, rows: list[dict]) -> None:
    """Insert action runs, leaving out any that exists already (milestone + action)."""
    insert_many(
        session, SlaActionRun.__table__, rows, skip_conflicts_on=("milestone_id", "action_id")
    )


def run_due_at(
    milestone: Milestone, action: MilestoneAction, now: datetime, lookup: Lookup
) -> datetime:
    """When the run may go out: at once when it runs outside hours or changes a field,
    else at the next business-hours instant of its recipient's calendar (the queue's for a
    queue lead or the members of an owning queue, the milestone's own otherwise). Zammad
    mails escalations at midnight (zammad #4432); we wait for the morning."""
    if action.outside_hours or action.action in FIELD_ACTIONS:
        return now
    calendar_id = milestone.calendar_id
    if action.action in ("notify_owner", "notify_lead"):
        queue = lookup.owning_queue(milestone)
        if queue is not None and queue.calendar_id is not None:
            case = lookup.case_of(milestone)
            held_by_person = milestone.work_order_id is None and (
                case is None or case.owner_queue_id is None
            )
            if action.action == "notify_lead" or not held_by_person:
                calendar_id = queue.calendar_id
    return lookup.next_business_instant(calendar_id, now)


def milestone_data(milestone: Milestone, lookup: Lookup) -> dict:
    """The milestone (and its case) as webhooks carry it: plain JSON values."""
    case = lookup.case_of(milestone)
    return {
        "milestone": {
            "id": milestone.id,
            "kind": milestone.kind,
            "name": milestone.name,
            "state": milestone.state,
            "paused": milestone.paused,
            "target_minutes": milestone.target_minutes,
            "used_minutes": milestone.used_seconds // 60,
            "started_at": _iso(milestone.started_at),
            "due_at": _iso(milestone.due_at),
            "completed_at": _iso(milestone.completed_at),
            "applies_to": "case" if milestone.case_id is not None else "work_order",
            "work_order_id": milestone.work_order_id,
        },
        # The case in its public shape, as the API and the case.* webhooks show it.
        "case": None if case is None else case_out(case).model_dump(mode="json"),
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")
