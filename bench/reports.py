"""Reports benchmark: prints name=value lines.

Scenario (issue #6): the demo data plus 10,000 appointments over a quarter (September to
November 2026), held by 50 extra agents, with the timeline entries and sign-offs a real
quarter leaves (confirmations, reschedules, completions). Timed: building the whole file,
SQL aggregates to finished bytes, as the reports page and the scheduler process do.

  report_pdf_10k_s            the operations report as PDF (median of the runs; target < 5)
  report_pdf_10k_max_s        the slowest of those runs
  report_csv_10k_s            the operations report as CSV
  utilisation_pdf_10k_s       agent utilisation as PDF (58 agents)
  signoffs_pdf_10k_s          completion sign-offs as PDF (the 40 latest of thousands)
  signoffs_csv_10k_s          completion sign-offs as CSV (every row)
  report_pdf_10k_pg_s         the operations PDF on PostgreSQL (when reachable;
                              `--sqlite-only` skips it)
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import make_app, server_reachable, temporary_database  # noqa: E402  (bench/ is on sys.path)

from portal.accounts.models import Contact, ServiceLocation  # noqa: E402
from portal.accounts.services import create_user  # noqa: E402
from portal.booking.models import Appointment, AppointmentHold, Service, SignOff  # noqa: E402
from portal.db import get_session  # noqa: E402
from portal.demo import load_demo  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.reports import render  # noqa: E402
from portal.reports.figures import ReportParams  # noqa: E402
from portal.workforce.models import Territory  # noqa: E402
from portal.workforce.services import create_agent  # noqa: E402
from portal.workorders.models import TimelineEntry, WorkOrder, WorkOrderTask  # noqa: E402

APPOINTMENTS = 10_000
EXTRA_AGENTS = 50
FIRST, LAST = date(2026, 9, 1), date(2026, 11, 30)
ZONE = "Europe/London"
SLOTS = (8, 10, 12, 14)  # 90-minute holds that never overlap: 4 a day per agent
PG_SERVER = os.environ.get(
    "PORTAL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/"
)
# Status mix of a finished quarter, and the state of the task behind each.
MIX = [
    ("signed_off", "done", 30),
    ("completed", "done", 25),
    ("confirmed", "accepted", 15),
    ("cancelled", "cancelled", 10),
    ("requested", "assigned", 8),
    ("no_show", "accepted", 5),
    ("needs_reschedule", "cancelled", 4),
    ("declined_by_customer", "cancelled", 3),
]


def seed(app) -> int:
    """Demo data, 50 more London agents, then 10,000 appointments inserted in bulk."""
    rng = random.Random(6)
    with app.app_context():
        session = get_session()
        load_demo(session)
        london = session.scalar(sa.select(Territory).where(Territory.name == "London"))
        hours = [(d, wall(8), wall(18)) for d in range(5)]
        agent_ids = []
        for n in range(EXTRA_AGENTS):
            user = create_user(
                session,
                email=f"report-bench-{n}@example.com",
                full_name=f"Bench Agent {n:02d}",
                role="agent",
                password=None,
                time_zone=ZONE,
            )
            agent = create_agent(session, user, time_zone=ZONE, territories=[london], hours=hours)
            agent_ids.append(agent.id)
        session.flush()
        contacts = session.execute(
            sa.select(Contact.id, Contact.account_id).where(Contact.user_id.is_not(None))
        ).all()
        locations = {
            account_id: location_id
            for location_id, account_id in session.execute(
                sa.select(ServiceLocation.id, ServiceLocation.account_id)
            )
        }
        contacts = [c for c in contacts if c.account_id in locations]
        service_ids = list(session.scalars(sa.select(Service.id)))
        next_wo = (session.scalar(sa.select(sa.func.max(WorkOrder.id))) or 0) + 1
        next_ap = (session.scalar(sa.select(sa.func.max(Appointment.id))) or 0) + 1

        places = []
        day = FIRST
        while day <= LAST:
            if day.weekday() < 5:
                for hour in SLOTS:
                    for agent_id in agent_ids:
                        places.append((day, hour, agent_id))
            day += timedelta(days=1)
        rng.shuffle(places)
        statuses = [status for status, _task, weight in MIX for _ in range(weight)]
        task_of = {status: task for status, task, _weight in MIX}

        rows: dict[str, list[dict]] = {k: [] for k in ("wo", "ap", "hold", "task", "tl", "so")}
        conn = session.connection()

        def flush() -> None:
            for model, key in (
                (WorkOrder, "wo"),
                (Appointment, "ap"),
                (AppointmentHold, "hold"),
                (WorkOrderTask, "task"),
                (TimelineEntry, "tl"),
                (SignOff, "so"),
            ):
                if rows[key]:
                    conn.execute(sa.insert(model), rows[key])
                    rows[key].clear()

        for n in range(APPOINTMENTS):
            day, hour, agent_id = places[n]
            contact = contacts[n % len(contacts)]
            status = rng.choice(statuses)
            start = datetime.combine(day, wall(hour), tzinfo=UTC)
            booked_at = start - timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 12))
            wo, ap = next_wo + n, next_ap + n
            rows["wo"].append(
                {
                    "id": wo,
                    "account_id": contact.account_id,
                    "contact_id": contact.id,
                    "location_id": locations[contact.account_id],
                    "status": "closed" if status == "signed_off" else "scheduled",
                    "summary": "Bench job",
                    "created_at": booked_at,
                }
            )
            rows["ap"].append(
                {
                    "id": ap,
                    "work_order_id": wo,
                    "service_id": service_ids[n % len(service_ids)],
                    "account_id": contact.account_id,
                    "contact_id": contact.id,
                    "location_id": locations[contact.account_id],
                    "status": status,
                    "window_start": start,
                    "window_end": start + timedelta(hours=2),
                    "planned_start": start,
                    "planned_end": start + timedelta(minutes=75),
                    "created_at": booked_at,
                }
            )
            if status not in ("cancelled", "needs_reschedule", "declined_by_customer"):
                rows["hold"].append(
                    {
                        "appointment_id": ap,
                        "agent_id": agent_id,
                        "starts_at": start,
                        "ends_at": start + timedelta(minutes=90),
                    }
                )
            rows["task"].append(
                {
                    "work_order_id": wo,
                    "appointment_id": ap,
                    "agent_id": agent_id,
                    "title": "Bench task",
                    "status": task_of[status],
                }
            )
            if status in ("confirmed", "completed", "signed_off", "no_show"):
                rows["tl"].append(
                    {
                        "subject_type": "Appointment",
                        "subject_id": ap,
                        "work_order_id": wo,
                        "action": "status",
                        "field": "status",
                        "old_value": "accepted",
                        "new_value": "confirmed",
                        "at": booked_at + timedelta(hours=rng.randint(1, 48)),
                        "note": "",
                        "visibility": "customer",
                    }
                )
            if rng.random() < 0.12:
                rows["tl"].append(
                    {
                        "subject_type": "Appointment",
                        "subject_id": ap,
                        "work_order_id": wo,
                        "action": "rescheduled",
                        "field": None,
                        "old_value": None,
                        "new_value": None,
                        "at": booked_at + timedelta(hours=1),
                        "note": "",
                        "visibility": "customer",
                    }
                )
            if status == "signed_off":
                rows["so"].append(
                    {
                        "appointment_id": ap,
                        "full_name": f"Signer {n}",
                        "consent": True,
                        "signed_at": start + timedelta(hours=2),
                        "remote_addr": "",
                        "user_agent": "",
                    }
                )
            if len(rows["ap"]) >= 2000:
                flush()
        flush()
        session.commit()
    return APPOINTMENTS


def timed(fn, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def measure(app, runs: int, prefix: str = "", full: bool = True) -> None:
    quarter = {"date_from": FIRST, "date_to": LAST, "zone": ZONE}
    with app.app_context():
        session = get_session()
        operations = ReportParams("operations", **quarter)
        render.pdf(session, operations)  # warm-up: imports, fonts, template compilation
        pdf = timed(lambda: render.pdf(session, operations), runs)
        print(f"report_pdf_10k{prefix}_s={statistics.median(pdf):.2f}")
        if not full:
            return
        print(f"report_pdf_10k_max_s={max(pdf):.2f}")
        csv = timed(lambda: render.csv_bytes(session, operations), runs)
        print(f"report_csv_10k_s={statistics.median(csv):.2f}")
        for kind, label in (("utilisation", "utilisation"), ("signoffs", "signoffs")):
            params = ReportParams(kind, **quarter)
            samples = timed(lambda params=params: render.pdf(session, params), runs)
            print(f"{label}_pdf_10k_s={statistics.median(samples):.2f}")
        signoffs = ReportParams("signoffs", **quarter)
        rows = timed(lambda: render.csv_bytes(session, signoffs), runs)
        print(f"signoffs_csv_10k_s={statistics.median(rows):.2f}")
        size = len(render.pdf(session, operations))
        print(f"report_pdf_10k_kb={size / 1024:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    logging.getLogger("fontTools").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        app = make_app(url, folder)
        started = time.perf_counter()
        count = seed(app)
        print(f"report_seed_appointments={count}")
        print(f"report_seed_s={time.perf_counter() - started:.1f}")
        measure(app, args.runs)
        app.extensions["portal.engine"].dispose()

    if args.sqlite_only or not server_reachable(PG_SERVER):
        return
    with temporary_database(PG_SERVER) as url, tempfile.TemporaryDirectory() as folder:
        upgrade(url)
        app = make_app(url, folder)
        seed(app)
        measure(app, args.runs, prefix="_pg", full=False)
        app.extensions["portal.engine"].dispose()


if __name__ == "__main__":
    main()
