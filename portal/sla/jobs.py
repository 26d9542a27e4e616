"""The SLA pass the scheduler process runs (portal/scheduler.py, "evaluate-milestones").

Two steps, each in transactions of its own:

1. **Evaluate**: one indexed query takes the milestones whose `next_check_at` has come
   (ix_milestones_next_check_at), oldest first, in batches; each is derived from its log
   (portal/sla/clock.py), its cache rewritten, and a move into warning, violated or
   completed on time writes that trigger's action runs and webhook event
   (portal/sla/services.py `fire`). On PostgreSQL the batch is locked with FOR UPDATE SKIP
   LOCKED: a second process takes other milestones, and a request changing one (which
   locks it) is never waited for: the next pass takes it.
2. **Send**: the runs that are due (their recipient's business hours have come) are claimed
   by a conditional UPDATE (not sent, lease free) and run, and marked sent, in one
   transaction. A second process passes over the rows the first has locked (SKIP LOCKED),
   and were it to reach one, its UPDATE would wait for the first's commit and then find it
   sent: each action runs once. A run whose action fails is left unsent with its
   lease, and tried again when the lease runs out.

Both use the scheduler's clock (`now_utc`), never the database's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask

from portal.background import run_soon
from portal.db import among, get_session, update_many
from portal.sla.actions import perform
from portal.sla.models import Milestone, MilestoneAction, MilestoneEvent, SlaActionRun
from portal.sla.services import (
    CACHED,
    Lookup,
    derive_state,
    fire,
    store_state,
    triggers_between,
)
from portal.timeutil import now_utc

log = logging.getLogger(__name__)

BATCH = 1000
SEND_BATCH = 200
# A claimed run that failed is tried again after this long.
LEASE = timedelta(minutes=10)
# A milestone whose next check the log puts at or before now (it should not) looks again
# this much later rather than in the same pass again.
RECHECK = timedelta(minutes=1)
# A milestone whose log cannot be derived is looked at again this much later.
BROKEN_RECHECK = timedelta(hours=1)
# One call never loops for ever, whatever a bug does.
MAX_BATCHES = 100


@dataclass
class PassReport:
    evaluated: int = 0
    fired: int = 0
    sent: int = 0
    failed: int = 0


def evaluate_milestones(app: Flask) -> PassReport:
    """Evaluate the due milestones, then run the due actions; commits after each batch."""
    report = PassReport()
    with app.app_context():
        session = get_session()
        now = now_utc()
        for _ in range(MAX_BATCHES):
            evaluated, fired = evaluate_due(session, now, limit=BATCH)
            session.commit()
            report.evaluated += evaluated
            report.fired += fired
            if evaluated < BATCH:
                break
        for _ in range(MAX_BATCHES):
            sent, failed = send_due_runs(session, now, limit=SEND_BATCH)
            session.commit()
            report.sent += sent
            report.failed += failed
            if sent + failed < SEND_BATCH:
                break
    if report.evaluated or report.sent:
        log.info(
            "SLA pass: %d milestones evaluated, %d triggers fired, %d actions run, %d failed",
            report.evaluated,
            report.fired,
            report.sent,
            report.failed,
        )
    if report.fired:
        run_soon("expand-events")  # the webhooks of warnings and violations
    if report.sent:
        run_soon("send-outbox")
    return report


def evaluate_due(session: so.Session, now: datetime, *, limit: int = BATCH) -> tuple[int, int]:
    """Evaluate up to `limit` milestones whose next check has come; returns how many were
    evaluated and how many triggers fired. Flushes, never commits."""
    due = (
        sa.select(Milestone.id)
        .where(Milestone.next_check_at <= now)
        .order_by(Milestone.next_check_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = session.scalars(due).all()
    if not ids:
        return 0, 0
    # Plain rows, not mapped objects: a pass reads and writes a thousand milestones, and
    # the unit of work would cost more than the arithmetic.
    table = Milestone.__table__
    milestones = {
        row.id: SimpleNamespace(**row._asdict(), events=[])
        for row in session.execute(sa.select(table).where(among(session, table.c.id, ids)))
    }
    events = MilestoneEvent.__table__
    for row in session.execute(
        sa.select(events.c.milestone_id, events.c.at, events.c.kind, events.c.minutes)
        .where(among(session, events.c.milestone_id, ids))
        .order_by(events.c.milestone_id, events.c.at, events.c.id)
    ):
        milestones[row.milestone_id].events.append(row)
    lookup = Lookup(session)
    lookup.preload(milestones.values())
    fired, changes = [], []
    for milestone in milestones.values():
        old = milestone.state
        try:
            state = derive_state(milestone, now, lookup)
        except ValueError:
            # A log the clock refuses (a bug wrote it): said loudly, looked at again in
            # an hour, and the rest of the pass goes on.
            log.exception("Milestone %s has a log the SLA clock refuses", milestone.id)
            changes.append(
                {"id": milestone.id, "updated_at": now}
                | {name: getattr(milestone, name) for name in CACHED}
                | {"next_check_at": now + BROKEN_RECHECK}
            )
            continue
        store_state(milestone, state)
        if milestone.next_check_at is not None and milestone.next_check_at <= now:
            log.warning("Milestone %s is due a check it already had at %s", milestone.id, now)
            milestone.next_check_at = now + RECHECK
        fired += [(milestone, trigger) for trigger in triggers_between(old, milestone.state)]
        changes.append(
            {"id": milestone.id, "updated_at": now}
            | {name: getattr(milestone, name) for name in CACHED}
        )
    update_many(session, table, changes)
    fire(session, fired, now, lookup)
    session.flush()
    return len(milestones), len(fired)


def send_due_runs(
    session: so.Session, now: datetime, *, limit: int = SEND_BATCH
) -> tuple[int, int]:
    """Claim and run up to `limit` action runs that are due; returns how many ran and how
    many failed. Flushes, never commits: the claim, what the actions write and the "sent"
    mark land together."""
    free = sa.and_(
        SlaActionRun.sent_at.is_(None),
        SlaActionRun.due_at <= now,
        sa.or_(SlaActionRun.claimed_until.is_(None), SlaActionRun.claimed_until < now),
    )
    candidates = (
        sa.select(SlaActionRun.id)
        .where(free)
        .order_by(SlaActionRun.due_at, SlaActionRun.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Another pass's claimed rows are passed over, not waited for: two passes share
        # the work. (Two statements: as a subquery of the UPDATE, PostgreSQL may run the
        # LIMIT ... SKIP LOCKED select more than once and claim far more than `limit`.)
        candidates = candidates.with_for_update(skip_locked=True)
    ids = session.scalars(candidates).all()
    if not ids:
        return 0, 0
    claimed = session.scalars(
        sa.update(SlaActionRun)
        .where(SlaActionRun.id.in_(ids), free)
        .values(claimed_until=now + LEASE)
        .returning(SlaActionRun.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return 0, 0
    runs = session.scalars(
        sa.select(SlaActionRun)
        .where(SlaActionRun.id.in_(claimed))
        .order_by(SlaActionRun.due_at, SlaActionRun.id)
        .execution_options(populate_existing=True)
    ).all()
    milestones = {
        m.id: m
        for m in session.scalars(
            sa.select(Milestone).where(Milestone.id.in_({r.milestone_id for r in runs}))
        )
    }
    actions = {
        a.id: a
        for a in session.scalars(
            sa.select(MilestoneAction).where(MilestoneAction.id.in_({r.action_id for r in runs}))
        )
    }
    lookup = Lookup(session)
    lookup.preload(milestones.values())
    sent = failed = 0
    for run in runs:
        try:
            with session.begin_nested():
                outcome = perform(
                    session,
                    milestones[run.milestone_id],
                    actions[run.action_id],
                    run.trigger,
                    now,
                    lookup,
                )
        except Exception as exc:  # noqa: BLE001  (one bad run must not hold back the rest)
            log.exception("SLA action run %s failed", run.id)
            run.outcome = f"failed: {exc}"[:500]
            failed += 1
            continue
        run.sent_at = now
        run.outcome = outcome
        sent += 1
    session.flush()
    return sent, failed
