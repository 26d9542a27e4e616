"""Engine, the per-request session, the declarative Base and an aware-UTC column type.

Services take a session and flush; a request commits once (the route calls
`commit()`), and anything left uncommitted is rolled back at teardown. On SQLite every
transaction starts with BEGIN IMMEDIATE: SQLite allows one writer at a time, and taking
the write lock up front makes a check-then-insert inside one transaction race-free
(a deferred transaction that reads first can fail with SQLITE_BUSY instead of waiting).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app, g
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY as PG_ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(so.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


class UTCDateTime(sa.TypeDecorator):
    """A datetime column that accepts only aware datetimes and gives back aware UTC.

    PostgreSQL stores timestamptz; SQLite stores naive UTC text in one fixed format, so
    string comparison (used by the overlap trigger) orders instants correctly.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect, coltype):
        """On SQLite, read the stored text as UTC in one C call.

        Parsing and then attaching the zone costs ten times as much per value (replace()
        with a keyword is slow), and the availability loader reads tens of thousands of
        these per query. Anything but our plain stored text takes the general path.
        """
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite":
            return general
        parse = datetime.fromisoformat

        def process(value):
            if value is None:
                return None
            try:
                return parse(value + "+00:00")
            except (TypeError, ValueError):
                return general(value)

        return process


def make_engine(url: str, **kwargs) -> sa.Engine:
    """Create an engine; SQLite gets foreign keys, WAL, a busy timeout and BEGIN IMMEDIATE."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):
            # Let SQLAlchemy's begin event emit BEGIN itself (see below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            if ":memory:" not in url and url != "sqlite://":
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = sa.create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


# A connection back in use within this many seconds is not pinged first.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: sa.Engine) -> None:
    """Ping a pooled connection at checkout only when it has sat idle for a while.

    `pool_pre_ping` pings on every checkout: one more round trip per request (per booking
    in the booking bench), which is most of its cost when the pool is busy. A server
    restart takes longer than the idle limit, so a connection opened before it has been
    idle long enough to be pinged after it, and a dead one is replaced (DisconnectionError
    makes the pool reconnect). The trade-off: a connection cut within the last second
    without a restart (a killed backend) is found by the request's first statement
    instead; that request fails, and SQLAlchemy then discards the whole pool.
    """

    @sa.event.listens_for(engine, "checkin")
    def _stamp(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy):
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # new, or back within the limit
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as err:
            raise sa.exc.DisconnectionError() from err


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["portal.engine"] = engine
    app.extensions["portal.sessionmaker"] = so.sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_request_session)


def get_engine() -> sa.Engine:
    return current_app.extensions["portal.engine"]


def get_session() -> so.Session:
    """The session of this request (or app context), created on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["portal.sessionmaker"]()
    return g.db_session


def commit() -> None:
    """Commit the request's unit of work: routes call this once, after the service."""
    get_session().commit()


def rollback_request_session() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def _close_request_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


# --- many rows at once ------------------------------------------------------------------------
#
# A job that writes a thousand rows (the SLA pass) sends them as arrays on PostgreSQL: one
# statement, `unnest` turning the arrays back into rows, instead of a thousand statements
# (a tenth of the time). Elsewhere a plain executemany.


def insert_many(
    session: so.Session, table: sa.Table, rows: list[dict], *, skip_conflicts_on=()
) -> None:
    """Insert `rows` (dicts with the same keys) into `table`; with `skip_conflicts_on`
    (the columns of a unique key), rows that would break it are left out."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        statement = sqlite_insert(table)
        if skip_conflicts_on:
            statement = statement.on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
        session.execute(statement, rows)
        return
    names = list(rows[0])
    select = sa.select(*(_unnest(table.c[name], [r[name] for r in rows]) for name in names))
    statement = pg_insert(table).from_select(names, select)
    if skip_conflicts_on:
        statement = statement.on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
    session.execute(statement)


def update_many(session: so.Session, table: sa.Table, rows: list[dict], *, key: str = "id") -> None:
    """Update rows of `table` found by `key`, each with the values of its dict."""
    if not rows:
        return
    names = [name for name in rows[0] if name != key]
    if session.get_bind().dialect.name != "postgresql":
        statement = (
            sa.update(table)
            .where(table.c[key] == sa.bindparam(f"u_{key}"))
            .values({name: sa.bindparam(f"u_{name}") for name in names})
        )
        session.execute(statement, [{f"u_{k}": v for k, v in row.items()} for row in rows])
        return
    values = sa.select(
        *(_unnest(table.c[name], [r[name] for r in rows]) for name in [key, *names])
    ).subquery("v")
    session.execute(
        sa.update(table)
        .where(table.c[key] == values.c[key])
        .values({name: values.c[name] for name in names})
    )


_PG = postgresql.dialect()


def _unnest(column: sa.Column, values: list):
    item = column.type
    if isinstance(item, UTCDateTime):
        item = sa.DateTime(timezone=True)
        values = [None if v is None else UTCDateTime().process_bind_param(v, _PG) for v in values]
    array = sa.bindparam(None, values, type_=PG_ARRAY(item))
    return sa.func.unnest(array).label(column.name)


def among(session: so.Session, column, values) -> sa.ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `= ANY(array)`: one parameter however many values
    (thousands of bound parameters cost more to render and send than the rows cost to
    find)."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql" and values:
        item = sa.Integer() if isinstance(values[0], int) else sa.String()
        return column == sa.any_(sa.literal(values, postgresql.ARRAY(item)))
    return column.in_(values)
