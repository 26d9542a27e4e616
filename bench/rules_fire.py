"""Rule engine benchmark: prints name=value lines. PostgreSQL only.

Scenario (issue #15): 50,000 accounts with 3 contacts each (150,000, logged in to the
confirmation service at different times); the aging queue has a lead. One feed sets the
oldest aging of every account: 5% (2,500) to 9 days, so the built-in rule opens 2,500
aging cases, each with a task and an e-mail; the rest to 2 days (no firing). Then the same
values again (nothing fires), then all 2,500 back to 3 (2,500 cases close).

  rules_feed_50k_s        account_changes + apply_changes for 50,000 accounts, the rules
                          firing 2,500 times (cases, tasks, e-mails, states), committed
  rules_fire_2500_s       of that, the time in the rule engine (the watcher)
  rules_same_again_50k_s  the same values again: no change, nothing fires
  rules_close_2500_s      2,500 accounts back under the threshold: 2,500 cases closed
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import make_app, server_reachable, temporary_database  # noqa: E402  (bench/ is on sys.path)

from portal.accounts.models import Contact, CustomerAccount, User  # noqa: E402
from portal.cases.models import Case  # noqa: E402
from portal.cases.types import aging_queue  # noqa: E402
from portal.db import get_session  # noqa: E402
from portal.feed import watchers as feed_watchers  # noqa: E402
from portal.feed.changes import account_changes, apply_changes  # noqa: E402
from portal.feed.watchers import Cause  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.rules.builtin import ensure_builtin  # noqa: E402
from portal.timeutil import freeze  # noqa: E402

PG_SERVER = os.environ.get(
    "PORTAL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/"
)
ACCOUNTS = int(os.environ.get("RULES_BENCH_ACCOUNTS", "50000"))
CONTACTS_EACH = 3
CROSSING_EVERY = 20  # 5%
NOW = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)


def build(app) -> list[int]:
    with app.app_context():
        session = get_session()
        rep = User(email="aging@bench.test", full_name="Bench Aging", role="backoffice")
        session.add(rep)
        session.flush()
        aging_queue(session).lead = rep
        ensure_builtin(session)
        ids = session.scalars(
            sa.insert(CustomerAccount).returning(CustomerAccount.id, sort_by_parameter_order=True),
            [{"name": f"Account {n}", "kind": "business"} for n in range(ACCOUNTS)],
        ).all()
        session.execute(
            sa.insert(Contact),
            [
                {
                    "account_id": account_id,
                    "full_name": f"Contact {account_id}-{k}",
                    "email": f"c{account_id}-{k}@bench.test",
                    "phone": "",
                    "last_external_login_at": NOW - timedelta(hours=k * 7 + account_id % 5),
                }
                for account_id in ids
                for k in range(CONTACTS_EACH)
            ],
        )
        session.commit()
        session.execute(sa.text("ANALYZE"))
        session.commit()
        return list(ids)


def timed_feed(app, values: dict[int, int], label: str) -> tuple[float, float, int]:
    """(whole seconds, seconds in the rules, changes) for one feed, committed."""
    spent = [0.0]
    original = list(feed_watchers._watchers)

    def timed(watcher):
        def run(session, changes, cause):
            started = time.perf_counter()
            watcher(session, changes, cause)
            spent[0] += time.perf_counter() - started

        return run

    feed_watchers._watchers[:] = [timed(w) for w in original]
    try:
        with app.app_context():
            session = get_session()
            started = time.perf_counter()
            changes = account_changes(
                session, {k: {"oldest_aging_days": v} for k, v in values.items()}
            )
            apply_changes(session, changes, Cause("import", label))
            session.commit()
            return time.perf_counter() - started, spent[0], len(changes)
    finally:
        feed_watchers._watchers[:] = original


def main() -> None:
    if not server_reachable(PG_SERVER):
        print("rules_fire_skipped=no PostgreSQL server", file=sys.stderr)
        return
    with temporary_database(PG_SERVER) as url, tempfile.TemporaryDirectory() as instance:
        upgrade(url)
        app = make_app(url, instance)
        freeze(NOW)
        ids = build(app)
        crossing = {i: (9 if n % CROSSING_EVERY == 0 else 2) for n, i in enumerate(ids)}
        whole, rules, _ = timed_feed(app, crossing, "Feed import IMP-000001")
        again, _, changed = timed_feed(app, crossing, "Feed import IMP-000002")
        back = {i: 3 for i, days in crossing.items() if days == 9}
        close, close_rules, _ = timed_feed(app, back, "Feed import IMP-000003")
        with app.app_context():
            session = get_session()
            opened = session.scalar(sa.select(sa.func.count()).select_from(Case))
            still_open = session.scalar(
                sa.select(sa.func.count()).select_from(Case).where(Case.is_closed.is_(False))
            )
        app.extensions["portal.engine"].dispose()
    print(f"rules_feed_50k_s={whole:.2f}")
    print(f"rules_fire_2500_s={rules:.2f}")
    print(f"rules_cases_opened={opened}")
    print(f"rules_same_again_50k_s={again:.2f}")
    print(f"rules_same_again_changes={changed}")
    print(f"rules_close_2500_s={close:.2f}")
    print(f"rules_close_2500_rules_s={close_rules:.2f}")
    print(f"rules_cases_still_open={still_open}")


if __name__ == "__main__":
    main()
