"""Availability and booking benchmark: prints name=value lines.

Scenario (issue #3): 50 agents, 4 services, 20,000 appointments of history and 2,000 in
the next four weeks. Measured side by side in one run so the ratios hold on a noisy box:

  engine_p50_ms / engine_p95_ms   the 4-week window query (database load + engine), SQLite
  page_p50_ms / page_p95_ms       the customer's windows page over HTTP (one week)
  floor_p95_ms / page_over_floor  a trivial page (/healthz) of the same app, same server
  engine_p95_ms_200k              the same 4-week query with 200,000 appointments of history
  engine_p50_ms_500 /             the same 4-week query in a bigger organisation: 500 agents,
  engine_p95_ms_500               20,000 bookings in the four weeks, 200,000 of history
  book_per_s / raw_insert_per_s   8 concurrent clients on PostgreSQL: bookings through the
  book_over_insert                booking service vs single-row transactional inserts
  book_client_cpu_ms              a booking's Python CPU in its client process
  book_statements / book_refused  SQL statements per booking; windows refused as taken
  floor_tx_per_s                  the same 8 clients writing the rows a booking writes (work
  book_over_floor_tx              order, appointment, hold, task, timeline, outbox) with plain
                                  SQL, one statement a row, one transaction a booking
  book_p50_ms / book_p95_ms       one client, one booking end to end through the service
                                  (book_window and commit), SQLite

The booking parts pin the clock to the next Monday's midnight UTC, so any run day books
the same four weeks.

`--only booking` runs the booking parts alone, `--only engine` the rest.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import multiprocessing as mp
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import make_app, pct, temporary_database  # noqa: E402  (bench/ is on sys.path)

from portal import timeutil  # noqa: E402
from portal.accounts.models import ServiceLocation, User  # noqa: E402
from portal.accounts.services import add_contact, create_customer_account, create_user  # noqa: E402
from portal.booking.models import Appointment, AppointmentHold, BookingPolicy, Service  # noqa: E402
from portal.booking.services import BookingRequest, WindowTaken, book_window  # noqa: E402
from portal.booking.windows import get_availability  # noqa: E402
from portal.db import get_engine, get_session  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.workforce.services import create_agent, create_territory, get_or_create_skill  # noqa: E402
from portal.workorders.models import WorkOrder  # noqa: E402

AGENTS = 50
SKILLS = ["gas", "electrical", "network", "plumbing"]
# The floor's outbox row: a booking's one event row (portal/notifications/events.py).
FLOOR_EVENT_BODY = json.dumps(
    {
        "actor": 1,
        "note": "",
        "window": ["2027-01-04T09:00:00+00:00", "2027-01-04T11:00:00+00:00"],
        "sequence": 0,
        "contact": 1,
        "deadline": None,
        "working": [1],
    }
)
PG_SERVER = os.environ.get(
    "PORTAL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/"
)


def seed_world(session, customers: int = 1, agents: int = AGENTS) -> dict:
    """Territory, skills, `agents` agents (weekdays 08:00-18:00), 4 services, customers."""
    session.merge(BookingPolicy(id=1, min_notice_minutes=60, horizon_days=28))
    territory = create_territory(session, name="London", time_zone="Europe/London", prefixes=["SW"])
    skills = [get_or_create_skill(session, code) for code in SKILLS]
    hours = [(d, wall(8), wall(18)) for d in range(5)]
    for i in range(agents):
        user = create_user(
            session,
            email=f"agent{i}@bench.test",
            full_name=f"Agent {i}",
            role="agent",
            password=None,
        )
        create_agent(
            session,
            user,
            time_zone="Europe/London",
            territories=[territory],
            skills=[skills[i % 4], skills[(i + 1) % 4]],
            hours=hours,
        )
    for i, skill in enumerate(skills):
        session.add(
            Service(
                code=f"svc{i}",
                name=f"Service {i}",
                duration_minutes=60 + 30 * i,
                buffer_minutes=15,
                agents_needed=1,
                required_skill=skill,
            )
        )
    customer_ids, location_ids = [], []
    for c in range(customers):
        account = create_customer_account(session, name=f"Customer {c}")
        user = create_user(
            session,
            email=f"customer{c}@bench.test",
            full_name=f"Customer {c}",
            role="customer",
            password="bench-password",
        )
        add_contact(session, account, full_name=user.full_name, email=user.email, user=user)
        location = ServiceLocation(
            account=account,
            label="Office",
            street="1 Bench Road",
            city="London",
            postal_code="SW1A 1AA",
            territory=territory,
        )
        session.add(location)
        session.flush()
        customer_ids.append(user.id)
        location_ids.append(location.id)
    session.commit()
    return {"customers": customer_ids, "locations": location_ids}


def bulk_appointments(
    session, days: list[datetime], per_day_hours: list[int], stagger_minutes: int = 0
) -> int:
    """Insert booked appointments directly (work order, appointment, hold), fast.

    Each job takes 90 minutes (buffer included) from `hour` UTC, plus `stagger_minutes`
    times the agent's place modulo 4, so agents' free time need not line up. Callers keep
    the jobs inside working hours (08:00-18:00 London is 07:00-17:00 UTC at the latest)
    and apart from each other: the database refuses overlapping holds.
    """
    conn = session.connection()
    location = session.scalar(sa.select(ServiceLocation).limit(1))
    contact_id = location.account.contacts[0].id
    agent_ids = [a for a in session.scalars(sa.text("SELECT id FROM agents ORDER BY id"))]
    next_wo = (session.scalar(sa.select(sa.func.max(WorkOrder.id))) or 0) + 1
    next_ap = (session.scalar(sa.select(sa.func.max(Appointment.id))) or 0) + 1
    count = 0
    batch_wo, batch_ap, batch_hold = [], [], []

    def flush():
        if batch_wo:
            conn.execute(sa.insert(WorkOrder), batch_wo)
            conn.execute(sa.insert(Appointment), batch_ap)
            conn.execute(sa.insert(AppointmentHold), batch_hold)
            batch_wo.clear(), batch_ap.clear(), batch_hold.clear()

    for day in days:
        for hour in per_day_hours:
            for place, agent_id in enumerate(agent_ids):
                start = day.replace(hour=hour) + timedelta(minutes=stagger_minutes * (place % 4))
                end = start + timedelta(minutes=90)
                batch_wo.append(
                    {
                        "id": next_wo,
                        "account_id": location.account_id,
                        "contact_id": contact_id,
                        "location_id": location.id,
                        "status": "closed",
                        "summary": "Bench job",
                    }
                )
                batch_ap.append(
                    {
                        "id": next_ap,
                        "work_order_id": next_wo,
                        "service_id": 1,
                        "account_id": location.account_id,
                        "contact_id": contact_id,
                        "location_id": location.id,
                        "status": "signed_off",
                        "window_start": start,
                        "window_end": start + timedelta(hours=2),
                        "planned_start": start,
                        "planned_end": end - timedelta(minutes=15),
                    }
                )
                batch_hold.append(
                    {
                        "appointment_id": next_ap,
                        "agent_id": agent_id,
                        "starts_at": start,
                        "ends_at": end,
                    }
                )
                next_wo += 1
                next_ap += 1
                count += 1
                if len(batch_wo) >= 5000:
                    flush()
    flush()
    session.commit()
    return count


def weekdays(first: datetime, count: int, step: int = 1) -> list[datetime]:
    out, day = [], first
    while len(out) < count:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=step)
    return out


def time_engine(app, runs: int = 40, now: datetime | None = None) -> list[float]:
    """Milliseconds per 4-week window query from `now` (the clock when None), all services."""
    samples = []
    with app.app_context():
        session = get_session()
        location = session.scalar(sa.select(ServiceLocation).limit(1))
        services = list(session.scalars(sa.select(Service).order_by(Service.id)))
        now = now or datetime.now(UTC)
        for i in range(runs + 5):
            t0 = time.perf_counter()
            result = get_availability(
                session,
                services[i % 4],
                location,
                range_start=now,
                range_end=now + timedelta(days=28),
                now=now,
            )
            elapsed = (time.perf_counter() - t0) * 1000
            session.rollback()
            assert result.windows, "the benchmark world must offer windows"
            if i >= 5:  # warm-up
                samples.append(elapsed)
    return samples


def serve(app):
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def book_one(session, user, service, location, window) -> None:
    """One booking through the real service, committed: live re-check, fair choice, work
    order, appointment, holds, tasks, timeline and the event row."""
    book_window(
        session,
        BookingRequest(
            customer=user,
            service=service,
            location=location,
            window_start=window.starts_at,
            idempotency_key=uuid.uuid4().hex,
        ),
    )
    session.commit()


def time_pages(app, runs: int = 40) -> tuple[list[float], list[float]]:
    server, base = serve(app)
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        html = opener.open(base + "/login").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        body = urllib.parse.urlencode(
            {"csrf_token": token, "email": "customer0@bench.test", "password": "bench-password"}
        ).encode()
        opener.open(base + "/login", data=body).read()
        with app.app_context():
            location_id = get_session().scalar(sa.select(ServiceLocation.id).limit(1))
        page = f"{base}/book/windows?service=1&location={location_id}"
        assert "slot" in opener.open(page).read().decode(), "windows page must list windows"
        page_samples, floor_samples = [], []
        for i in range(runs + 5):
            for url, samples in ((page, page_samples), (base + "/healthz", floor_samples)):
                t0 = time.perf_counter()
                opener.open(url).read()
                if i >= 5:
                    samples.append((time.perf_counter() - t0) * 1000)
        return page_samples, floor_samples
    finally:
        server.shutdown()


# --- PostgreSQL throughput ---------------------------------------------------------------
#
# Both sides run the same harness: `clients` forked processes, each with its own
# connection, each committing every operation (PostgreSQL's default synchronous commit).
# Every client gets ready first (app, connection, its windows), then all start together
# at one signal; the rate is all operations over the time from that signal until the last
# client finishes, so a slow start-up never counts and nobody runs alone at the end.


def next_monday() -> datetime:
    """Midnight UTC of the next Monday: the booking parts pin the clock there."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=7 - today.weekday())


def bookable_windows(session, service, location, now: datetime) -> list:
    """The windows live availability offers from a day after `now` for 26 days."""
    windows = get_availability(
        session,
        service,
        location,
        range_start=now + timedelta(days=1),
        range_end=now + timedelta(days=27),
        now=now,
        explain=False,
    ).windows
    session.rollback()
    return windows


def _book_worker(
    url: str, instance: str, client: int, clients: int, count: int, now: datetime, gate, out
):
    timeutil.freeze(now)
    app = make_app(url, instance)
    done = taken = 0
    with app.app_context():
        session = get_session()
        user = session.scalar(sa.select(User).where(User.email == f"customer{client}@bench.test"))
        location = user.contact.account.locations[0]
        service = session.get(Service, 1)
        mine = bookable_windows(session, service, location, now)[client::clients]
        statements = 0

        def count_statement(*_args):
            nonlocal statements
            statements += 1

        sa.event.listen(get_engine(), "before_cursor_execute", count_statement)
        out.put(("ready", client))
        gate.wait()
        cpu0 = time.process_time()
        for i in range(count):
            window = mine[i % len(mine)]
            try:
                # The real service with its real rules: live re-check, fair choice,
                # work order, appointment, holds, tasks, timeline and announcement.
                book_one(session, user, service, location, window)
                done += 1
            except WindowTaken:
                session.rollback()
                taken += 1
        cpu = time.process_time() - cpu0
        out.put(("done", done, time.monotonic(), cpu, statements, taken))


def _raw_worker(dsn: str, count: int, gate, out) -> None:
    import psycopg

    with psycopg.connect(dsn) as conn:
        out.put(("ready", 0))
        gate.wait()
        cpu0 = time.process_time()
        for i in range(count):
            with conn.transaction():  # BEGIN; INSERT; COMMIT, like each booking
                conn.execute(
                    "INSERT INTO bench_raw (agent_id, starts_at, ends_at) "
                    "VALUES (%s, now(), now())",
                    (i,),
                )
        out.put(("done", count, time.monotonic(), time.process_time() - cpu0, count, 0))


def _floor_worker(dsn: str, world: dict, client: int, clients: int, count: int, gate, out):
    """The rows one booking writes, with plain SQL: one transaction a booking, one
    statement a row, on the same tables and so under the same constraints (foreign keys,
    checks, the holds' exclusion constraint, the idempotency key, outbox triggers)."""
    import psycopg

    agents = world["agents"][client::clients]  # agents of its own: no client waits on another
    account, contact, location, user = world["customers"][client]
    # Far beyond the bookings' four weeks, one 75-minute hold every two hours per agent.
    first = world["now"] + timedelta(days=400)
    with psycopg.connect(dsn) as conn:
        out.put(("ready", client))
        gate.wait()
        cpu0 = time.process_time()
        for i in range(count):
            agent = agents[i % len(agents)]
            start = first + timedelta(hours=2 * (i // len(agents)))
            now = datetime.now(UTC)
            with conn.transaction():
                work_order = conn.execute(
                    "INSERT INTO work_orders (account_id, contact_id, location_id, status, "
                    "summary, description, created_at, updated_at) "
                    "VALUES (%s, %s, %s, 'scheduled', 'Service 0 at Office', '', %s, %s) "
                    "RETURNING id",
                    (account, contact, location, now, now),
                ).fetchone()[0]
                appointment = conn.execute(
                    "INSERT INTO appointments (work_order_id, service_id, account_id, "
                    "contact_id, location_id, status, window_start, window_end, planned_start, "
                    "planned_end, note, idempotency_key, created_by_id, created_at, "
                    "self_reschedules, sequence, cancel_reason, pref_weekdays, "
                    "pref_part_of_day, updated_at) VALUES (%s, 1, %s, %s, %s, 'requested', "
                    "%s, %s, %s, %s, '', %s, %s, %s, 0, 0, '', '', 'any', %s) RETURNING id",
                    (
                        work_order,
                        account,
                        contact,
                        location,
                        start,
                        start + timedelta(hours=2),
                        start,
                        start + timedelta(minutes=60),
                        uuid.uuid4().hex,
                        user,
                        now,
                        now,
                    ),
                ).fetchone()[0]
                conn.execute(
                    "INSERT INTO appointment_holds (appointment_id, agent_id, starts_at, "
                    "ends_at, created_at) VALUES (%s, %s, %s, %s, %s)",
                    (appointment, agent, start, start + timedelta(minutes=75), now),
                )
                task = conn.execute(
                    "INSERT INTO work_order_tasks (work_order_id, appointment_id, agent_id, "
                    "title, status, due_at, created_at) "
                    "VALUES (%s, %s, %s, 'Service 0', 'assigned', %s, %s) RETURNING id",
                    (work_order, appointment, agent, start, now),
                ).fetchone()[0]
                for subject_type, subject_id, action, field, new, visibility in (
                    ("WorkOrderTask", task, "assigned", "agent", str(agent), "internal"),
                    ("WorkOrder", work_order, "created", None, "Service 0 at Office", "customer"),
                    ("Appointment", appointment, "booked", "window", "Mon 1 Jan", "customer"),
                ):
                    conn.execute(
                        "INSERT INTO timeline_entries (subject_type, subject_id, work_order_id, "
                        "actor_id, at, action, field, new_value, note, visibility) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '', %s)",
                        (
                            subject_type,
                            subject_id,
                            work_order,
                            user,
                            now,
                            action,
                            field,
                            new,
                            visibility,
                        ),
                    )
                conn.execute(
                    "INSERT INTO outbox_messages (channel, recipient, subject, body_text, "
                    "body_html, subject_type, subject_id, status, attempts, next_attempt_at, "
                    "last_error, created_at) VALUES ('event', '', 'booked', %s, '', "
                    "'appointment', %s, 'pending', 0, %s, '', %s)",
                    (FLOOR_EVENT_BODY, appointment, now, now),
                )
        out.put(("done", count, time.monotonic(), time.process_time() - cpu0, count * 8, 0))


@dataclass
class RunResult:
    operations: int
    seconds: float
    client_cpu_seconds: float
    statements: int
    refused: int

    @property
    def rate(self) -> float:
        return self.operations / self.seconds


def _run_clients(target, args_list) -> RunResult:
    ctx = mp.get_context("fork")
    out, gate = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=target, args=(*args, gate, out)) for args in args_list]
    for p in procs:
        p.start()
    for _ in procs:
        assert out.get(timeout=600)[0] == "ready"
    t0 = time.monotonic()
    gate.set()
    done = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
        assert p.exitcode == 0, "a bench client failed"
    return RunResult(
        operations=sum(d[1] for d in done),
        seconds=max(d[2] for d in done) - t0,
        client_cpu_seconds=sum(d[3] for d in done),
        statements=sum(d[4] for d in done),
        refused=sum(d[5] for d in done),
    )


def pg_throughput(instance: str, clients: int = 8, per_client: int = 40):
    """(booking run, raw insert run, floor run) on a fresh PostgreSQL database."""
    import psycopg

    now = next_monday()
    with temporary_database(PG_SERVER) as url:
        upgrade(url)
        app = make_app(url, instance)
        with app.app_context():
            session = get_session()
            seed_world(session, customers=clients)
            world = floor_world(session, now)
            get_engine().dispose()
        booking = _run_clients(
            _book_worker,
            [(url, instance, c, clients, per_client, now) for c in range(clients)],
        )
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as conn:
            # Honesty check: every counted booking is in the database, with its holds.
            stored = conn.execute(
                "SELECT count(*) FROM appointments a WHERE EXISTS "
                "(SELECT 1 FROM appointment_holds h WHERE h.appointment_id = a.id)"
            ).fetchone()[0]
            assert stored == booking.operations, (stored, booking.operations)
            conn.execute(
                "CREATE TABLE bench_raw (id serial PRIMARY KEY, agent_id int, "
                "starts_at timestamptz, ends_at timestamptz)"
            )
        raw = _run_clients(_raw_worker, [(dsn, per_client * 10)] * clients)
        floor = _run_clients(
            _floor_worker, [(dsn, world, c, clients, per_client * 5) for c in range(clients)]
        )
        return booking, raw, floor


def floor_world(session, now: datetime) -> dict:
    """The ids the floor clients write with: every agent, and each customer's account,
    contact, location and user."""
    agents = list(session.scalars(sa.text("SELECT id FROM agents ORDER BY id")))
    customers = [
        (u.account_id, u.contact.id, u.contact.account.locations[0].id, u.id)
        for u in session.scalars(sa.select(User).where(User.role == "customer").order_by(User.id))
    ]
    session.rollback()
    return {"agents": agents, "customers": customers, "now": now}


def sqlite_booking_latency(tmp: str, runs: int = 60) -> list[float]:
    """Milliseconds per booking, one client on SQLite: book_window then commit, with the
    2,000 bookings of the engine part's four weeks already in."""
    url = f"sqlite:///{tmp}/bench_book.db"
    upgrade(url)
    app = make_app(url, tmp)
    now = next_monday()
    timeutil.freeze(now)
    samples = []
    try:
        with app.app_context():
            session = get_session()
            seed_world(session)
            bulk_appointments(session, weekdays(now + timedelta(days=1), 20), [9, 14])
            user = session.scalar(sa.select(User).where(User.email == "customer0@bench.test"))
            location = user.contact.account.locations[0]
            service = session.get(Service, 1)
            windows = bookable_windows(session, service, location, now)
            for i in range(runs + 5):
                window = windows[(i * 7) % len(windows)]
                t0 = time.perf_counter()
                book_one(session, user, service, location, window)
                if i >= 5:  # warm-up
                    samples.append((time.perf_counter() - t0) * 1000)
            get_engine().dispose()
    finally:
        timeutil.freeze(None)
    return samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        choices=("engine", "booking"),
        help="run one part: the SQLite engine and page timings, or the PostgreSQL booking",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "booking":
            engine_part(tmp)
        if args.only != "engine":
            booking, raw, floor = pg_throughput(tmp)
            print(f"book_per_s={booking.rate:.1f}")
            print(f"raw_insert_per_s={raw.rate:.1f}")
            print(f"book_over_insert={booking.rate / raw.rate:.2f}")
            print(f"floor_tx_per_s={floor.rate:.1f}")
            print(f"book_over_floor_tx={booking.rate / floor.rate:.2f}")
            # Where a booking's time goes: client-side CPU and statements per booking.
            per = max(booking.operations, 1)
            print(f"book_client_cpu_ms={booking.client_cpu_seconds * 1000 / per:.1f}")
            print(f"book_statements={booking.statements / per:.1f}")
            print(f"book_refused={booking.refused}")
            book_ms = sqlite_booking_latency(tmp)
            print(f"book_p50_ms={statistics.median(book_ms):.1f}")
            print(f"book_p95_ms={pct(book_ms, 0.95):.1f}")


def engine_part(tmp: str) -> None:
    url = f"sqlite:///{tmp}/bench.db"
    upgrade(url)
    app = make_app(url, tmp)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with app.app_context():
        session = get_session()
        seed_world(session)
        # 2,000 in the next four weeks: 50 agents x 20 weekdays x 2 jobs.
        upcoming = bulk_appointments(session, weekdays(today + timedelta(days=1), 20), [9, 14])
        # 20,000 of history: 50 agents x 400 weekdays x 1 job.
        history = bulk_appointments(session, weekdays(today - timedelta(days=600), 400), [10])
    print(f"appointments_upcoming={upcoming}")
    print(f"appointments_history={history}")
    engine_ms = time_engine(app)
    print(f"engine_p50_ms={statistics.median(engine_ms):.1f}")
    print(f"engine_p95_ms={pct(engine_ms, 0.95):.1f}")
    page_ms, floor_ms = time_pages(app)
    print(f"page_p50_ms={statistics.median(page_ms):.1f}")
    print(f"page_p95_ms={pct(page_ms, 0.95):.1f}")
    print(f"floor_p95_ms={pct(floor_ms, 0.95):.1f}")
    print(f"page_over_floor={pct(page_ms, 0.95) / pct(floor_ms, 0.95):.2f}")
    with app.app_context():
        # 180,000 more: 50 agents x 3,600 weekdays further back, one job each.
        history += bulk_appointments(
            get_session(), weekdays(today - timedelta(days=6000), 3600), [12]
        )
    print(f"appointments_history_large={history}")
    large_ms = time_engine(app)
    print(f"engine_p95_ms_200k={pct(large_ms, 0.95):.1f}")
    print(f"history_200k_over_20k={pct(large_ms, 0.95) / pct(engine_ms, 0.95):.2f}")
    with app.app_context():
        get_engine().dispose()
    org_ms = large_organisation(tmp)
    print(f"engine_p50_ms_500={statistics.median(org_ms):.1f}")
    print(f"engine_p95_ms_500={pct(org_ms, 0.95):.1f}")


def large_organisation(tmp: str) -> list[float]:
    """The 4-week query in a bigger organisation, in its own database: 500 agents, 20,000
    bookings in the four weeks, 200,000 appointments of history.

    The four weeks are Monday to Sunday x 4 from the next Monday, and `now` is that Monday's
    midnight UTC, so the same 20 weekdays are booked and asked for whatever day and hour
    the bench runs.
    """
    url = f"sqlite:///{tmp}/bench500.db"
    upgrade(url)
    app = make_app(url, tmp)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today + timedelta(days=7 - today.weekday())
    with app.app_context():
        session = get_session()
        seed_world(session, agents=500)
        # 20,000 in the four weeks: 500 agents x 20 weekdays x 2 jobs, at 09:00-09:45 and
        # 14:00-14:45 UTC by agent, so every job ends by 16:15 UTC, inside 08:00-18:00
        # London in summer and winter.
        upcoming = bulk_appointments(session, weekdays(monday, 20), [9, 14], stagger_minutes=15)
        # 200,000 of history: 500 agents x 400 weekdays x 1 job.
        history = bulk_appointments(session, weekdays(monday - timedelta(days=600), 400), [10])
    print(f"appointments_upcoming_500={upcoming}")
    print(f"appointments_history_500={history}")
    samples = time_engine(app, now=monday)
    with app.app_context():
        get_engine().dispose()
    return samples


if __name__ == "__main__":
    main()
