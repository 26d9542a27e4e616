"""What the benchmarks share: the app they measure, percentiles, and a PostgreSQL
database that exists for one benchmark and is dropped after it. Not a benchmark itself
(`make bench` runs the scripts that have a `__main__` block)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from portal.app import create_app


def make_app(url: str, instance: str):
    """The app on `url`, configured as a benchmark runs it (plain http, fixed key)."""
    return create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": instance,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
        }
    )


def pct(samples: list[float], q: float) -> float:
    """The q-quantile (0..1) of `samples`, nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@contextmanager
def temporary_database(server_url: str) -> Iterator[str]:
    """Create `portal_bench_<random>` on the server, yield its URL, then drop it (cutting
    any connection still open). Raises OperationalError when the server is unreachable."""
    server = sa.engine.make_url(server_url)
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as c:
                c.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


def server_reachable(server_url: str) -> bool:
    engine = sa.create_engine(sa.engine.make_url(server_url).set(database="postgres"))
    try:
        with engine.connect() as c:
            c.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()
