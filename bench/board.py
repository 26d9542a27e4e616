"""Dispatch board benchmark: prints name=value lines.

Scenario (issue #5): the demo data plus 2,000 appointments in the shown week, held by
40 extra London agents (no agent double-booked), served by werkzeug in a thread; a
scheduler GETs the week board over HTTP.

  board_p50_ms / board_p95_ms         the week board on SQLite (target: p95 < 300 ms)
  board_cpu_p50_ms                    CPU time of this process (server thread and client)
                                      per week board: steadier than wall time on a busy box
  board_day_p95_ms                    the day view of the busiest day, SQLite
  board_queries                       SQL statements one week-board request issues
  board_blocks / board_kb             what the week page holds
  panel_p50_ms / panel_candidates     the reassign panel (htmx GET) of one bench task:
                                      one availability check per qualified agent
  board_pg_p50_ms / board_pg_p95_ms   the same week board on PostgreSQL (when reachable;
                                      `--sqlite-only` skips it)
"""

from __future__ import annotations

import http.cookiejar
import logging
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import make_app, pct, server_reachable, temporary_database  # noqa: E402  (bench/ is on sys.path)

from portal.accounts.models import Contact, ServiceLocation  # noqa: E402
from portal.accounts.services import create_user  # noqa: E402
from portal.booking.models import Appointment, AppointmentHold, Service  # noqa: E402
from portal.db import get_engine, get_session  # noqa: E402
from portal.demo import load_demo  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.timeutil import now_utc, to_local, week_start  # noqa: E402
from portal.workforce.models import Skill, Territory  # noqa: E402
from portal.workforce.services import create_agent  # noqa: E402
from portal.workorders.models import WorkOrder, WorkOrderTask  # noqa: E402

APPOINTMENTS = 2000
EXTRA_AGENTS = 40
SLOTS_PER_DAY = 8  # 40 agents x 7 days x 8 = 2,240 places for 2,000 jobs
ZONE = "Europe/London"  # the demo scheduler's zone: the week shown is its week
RUNS, WARM_UP = 40, 5
PG_SERVER = os.environ.get(
    "PORTAL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/"
)
# Statuses of the bulk appointments and the matching state of their task.
MIX = [("confirmed", "accepted"), ("accepted", "accepted"), ("requested", "assigned")]


def build_world(app) -> datetime:
    """Demo data, 40 more agents, 2,000 appointments this week; returns its Monday."""
    with app.app_context():
        session = get_session()
        load_demo(session)
        session.commit()
        london = session.scalar(sa.select(Territory).where(Territory.name == "London"))
        skills = list(session.scalars(sa.select(Skill)))
        every_day = [(d, wall(6), wall(22)) for d in range(7)]
        agent_ids = []
        for i in range(EXTRA_AGENTS):
            user = create_user(
                session,
                email=f"bench-agent{i}@bench.test",
                full_name=f"Bench Agent {i:02d}",
                role="agent",
                password=None,
            )
            agent = create_agent(
                session,
                user,
                time_zone=ZONE,
                skills=skills,
                territories=[london],
                hours=every_day,
            )
            agent_ids.append(agent.id)
        session.commit()
        monday = week_start(to_local(now_utc(), ZONE).date())
        insert_appointments(session, agent_ids, monday)
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            # A live database has statistics (autovacuum analyzes after bulk changes);
            # without them the planner guesses 11 holds instead of 2,000 and nests loops.
            session.execute(sa.text("ANALYZE"))
            session.commit()
        get_engine().dispose()
    return monday


def insert_appointments(session, agent_ids: list[int], monday) -> None:
    """Work order, appointment, hold and task rows written directly, in bulk."""
    services = list(session.scalars(sa.select(Service).order_by(Service.id)))
    places = session.execute(
        sa.select(ServiceLocation.id, ServiceLocation.account_id, Contact.id)
        .join(Contact, Contact.account_id == ServiceLocation.account_id)
        .join(Territory, Territory.id == ServiceLocation.territory_id)
        .where(Territory.name == "London")
        .order_by(ServiceLocation.id)
    ).all()
    first = datetime.combine(monday, wall(6), tzinfo=UTC)
    jobs = []
    for i in range(APPOINTMENTS):
        k = i // len(agent_ids)
        start = first + timedelta(days=k // SLOTS_PER_DAY, minutes=75 * (k % SLOTS_PER_DAY))
        location_id, account_id, contact_id = places[i % len(places)]
        status, task_status = MIX[i % len(MIX)]
        jobs.append(
            {
                "agent_id": agent_ids[i % len(agent_ids)],
                "service_id": services[i % len(services)].id,
                "start": start,
                "where": {
                    "account_id": account_id,
                    "contact_id": contact_id,
                    "location_id": location_id,
                },
                "status": status,
                "task_status": task_status,
            }
        )
    work_orders = session.scalars(
        sa.insert(WorkOrder).returning(WorkOrder.id, sort_by_parameter_order=True),
        [{**j["where"], "status": "scheduled", "summary": "Bench job"} for j in jobs],
    ).all()
    appointments = session.scalars(
        sa.insert(Appointment).returning(Appointment.id, sort_by_parameter_order=True),
        [
            {
                **j["where"],
                "work_order_id": wo,
                "service_id": j["service_id"],
                "status": j["status"],
                "window_start": j["start"],
                "window_end": j["start"] + timedelta(hours=2),
                "planned_start": j["start"],
                "planned_end": j["start"] + timedelta(minutes=60),
            }
            for wo, j in zip(work_orders, jobs, strict=True)
        ],
    ).all()
    session.execute(
        sa.insert(AppointmentHold),
        [
            {
                "appointment_id": a,
                "agent_id": j["agent_id"],
                "starts_at": j["start"],
                "ends_at": j["start"] + timedelta(minutes=60),
            }
            for a, j in zip(appointments, jobs, strict=True)
        ],
    )
    session.execute(
        sa.insert(WorkOrderTask),
        [
            {
                "work_order_id": wo,
                "appointment_id": a,
                "agent_id": j["agent_id"],
                "title": "Bench job",
                "status": j["task_status"],
                "due_at": j["start"],
            }
            for wo, a, j in zip(work_orders, appointments, jobs, strict=True)
        ],
    )


def serve(app):
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def log_in(base: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode(
        {"csrf_token": token, "email": "scheduler@demo.test", "password": "demo"}
    ).encode()
    opener.open(base + "/login", data=body).read()
    return opener


def time_board(app, monday) -> dict[str, float]:
    server, base = serve(app)
    try:
        opener = log_in(base)
        week = f"{base}/dispatch/?view=week&date={monday.isoformat()}"
        busiest = f"{base}/dispatch/?view=day&date={monday.isoformat()}"
        statements: list[str] = []

        def count(_conn, _cursor, statement, *_args):
            statements.append(statement)

        engine = app.extensions["portal.engine"]
        sa.event.listen(engine, "before_cursor_execute", count)
        page = opener.open(week).read()
        sa.event.remove(engine, "before_cursor_execute", count)
        blocks = page.count(b'<div class="block status-')
        assert blocks >= APPOINTMENTS, f"the week board shows {blocks} blocks"
        result = {
            "queries": len(statements),
            "blocks": blocks,
            "kb": len(page) / 1024,
        }
        # A bench task (the middle of the board): every bench agent qualifies for it.
        links = re.findall(rb'hx-get="(/dispatch/tasks/\d+/reassign[^"]*)"', page)
        panel = base + links[len(links) // 2].decode().replace("&amp;", "&")
        samples = []
        for _ in range(6):
            request = urllib.request.Request(panel, headers={"HX-Request": "true"})
            t0 = time.perf_counter()
            body = opener.open(request).read()
            samples.append((time.perf_counter() - t0) * 1000)
        result["panel_p50"] = statistics.median(samples[1:])
        result["panel_candidates"] = body.count(b'class="candidate ')
        for name, url in (("week", week), ("day", busiest)):
            samples, cpu = [], []
            for i in range(RUNS + WARM_UP):
                t0, c0 = time.perf_counter(), time.process_time()
                opener.open(url).read()
                if i >= WARM_UP:
                    samples.append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.process_time() - c0) * 1000)
            result[f"{name}_p50"] = statistics.median(samples)
            result[f"{name}_p95"] = pct(samples, 0.95)
            result[f"{name}_cpu_p50"] = statistics.median(cpu)
        return result
    finally:
        server.shutdown()
        server.server_close()


def run_sqlite(tmp: str) -> None:
    url = f"sqlite:///{tmp}/board.db"
    upgrade(url)
    app = make_app(url, tmp)
    monday = build_world(app)
    result = time_board(app, monday)
    print(f"board_appointments={APPOINTMENTS}")
    print(f"board_blocks={result['blocks']}")
    print(f"board_kb={result['kb']:.0f}")
    print(f"board_queries={result['queries']}")
    print(f"board_p50_ms={result['week_p50']:.1f}")
    print(f"board_p95_ms={result['week_p95']:.1f}")
    print(f"board_cpu_p50_ms={result['week_cpu_p50']:.1f}")
    print(f"board_day_p95_ms={result['day_p95']:.1f}")
    print(f"panel_p50_ms={result['panel_p50']:.1f}")
    print(f"panel_candidates={result['panel_candidates']}")
    app.extensions["portal.engine"].dispose()


def run_postgres(tmp: str) -> None:
    if not server_reachable(PG_SERVER):
        print("board_pg_skipped=unreachable")
        return
    with temporary_database(PG_SERVER) as url:
        upgrade(url)
        app = make_app(url, tmp)
        monday = build_world(app)
        result = time_board(app, monday)
        print(f"board_pg_queries={result['queries']}")
        print(f"board_pg_p50_ms={result['week_p50']:.1f}")
        print(f"board_pg_p95_ms={result['week_p95']:.1f}")
        app.extensions["portal.engine"].dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run_sqlite(tmp)
        if "--sqlite-only" not in sys.argv:
            run_postgres(tmp)


if __name__ == "__main__":
    main()
