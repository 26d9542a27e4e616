"""SLA pass benchmark: prints name=value lines. PostgreSQL only.

Scenario (issue #14): 50,000 open cases with two milestones each (100,000 open milestones)
on a support calendar open Monday to Friday 09:00-12:30 and 13:30-17:30 in London; 1% of
them (1,000) reach their warning now, each with a warning action to run. The pass runs as
the scheduler runs it, on a database with statistics (ANALYZE, as autovacuum would).

  sla_tick_ms         one evaluation pass: the indexed query for the due milestones, their
                      logs derived, the cache rewritten, the action runs and webhook events
                      written, committed (target: < 500 ms); the median of 5 passes, the
                      same 1,000 milestones put back before each
  sla_tick_ms_max     the slowest of the 5
  sla_tick_due        how many milestones that pass evaluated (1,000)
  sla_idle_tick_ms    the next pass, with nothing due: what the scheduler pays every 30 s
  sla_send_ms         running the 1,000 action runs the pass wrote (an in-portal notice
                      and a queued e-mail each), committed
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import make_app, server_reachable, temporary_database  # noqa: E402  (bench/ is on sys.path)

from portal.accounts.models import Contact, CustomerAccount, User  # noqa: E402
from portal.calendars.models import BusinessCalendar, BusinessHours  # noqa: E402
from portal.cases.models import Case, CaseType  # noqa: E402
from portal.db import get_engine, get_session  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.notifications.models import OutboxMessage  # noqa: E402
from portal.sla import jobs  # noqa: E402
from portal.sla.models import (  # noqa: E402
    EntitlementProcess,
    Milestone,
    MilestoneAction,
    MilestoneDefinition,
    MilestoneEvent,
    SlaActionRun,
)
from portal.timeutil import freeze  # noqa: E402

PG_SERVER = os.environ.get(
    "PORTAL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/"
)
CASES = 50_000
PASSES = 5
DUE_EVERY = 100  # 1% of the milestones are due
LONDON = ZoneInfo("Europe/London")
# Wednesday 3 June 2026, 11:00 in London: the pass runs then.
NOW = datetime(2026, 6, 3, 11, 0, tzinfo=LONDON).astimezone(UTC)
STARTED = datetime(2026, 6, 3, 9, 0, tzinfo=LONDON).astimezone(UTC)
# Due ones: a 160-minute target started at 09:00 warns (75%, 120 minutes) at 11:00 now.
DUE_TARGET, DUE_WARN = 160, NOW
# The others: 480 minutes, warning at 16:00 (after the lunch hour), due Thursday 09:30.
LATER_TARGET = 480
LATER_WARN = datetime(2026, 6, 3, 16, 0, tzinfo=LONDON).astimezone(UTC)
LATER_DUE = datetime(2026, 6, 4, 9, 30, tzinfo=LONDON).astimezone(UTC)


def build(app) -> None:
    with app.app_context():
        session = get_session()
        calendar = BusinessCalendar(name="Support hours", time_zone="Europe/London")
        calendar.hours = [
            BusinessHours(weekday=day, start_minute=start, end_minute=end)
            for day in range(5)
            for start, end in ((540, 750), (810, 1050))
        ]
        owner = User(email="owner@bench.test", full_name="Bench Owner", role="scheduler")
        account = CustomerAccount(name="Bench account", kind="business")
        contact = Contact(account=account, full_name="Bench Contact", email="c@bench.test")
        case_type = session.scalars(sa.select(CaseType).where(CaseType.slug == "support")).one()
        process = EntitlementProcess(name="Standard", applies_to="case", calendar=calendar)
        for kind in ("first_response", "resolution"):
            definition = MilestoneDefinition(
                kind=kind,
                name=kind.replace("_", " ").capitalize(),
                target_low=LATER_TARGET,
                target_medium=LATER_TARGET,
                target_high=LATER_TARGET,
                target_urgent=LATER_TARGET,
                warn_percent=75,
            )
            definition.actions = [MilestoneAction(trigger="warning", action="notify_owner")]
            process.definitions.append(definition)
        session.add_all([calendar, owner, contact, case_type, process])
        session.commit()

        case_ids = session.scalars(
            sa.insert(Case).returning(Case.id, sort_by_parameter_order=True),
            [
                {
                    "case_type_id": case_type.id,
                    "account_id": account.id,
                    "contact_id": contact.id,
                    "subject": f"Bench case {n}",
                    "origin": "Phone",
                    "priority": "medium",
                    "status": "New",
                    "is_closed": False,
                    "owner_user_id": owner.id,
                    "created_at": STARTED,
                    "updated_at": STARTED,
                }
                for n in range(CASES)
            ],
        ).all()
        rows = []
        for n, case_id in enumerate(case_ids):
            for definition in process.definitions:
                due = (2 * n + (definition.kind == "resolution")) % DUE_EVERY == 0
                target = DUE_TARGET if due else LATER_TARGET
                rows.append(
                    {
                        "definition_id": definition.id,
                        "case_id": case_id,
                        "calendar_id": calendar.id,
                        "kind": definition.kind,
                        "name": definition.name,
                        "warn_percent": 75,
                        "state": "pending",
                        "paused": False,
                        "target_minutes": target,
                        "used_seconds": 0,
                        "started_at": STARTED,
                        "due_at": None if due else LATER_DUE,
                        "warn_at": DUE_WARN if due else LATER_WARN,
                        "next_check_at": DUE_WARN if due else LATER_WARN,
                        "updated_at": STARTED,
                    }
                )
        milestone_ids = session.scalars(
            sa.insert(Milestone).returning(Milestone.id, sort_by_parameter_order=True), rows
        ).all()
        session.execute(
            sa.insert(MilestoneEvent),
            [
                {
                    "milestone_id": milestone_id,
                    "at": STARTED,
                    "kind": "start",
                    "minutes": row["target_minutes"],
                    "note": "",
                }
                for milestone_id, row in zip(milestone_ids, rows, strict=True)
            ],
        )
        session.commit()
        # A live database has statistics (autovacuum analyzes after bulk changes).
        session.execute(sa.text("ANALYZE"))
        session.commit()
        get_engine().dispose()


def timed_evaluation(app) -> tuple[float, int]:
    """One evaluation pass as the scheduler runs it (batches until none is left)."""
    with app.app_context():
        session = get_session()
        session.execute(sa.text("SELECT 1"))  # the connection is open, as in the scheduler
        session.commit()
        started = time.perf_counter()
        total = 0
        for _ in range(jobs.MAX_BATCHES):
            evaluated, _fired = jobs.evaluate_due(session, NOW, limit=jobs.BATCH)
            session.commit()
            total += evaluated
            if evaluated < jobs.BATCH:
                break
        return (time.perf_counter() - started) * 1000, total


def put_back(app) -> None:
    """The due milestones as they were before the pass: pending, warning due now."""
    with app.app_context():
        session = get_session()
        session.execute(sa.delete(SlaActionRun))
        session.execute(sa.delete(OutboxMessage).where(OutboxMessage.channel == "event"))
        session.execute(
            sa.update(Milestone)
            .where(Milestone.target_minutes == DUE_TARGET)
            .values(state="pending", due_at=None, warn_at=DUE_WARN, next_check_at=DUE_WARN)
        )
        session.commit()


def timed_sending(app) -> tuple[float, int]:
    with app.app_context():
        session = get_session()
        started = time.perf_counter()
        total = 0
        while True:
            sent, failed = jobs.send_due_runs(session, NOW, limit=jobs.SEND_BATCH)
            session.commit()
            total += sent + failed
            if sent + failed < jobs.SEND_BATCH:
                break
        return (time.perf_counter() - started) * 1000, total


def main() -> None:
    if not server_reachable(PG_SERVER):
        print("sla_tick_skipped=no PostgreSQL server", file=sys.stderr)
        return
    with temporary_database(PG_SERVER) as url, tempfile.TemporaryDirectory() as instance:
        upgrade(url)
        app = make_app(url, instance)
        freeze(NOW)
        build(app)
        ticks = []
        for _ in range(PASSES):
            put_back(app)
            tick_ms, due = timed_evaluation(app)
            ticks.append(tick_ms)
        idle_ms, _ = timed_evaluation(app)
        send_ms, sent = timed_sending(app)
        app.extensions["portal.engine"].dispose()
    print(f"sla_tick_ms={statistics.median(ticks):.0f}")
    print(f"sla_tick_ms_max={max(ticks):.0f}")
    print(f"sla_tick_due={due}")
    print(f"sla_idle_tick_ms={idle_ms:.1f}")
    print(f"sla_send_ms={send_ms:.0f}")
    print(f"sla_send_runs={sent}")


if __name__ == "__main__":
    main()
