"""Fixtures for the whole suite: databases, the app and its clients, the clock, the browser.

Every test that builds the app runs twice, once on SQLite and once on PostgreSQL: the
`database_url` fixture is parametrised over both, and `app`, `client`, `session`, `auth`
and `runner` all sit on it. Each test gets an empty, migrated database of its own: a copy
of a migrated SQLite template file, or a PostgreSQL database (one per test session and
xdist worker) emptied after every test. `sqlite_url` and `pg_url` give one kind only;
`fresh_database_url` gives an unmigrated one.

Set-up goes through `session` (the session services use); the client commits it before
each request, and each request runs in an app context of its own (see PortalClient).
Forms are posted with their CSRF token: `client.post_form(url, data)`, `auth.login(...)`.
`app_config(url, instance)` is the full config every test app is built from.

Tests never read the developer's settings: the PORTAL_* variables are cleared below, and
the app always gets a full config, with an instance folder of its own.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import secrets
import shutil
import sqlite3
import tempfile
import threading
import urllib.request
import warnings
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, Type
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

# --- the environment, before anything from portal is imported ------------------------------

for _name in [n for n in os.environ if n.startswith("PORTAL_")]:
    if _name not in ("PORTAL_TEST_DATABASE_URL", "PORTAL_TEST_CLOCK_REPORT", "PORTAL_CLOCK_OFFSET"):
        del os.environ[_name]
# Anything that still builds the app from the environment (a CLI entry point, say) lands
# in a throw-away folder, never in the developer's instance/.
_SCRATCH = tempfile.mkdtemp(prefix="portal-tests-")
os.environ["PORTAL_INSTANCE_PATH"] = _SCRATCH

from portal import timeutil  # noqa: E402
from portal.accounts import services as accounts_services  # noqa: E402
from portal.app import create_app  # noqa: E402
from portal.db import get_session  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from tests.factories import NOW, World, build_world  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"
SECRET_KEY = "tests-only-secret-key"

# Fixtures that reach a database: a unit test asking for one is in the wrong folder.
DATABASE_FIXTURES = frozenset(
    {
        "database_url",
        "sqlite_url",
        "pg_url",
        "fresh_database_url",
        "app",
        "client",
        "session",
        "runner",
        "auth",
        "live_server",
    }
)


# --- the clock ------------------------------------------------------------------------------
#
# No test may depend on the day or hour it runs: each pins the clock (`frozen_now`) or
# takes what the page offers. `make test-calendar` proves it by running the suite with
# PORTAL_CLOCK_OFFSET moving the portal's clock to other moments (kept above, and handed
# to every process the tests start); every process reports here the instant it read, so
# a clock that never reached the live server or the scheduler process cannot pass.

# Test modules about dates, windows, jobs, reminders and notices: marked `clock` (as is
# every test that pins the clock, drives the browser or starts a scheduler process).
CLOCK_MODULES = re.compile(
    r"test_(engine|timeutil|ics|booking|windows|lifecycle|appointment|assign|confirmation"
    r"|disruptions|dispatch|notifications|reports?_|scheduler|staff_console|staff_queries"
    r"|suggestions|calendar_feed|api_booking|api_lifecycle|api_staff|webhooks_lifecycle"
    r"|job_specs|profile)"
)


def report_clock(who: str, seen: str) -> None:
    """Note the instant `who` read (make test-calendar prints and checks these)."""
    path = os.environ.get("PORTAL_TEST_CLOCK_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as report:
            report.write(f"{who}\t{seen}\n")


def pytest_sessionstart(session: pytest.Session) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    report_clock(f"pytest {worker}", timeutil.now_utc().isoformat(timespec="seconds"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "unit: a test under tests/unit (no database)")
    config.addinivalue_line("markers", "integration: a test under tests/integration")
    # Registered by pytest-xdist too; repeated here so `-p no:xdist` still runs.
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one worker")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks (loadgroup)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by folder, so `-m browser`, `-m unit` and `-m "not postgres"` select them."""
    for item in items:
        path = Path(str(item.path))
        if path.is_relative_to(TESTS / "browser"):
            item.add_marker(pytest.mark.browser)
            # One chromium and one live server: keep every browser test on one worker.
            item.add_marker(pytest.mark.xdist_group("browser"))
        elif path.is_relative_to(TESTS / "unit"):
            item.add_marker(pytest.mark.unit)
        elif path.is_relative_to(TESTS / "integration"):
            item.add_marker(pytest.mark.integration)
        fixtures = getattr(item, "fixturenames", ())
        if "pg_url" in fixtures:
            item.add_marker(pytest.mark.postgres)
        if (
            "frozen_now" in fixtures
            or "live_server" in fixtures
            or path.is_relative_to(TESTS / "browser")
            or CLOCK_MODULES.match(path.name)
        ):
            item.add_marker(pytest.mark.clock)


@pytest.fixture(autouse=True)
def _unit_tests_need_no_database(request: pytest.FixtureRequest) -> None:
    if Path(str(request.node.path)).is_relative_to(TESTS / "unit"):
        used = DATABASE_FIXTURES.intersection(request.fixturenames)
        if used:
            pytest.fail(
                f"tests/unit is for tests without a database, but this one uses "
                f"{', '.join(sorted(used))}: move it to tests/integration",
                pytrace=False,
            )


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """argon2id still, but with the cheapest parameters: each log-in costs a millisecond.

    With the production parameters (64 MiB, 3 passes) one hash or check takes 0.13 to
    0.3 s here, and nearly every integration test logs somebody in. The production
    hasher is handed to `real_password_hasher` for the test that checks its strength.
    """
    real = accounts_services._hasher
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts_services, "_hasher", fast)
        patch.setattr(accounts_services, "_DUMMY_HASH", fast.hash("not-a-password"))
        yield real


@pytest.fixture
def real_password_hasher(_fast_password_hashing) -> PasswordHasher:
    """The PasswordHasher the app uses outside the tests."""
    return _fast_password_hashing


@pytest.fixture(autouse=True)
def _clock_runs_after_each_test():
    """A test (or demo loading) that froze the clock never leaks it into the next one."""
    yield
    timeutil.freeze(None)


# --- databases ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session; each test gets a copy of it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "portal.db"
    upgrade(f"sqlite:///{path}")
    # Fold the WAL into the main file, so that copying one file copies the database.
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return path


def _sqlite_copy(template: Path, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "portal.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def _pg_server_url() -> sa.URL:
    return make_url(os.environ.get("PORTAL_TEST_DATABASE_URL") or DEFAULT_PG_SERVER)


class PgServer:
    """Creates and drops throw-away databases on the PostgreSQL server the tests use.

    PORTAL_TEST_DATABASE_URL (default: postgres@127.0.0.1:5432) names the server; its
    database, if any, is only where we connect to run CREATE DATABASE.
    """

    def __init__(self, url: sa.URL):
        self.url = url
        admin_url = url.set(database=url.database or "postgres")
        self._admin = sa.create_engine(
            admin_url,
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
            connect_args={"connect_timeout": 5},
        )

    def check(self) -> None:
        """Connect once; not reachable fails the run on CI and skips locally."""
        try:
            with self._admin.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except sa.exc.OperationalError as exc:
            where = self.url.render_as_string(hide_password=True)
            message = f"PostgreSQL is not reachable at {where}: {exc.orig}".strip()
            if os.environ.get("CI", "").lower() not in ("", "0", "false"):
                pytest.fail(message + " (CI is set: PostgreSQL tests must run)", pytrace=False)
            pytest.skip(message + " (start it with `make test-deps`)")

    def create_database(self) -> str:
        name = f"portal_test_{secrets.token_hex(6)}"
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        with self._admin.connect() as connection:
            # A connection left open (a leaked engine) must not keep the database alive.
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')

    def dispose(self) -> None:
        self._admin.dispose()


@pytest.fixture(scope="session")
def pg_server():
    """The PostgreSQL server (checked reachable); use it to make extra databases."""
    server = PgServer(_pg_server_url())
    try:
        server.check()
        yield server
    finally:
        server.dispose()


# Tables whose triggers refuse UPDATE and DELETE (the audit log): emptied by TRUNCATE.
APPEND_ONLY_TABLES = frozenset({"audit_log"})


class _PgDatabase:
    """The session's PostgreSQL database, emptied after each test that used it."""

    def __init__(self, url: str):
        self.url = url
        self.engine = sa.create_engine(url, pool_size=1)
        metadata = sa.MetaData()
        metadata.reflect(self.engine)
        with warnings.catch_warnings(record=True) as cycles:
            warnings.simplefilter("always")
            ordered = [t.name for t in reversed(metadata.sorted_tables)]
        self.tables = [name for name in ordered if name != "alembic_version"]
        # DELETE, children first, then the sequences back to their start: the same end as
        # TRUNCATE ... RESTART IDENTITY, at 20 ms a test instead of 480 ms (TRUNCATE makes
        # new files for every table). Tables in a foreign-key cycle cannot be ordered for
        # DELETE; then TRUNCATE it is.
        self._use_truncate = bool(cycles)

    def empty(self) -> None:
        with self.engine.begin() as connection:
            # A test that left a transaction open would make us wait for ever.
            connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            if self._use_truncate:
                names = ", ".join(f'"{t}"' for t in self.tables)
                connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
                return
            for table in self.tables:
                if table in APPEND_ONLY_TABLES:
                    # Its trigger refuses DELETE; TRUNCATE fires no row trigger.
                    connection.exec_driver_sql(f'TRUNCATE "{table}"')
                else:
                    connection.exec_driver_sql(f'DELETE FROM "{table}"')
            connection.exec_driver_sql(
                "SELECT setval((quote_ident(schemaname) || '.' || quote_ident(sequencename))"
                "::regclass, start_value, false) "
                "FROM pg_sequences WHERE schemaname = current_schema()"
            )

    def dispose(self) -> None:
        self.engine.dispose()


@pytest.fixture(scope="session")
def _pg_database(pg_server: PgServer):
    """One migrated database per test session (so per xdist worker), dropped at the end."""
    url = pg_server.create_database()
    database = None
    try:
        upgrade(url)
        database = _PgDatabase(url)
        yield database
    finally:
        if database is not None:
            database.dispose()
        pg_server.drop_database(url)


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database at the newest schema, on SQLite and then on PostgreSQL."""
    if request.param == "sqlite":
        yield _sqlite_copy(request.getfixturevalue("_sqlite_template"), tmp_path / "db")
        return
    database = request.getfixturevalue("_pg_database")
    yield database.url
    database.empty()


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """An empty migrated SQLite database, for a test about SQLite only."""
    return _sqlite_copy(_sqlite_template, tmp_path / "db")


@pytest.fixture
def pg_url(_pg_database: _PgDatabase):
    """An empty migrated PostgreSQL database, for a test about PostgreSQL only."""
    yield _pg_database.url
    _pg_database.empty()


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path):
    """A database with nothing in it, not even migrations (for migration tests)."""
    if request.param == "sqlite":
        (tmp_path / "fresh").mkdir()
        yield f"sqlite:///{tmp_path / 'fresh' / 'portal.db'}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(url)


# --- the app and its clients ----------------------------------------------------------------


def app_config(database_url: str, instance_path: Path, **overrides) -> dict:
    """The full config every test app is built with; nothing comes from the environment."""
    return {
        "TESTING": True,
        "SECRET_KEY": SECRET_KEY,
        "INSTANCE_PATH": str(instance_path),
        "DATABASE_URL": database_url,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        # CSRF stays on: forms are posted with their token (see PortalClient.post_form).
        "WTF_CSRF_ENABLED": True,
        **overrides,
    }


_CSRF_INPUT = re.compile(r"<input\b[^>]*\bname=\"csrf_token\"[^>]*>")
_VALUE = re.compile(r"\bvalue=\"([^\"]*)\"")


class PortalClient(FlaskClient):
    """The test client, with two habits that keep tests honest and simple.

    * Each request runs in an app context of its own, as in production, even while the
      test holds one open through the `session` fixture: otherwise Flask reuses the
      test's context, and `g` (the database session, the logged-in user) would be shared
      between requests.
    * Before each request the test's own session (the `session` fixture) is committed
      and expired: the request sees what the test set up, SQLite's write lock is free,
      and attributes read after the request come fresh from the database.
    """

    def open(self, *args, **kwargs):
        test_session = self.application.extensions.get("tests.session")
        if test_session is not None:
            test_session.commit()
            test_session.expire_all()
        if self.preserve_context:  # `with client:` keeps contexts on purpose
            return super().open(*args, **kwargs)
        return contextvars.Context().run(super().open, *args, **kwargs)

    def csrf_token(self, url: str = "/login") -> str:
        """The session's CSRF token, read from the page at `url` (redirects followed)."""
        response = self.get(url, follow_redirects=True)
        match = _CSRF_INPUT.search(response.get_data(as_text=True))
        if match is None or not _VALUE.search(match.group(0)):
            raise AssertionError(f"no csrf_token field on {response.request.path}")
        return _VALUE.search(match.group(0)).group(1)

    def post_form(
        self, url: str, data: dict | None = None, *, form_url: str | None = None, **kwargs
    ):
        """POST `data` as a form, with the CSRF token from the page at `form_url` (or `url`)."""
        token = self.csrf_token(form_url or url)
        return self.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


@pytest.fixture
def app(database_url: str, tmp_path: Path):
    """The app on this test's database, with CSRF on; its engine is disposed afterwards."""
    application = create_app(app_config(database_url, tmp_path / "instance"))
    application.test_client_class = PortalClient
    yield application
    application.extensions["portal.engine"].dispose()


@pytest.fixture
def client(app) -> PortalClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    """The database session services use, inside an app context, for set-up and checks.

    The client commits it before each request (see PortalClient), so objects made here
    are visible to the next request without an explicit commit.
    """
    with app.app_context():
        db_session = get_session()
        app.extensions["tests.session"] = db_session
        try:
            yield db_session
        finally:
            app.extensions.pop("tests.session", None)


class AuthActions:
    """Log in and out through the real forms, CSRF tokens included."""

    def __init__(self, client: PortalClient):
        self._client = client

    def login(
        self,
        email: str,
        password: str = "demo",
        *,
        remember: bool = False,
        next: str | None = None,
        follow_redirects: bool = False,
    ):
        url = "/login" if next is None else f"/login?next={quote(next, safe='')}"
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        return self._client.post_form(url, data, follow_redirects=follow_redirects)

    def logout(self, *, follow_redirects: bool = False):
        return self._client.post_form("/logout", form_url="/", follow_redirects=follow_redirects)


@pytest.fixture
def auth(client: PortalClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def frozen_now():
    """`freeze(dt)` pins portal.timeutil.now_utc to an aware instant until the test ends."""

    def freeze(moment):
        timeutil.freeze(moment)
        return moment

    yield freeze
    timeutil.freeze(None)


@pytest.fixture
def world(session, frozen_now) -> World:
    """The default bookable world (tests/factories.py, `build_world`), the clock at NOW.

    A test file needing other records makes its own `world` with `build_world(...)`."""
    frozen_now(NOW)
    return build_world(session)


# --- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory):
    """The app with the demo data on a SQLite file: what the live server serves.

    Browser tests may use it to look at or adjust data (`with live_app.app_context()`),
    restoring what they change: all browser tests share it, one after another.
    """
    from portal.demo import load_demo

    folder = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{folder / 'portal.db'}"
    upgrade(url)
    application = create_app(
        # TESTING off: the browser should meet the app as people do. The windows list
        # refreshes every 3 s so a test sees a taken window vanish quickly.
        app_config(url, folder / "instance", TESTING=False, WINDOWS_REFRESH_SECONDS=3)
    )
    with application.app_context():
        db_session = get_session()
        load_demo(db_session)
        db_session.commit()
    timeutil.freeze(None)
    yield application
    application.extensions["portal.engine"].dispose()


def _buffered(app):
    """Each response read whole and closed before werkzeug's dev server writes it.

    When a browser drops a connection while that server drains the request, it skips
    the response's close(), leaving a static file open: a ResourceWarning that -W error
    turns into a failure of whatever test runs next. Production (gunicorn) is unaffected.
    """

    def wsgi(environ, start_response):
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            if hasattr(iterable, "close"):
                iterable.close()

    return wsgi


@pytest.fixture(scope="session")
def live_server(live_app, live_expander):
    """`live_app` served on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, _buffered(live_app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    with urllib.request.urlopen(f"{url}/healthz", timeout=10) as answer:
        report_clock("live server", json.load(answer)["now"])
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    # Overriding pytest-playwright's base_url also avoids its pytest 9.2 deprecation.
    return live_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser(browser, tmp_path_factory: pytest.TempPathFactory):
    """pytest-playwright's browser, with every HTML page it loads kept; when the browser
    tests are done (on the one worker they share), the Nu HTML Checker runs over them
    all and any error fails the run (see tests/browser/html_check.py)."""
    from tests.browser.html_check import HtmlCollector

    collector = HtmlCollector()
    collector.attach(browser)
    yield browser
    collector.check(tmp_path_factory.mktemp("html-pages"))


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """artifacts/screenshots/ at the repository root (ignored by git)."""
    path = ROOT / "artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SCRATCH, ignore_errors=True)


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives; tests may
    stop and start it on the same port."""
    from tests.smtp_sink import SmtpSink

    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


# --- events: services record them, the scheduler process expands them (issue #11) -----------


def expand_all(session) -> int:
    """Expand every pending event in `session`, as the scheduler's "expand-events" job
    would (round after round: a round takes one event per appointment), without
    committing; returns how many were expanded. A test calls it where it looks for the
    notices, e-mails or webhooks an action made. An expander's error fails the test."""
    from portal.notifications.events import expand_due
    from portal.notifications.models import OutboxMessage

    total = 0
    while True:
        report = expand_due(session, timeutil.now_utc(), limit=100)
        total += report.expanded
        if report.retrying or report.failed:
            errors = session.scalars(
                sa.select(OutboxMessage.last_error).where(
                    OutboxMessage.channel == "event", OutboxMessage.last_error != ""
                )
            ).all()
            raise AssertionError(f"an event could not be expanded: {errors}")
        if not report.claimed:
            return total


@pytest.fixture
def expand_events(session):
    """`expand_events()` expands what is pending in the test's session (see expand_all)."""
    return lambda: expand_all(session)


class LiveExpander:
    """The live server's stand-in for `portal scheduler`, for events only: each event is
    expanded within a fraction of a second (the other jobs, reminders and expiries, stay
    off so the demo world holds still).

    Its thread runs only while a browser test runs (see `_expand_while_browsing`): a
    thread reading a database while another test on the same worker forks (the booking
    races fork 50 processes) can leave a lock held in the children, which then hang in
    connect for ever; between browser tests there is no thread to fork beside.
    """

    def __init__(self, app):
        from portal.notifications.events import events_pending

        self._app = app
        self._events_pending = events_pending
        self._reader = sa.create_engine(app.config["DATABASE_URL"], poolclass=NullPool)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def drain(self) -> None:
        with self._app.app_context():
            db_session = get_session()
            try:
                expand_all(db_session)
                db_session.commit()
            except Exception:
                logging.getLogger(__name__).exception("live expander")
                db_session.rollback()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            with self._reader.connect() as connection:  # a plain read: no SQLite write lock
                due = self._events_pending(connection, timeutil.now_utc())
            if due:
                self.drain()

    def start(self) -> None:
        self.drain()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="live-expander", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=10)
            self._thread = None

    def dispose(self) -> None:
        self.stop()
        self._reader.dispose()


@pytest.fixture(scope="session")
def live_expander(live_app):
    """The LiveExpander of the live server; what the demo recorded is expanded at once."""
    expander = LiveExpander(live_app)
    expander.drain()
    yield expander
    expander.dispose()


@pytest.fixture(autouse=True)
def _expand_while_browsing(request: pytest.FixtureRequest):
    """Browser tests (and any test on the live server) get events expanded as they go."""
    if "live_server" not in request.fixturenames:
        yield
        return
    expander = request.getfixturevalue("live_expander")
    expander.start()
    try:
        yield
    finally:
        expander.stop()
