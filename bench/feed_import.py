"""Account feed benchmark: prints name=value lines. PostgreSQL only.

Scenario (issue #15): 50,000 accounts with external numbers and 150,000 contacts with
external ids (three each), fed once with a baseline (every account at 0-4 days, every
contact with a log-in); then the next day's feed, in which 5% of the accounts (2,500)
cross the threshold (5 days or more) and the rest stay as they were. The feed runs
through the account feed's import kind in an app built by the app factory, so every
watcher the app registers (the rules, once merged) hears the changes.

  feed_dryrun_50k_s     the dry run of the next day's feed: every row read and checked,
                        the diff computed, nothing written
  feed_import_50k_s     applying it: the checks again, the writes, the watchers,
                        committed (target: < 30 s)
  feed_import_changed   the accounts it changed (2,500)
  feed_reimport_50k_s   the same rows again in a new file with other bytes (columns
                        reordered, CRLF line ends): checked and applied, nothing changes
                        (target: < 10 s)
  feed_reimport_changed the rows it changed (0)
  feed_baseline_50k_s   applying the baseline (200,000 values written, for reference)
  feed_peak_rss_mb      the process's peak resident memory over the whole run
"""

from __future__ import annotations

import csv
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import make_app, server_reachable, temporary_database  # noqa: E402  (bench/ is on sys.path)

from portal.accounts.models import Contact, CustomerAccount  # noqa: E402
from portal.db import get_engine, get_session  # noqa: E402
from portal.feed import kind as _registers_the_feed  # noqa: E402, F401
from portal.feed.reading import CSV_COLUMNS  # noqa: E402
from portal.imports.services import check_file, import_now  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.timeutil import freeze  # noqa: E402

PG_SERVER = os.environ.get(
    "PORTAL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/"
)
ACCOUNTS = 50_000
CONTACTS_EACH = 3
CROSS_EVERY = 20  # 5% of the accounts cross the threshold in the next day's feed
NOW = datetime(2026, 6, 3, 6, 0, tzinfo=UTC)
COLUMNS = list(CSV_COLUMNS)


def build(app) -> None:
    """The accounts and their contacts, in bulk (no ORM object per row)."""
    with app.app_context():
        session = get_session()
        account_ids = session.scalars(
            sa.insert(CustomerAccount).returning(CustomerAccount.id, sort_by_parameter_order=True),
            [
                {"name": f"Bench account {n}", "kind": "business", "external_number": _number(n)}
                for n in range(ACCOUNTS)
            ],
        ).all()
        session.execute(
            sa.insert(Contact),
            [
                {
                    "account_id": account_id,
                    "full_name": f"Contact {n}-{k}",
                    "email": f"c{n}-{k}@bench.test",
                    "external_id": _contact(n, k),
                }
                for n, account_id in enumerate(account_ids)
                for k in range(CONTACTS_EACH)
            ],
        )
        session.commit()
        session.execute(sa.text("ANALYZE"))
        session.commit()


def _number(n: int) -> str:
    return f"CNF-{n:06d}"


def _contact(n: int, k: int) -> str:
    return f"C-{n:06d}-{k}"


def _login(n: int, k: int) -> str:
    moment = NOW - timedelta(days=1 + k, minutes=n % 1440)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_feed(path: Path, *, crossing: bool, reordered: bool = False) -> None:
    """Baseline: every account at n % 5 days. Next day (`crossing`): every 20th at 5-9."""
    order = list(reversed(COLUMNS)) if reordered else COLUMNS
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n" if reordered else "\n")
        writer.writerow(order)
        for n in range(ACCOUNTS):
            days = n % 5 + (5 if crossing and n % CROSS_EVERY == 0 else 0)
            for k in range(CONTACTS_EACH):
                row = {
                    "account_number": _number(n),
                    "oldest_aging_days": str(days),
                    "contact_id": _contact(n, k),
                    "contact_name": f"Contact {n}-{k}",
                    "contact_email": f"c{n}-{k}@bench.test",
                    "last_login_at": _login(n, k),
                }
                writer.writerow([row[name] for name in order])


def timed_run(app, path: Path, *, apply: bool):
    """The file through the import mechanism, as the watched folder (apply: import_now)
    or a manager's upload (the dry run: check_file) brings it: kept and hashed, every row
    checked, the outcomes stored, and when applied the writes and the watchers (the
    rules), committed. (seconds, the Import)."""
    with app.app_context():
        session = get_session()
        started = time.perf_counter()
        run = import_now if apply else check_file
        with path.open("rb") as stream:
            imp = run(session, "account_feed", stream, path.name, source="folder", by=None)
        session.commit()
        return time.perf_counter() - started, imp


def main() -> None:
    if not server_reachable(PG_SERVER):
        print("feed_import_skipped=no PostgreSQL server", file=sys.stderr)
        return
    with (
        temporary_database(PG_SERVER) as url,
        tempfile.TemporaryDirectory() as instance,
        tempfile.TemporaryDirectory() as files,
    ):
        upgrade(url)
        app = make_app(url, instance)
        freeze(NOW)
        build(app)
        folder = Path(files)
        write_feed(folder / "baseline.csv", crossing=False)
        write_feed(folder / "next.csv", crossing=True)
        write_feed(folder / "next-again.csv", crossing=True, reordered=True)
        baseline_s, _ = timed_run(app, folder / "baseline.csv", apply=True)
        dry_s, _ = timed_run(app, folder / "next.csv", apply=False)
        import_s, imported = timed_run(app, folder / "next.csv", apply=True)
        reimport_s, reimported = timed_run(app, folder / "next-again.csv", apply=True)
        with app.app_context():
            get_engine().dispose()
        app.extensions["portal.engine"].dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"feed_dryrun_50k_s={dry_s:.1f}")
    print(f"feed_import_50k_s={import_s:.1f}")
    print(f"feed_import_status={imported.status}")
    print(f"feed_import_changed={imported.changed_count}")
    print(f"feed_import_errors={imported.error_count}")
    print(f"feed_reimport_50k_s={reimport_s:.1f}")
    print(f"feed_reimport_status={reimported.status}")
    print(f"feed_reimport_changed={reimported.changed_count + reimported.new_count}")
    print(f"feed_baseline_50k_s={baseline_s:.1f}")
    print(f"feed_peak_rss_mb={peak_mb:.0f}")


if __name__ == "__main__":
    main()
