"""Events: what happened, written once by the transaction that made it happen, and
expanded later, by the scheduler process, into what people are told.

A service that changes something worth telling calls `record_event` (through its own
domain's wrapper, e.g. `portal.booking.announce.announce`): one outbox row of channel
"event" with the event's name, its subject and the data that must be frozen at that
moment (who acted, a note, the old window of a move). Nothing is rendered and nobody is
told inside that transaction, so a booking costs one row, and a booking that rolls back
takes its event with it.

The "expand-events" job (portal/notifications/jobs.py) calls `expand_due`: it takes the
pending events, hands each to the expanders registered for its kind (the subject's
type, "appointment"), which write the notices, e-mails and webhook deliveries, and marks
the event "sent" in the same transaction. So an event is expanded exactly once: a crash
before the commit leaves it pending with nothing written, and two expanders never take
the same row (PostgreSQL: FOR UPDATE SKIP LOCKED, held until the commit; SQLite: one
writer at a time). Events of one subject are expanded in the order they were written:
a call takes only the oldest pending event of each subject.

This module knows no domain: a domain registers its expander with `register_expander`
(the app factory wires them, see portal/__init__.py).

Waking: on PostgreSQL a trigger on the outbox (migration 0009) sends NOTIFY portal_wake,
'expand-events' when an event's transaction commits, and the scheduler process runs the
job at once; on SQLite it looks for pending events every second (`events_pending`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import insert_many
from portal.notifications.models import OutboxMessage
from portal.notifications.services import apply_failure

log = logging.getLogger(__name__)

EVENT_CHANNEL = "event"


@dataclass(frozen=True)
class Event:
    """One recorded event, as an expander receives it."""

    id: int
    kind: str  # the subject's type: "appointment"
    name: str  # what happened: "booked", "rescheduled", ...
    subject_id: int
    data: dict  # what was frozen when it happened
    occurred_at: datetime


Expander = Callable[[so.Session, Event], None]
_expanders: dict[str, list[Expander]] = {}


def register_expander(kind: str, expander: Expander) -> None:
    """Have `expander(session, event)` expand every event of `kind`, after the expanders
    registered before it. It writes rows (flushes, never commits); an exception undoes
    what it wrote for that event, which is then retried with backoff. Registering the
    same expander again changes nothing."""
    chain = _expanders.setdefault(kind, [])
    if expander not in chain:
        chain.append(expander)


def record_event(
    session: so.Session,
    kind: str,
    name: str,
    subject_id: int,
    data: dict,
    *,
    now: datetime,
    dedupe_key: str | None = None,
) -> OutboxMessage:
    """Write the event row (inserted with the caller's next flush or commit). `data` must
    be JSON: ids, text and ISO instants, not objects."""
    row = OutboxMessage(**_event_values(kind, name, subject_id, data, now, dedupe_key))
    session.add(row)
    return row


def record_events(
    session: so.Session,
    kind: str,
    events: list[tuple[str, int, dict, str | None]],
    *,
    now: datetime,
) -> int:
    """Write many event rows (name, subject id, data, dedupe key) in one statement, now:
    for a job that records hundreds at once (the SLA pass). Returns how many."""
    if events:
        insert_many(
            session,
            OutboxMessage.__table__,
            [
                _event_values(kind, name, subject_id, data, now, key)
                for name, subject_id, data, key in events
            ],
        )
    return len(events)


def _event_values(kind, name, subject_id, data, now, dedupe_key) -> dict:
    return {
        "channel": EVENT_CHANNEL,
        "recipient": "",
        "subject": name,
        "body_text": json.dumps(data, separators=(",", ":")),
        "body_html": "",
        "subject_type": kind,
        "subject_id": subject_id,
        "dedupe_key": dedupe_key,
        "status": "pending",
        "attempts": 0,
        "last_error": "",
        "next_attempt_at": now,
        "created_at": now,
    }


@dataclass
class ExpandReport:
    claimed: int = 0
    expanded: int = 0
    retrying: int = 0
    failed: int = 0
    ids: list[int] = field(default_factory=list)


def expand_due(session: so.Session, now: datetime, *, limit: int = 50) -> ExpandReport:
    """Expand the pending events due at `now`: at most `limit`, and only the oldest
    pending one of each subject (call again for the next). Flushes, never commits: the
    caller commits once, so the rows an event expands into and its "sent" mark land
    together or not at all."""
    report = ExpandReport()
    for row in _claim(session, now, limit):
        report.claimed += 1
        event = Event(
            id=row.id,
            kind=row.subject_type or "",
            name=row.subject,
            subject_id=row.subject_id,
            data=json.loads(row.body_text or "{}"),
            occurred_at=row.created_at,
        )
        try:
            with session.begin_nested():
                expanders = _expanders.get(event.kind)
                if not expanders:
                    raise LookupError(f"no expander registered for {event.kind!r} events")
                for expander in expanders:
                    expander(session, event)
        except Exception as exc:  # a bad event must not block the others: logged, retried
            log.exception("Event %s (%s %s) cannot be expanded", row.id, event.kind, event.name)
            apply_failure(row, now, exc)
            if row.status == "failed":
                report.failed += 1
            else:
                report.retrying += 1
            continue
        row.status = "sent"
        row.sent_at = now
        row.last_error = ""
        report.expanded += 1
        report.ids.append(row.id)
    session.flush()
    return report


def _claim(session: so.Session, now: datetime, limit: int) -> list[OutboxMessage]:
    """The events `_due` at `now`, oldest first, locked until the commit (rows another
    expander holds are skipped)."""
    return list(
        session.scalars(
            sa.select(OutboxMessage)
            .where(*_due(now))
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def _due(now: datetime) -> tuple:
    """Pending events due at `now` that no earlier pending event of the same subject waits
    before: an earlier event waiting for a retry holds its subject's later ones back."""
    earlier = so.aliased(OutboxMessage)
    waits_behind = (
        sa.select(earlier.id)
        .where(
            earlier.channel == EVENT_CHANNEL,
            earlier.status == "pending",
            earlier.subject_type == OutboxMessage.subject_type,
            earlier.subject_id == OutboxMessage.subject_id,
            earlier.id < OutboxMessage.id,
        )
        .exists()
    )
    return (
        OutboxMessage.channel == EVENT_CHANNEL,
        OutboxMessage.status == "pending",
        OutboxMessage.next_attempt_at <= now,
        ~waits_behind,
    )


def events_pending(connection: sa.Connection, now: datetime) -> bool:
    """Whether an event is due for expanding (what the scheduler polls on SQLite)."""
    found = connection.execute(sa.select(OutboxMessage.id).where(*_due(now)).limit(1)).first()
    return found is not None
