"""Request counters in fixed windows, kept in the database: the one rate limiter that the
API (per user, and refused requests per client address) and the calendar feeds use.

A counter is a row per bucket ("user:42", "addr:203.0.113.9", "feed:42", ...) and
window start, incremented with an atomic upsert, so the limits hold however many worker
processes serve the requests. Each caller names its buckets and decides what is over
its limit; `RateLimited` carries the seconds until the window ends (Retry-After).

Counting a bucket drops that bucket's past windows as it goes, but a client address
that never comes back leaves its last row behind: `purge_stale` (run by the scheduler's
clean-up job) deletes every window that ended long ago.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite

from portal.db import Base, UTCDateTime
from portal.errors import PortalError

# No window may be longer than this: rows older than it are of no use to anyone.
LONGEST_WINDOW = timedelta(hours=1)


class RateCounter(Base):
    """How many requests one bucket made in one fixed window. (The table is named from
    when only the API counted requests.)"""

    __tablename__ = "api_rate_counters"

    bucket: so.Mapped[str] = so.mapped_column(sa.String(80), primary_key=True)
    window_start: so.Mapped[datetime] = so.mapped_column(UTCDateTime, primary_key=True)
    count: so.Mapped[int] = so.mapped_column(default=0)


class RateLimited(PortalError):
    """Too many requests: answered 429 with Retry-After `retry_after` seconds."""

    status = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def window_start(now: datetime, window_seconds: int) -> datetime:
    if window_seconds > LONGEST_WINDOW.total_seconds():
        raise ValueError(f"a rate window is at most {LONGEST_WINDOW}, not {window_seconds} s")
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, UTC)


def _seconds_left(start: datetime, now: datetime, window_seconds: int) -> int:
    left = (start + timedelta(seconds=window_seconds) - now).total_seconds()
    return max(1, math.ceil(left))


def current_count(
    session: so.Session, bucket: str, now: datetime, *, window_seconds: int
) -> tuple[int, int]:
    """The requests already counted in the bucket's current window, and seconds left."""
    start = window_start(now, window_seconds)
    count = session.scalar(
        sa.select(RateCounter.count).where(
            RateCounter.bucket == bucket, RateCounter.window_start == start
        )
    )
    return count or 0, _seconds_left(start, now, window_seconds)


def count_request(
    session: so.Session, bucket: str, now: datetime, *, window_seconds: int
) -> tuple[int, int]:
    """Add one request to the bucket's current window: (requests in it, seconds left)."""
    start = window_start(now, window_seconds)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = RateCounter.__table__
    statement = (
        insert(table)
        .values(bucket=bucket, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=[table.c.bucket, table.c.window_start],
            set_={"count": table.c.count + 1},
        )
        .returning(table.c.count)
    )
    count = session.scalar(statement)
    # Past windows are of no further use: drop them as we go.
    session.execute(
        sa.delete(RateCounter).where(RateCounter.bucket == bucket, RateCounter.window_start < start)
    )
    return count, _seconds_left(start, now, window_seconds)


def purge_stale(session: so.Session, now: datetime) -> int:
    """Delete the counters of windows that began LONGEST_WINDOW or more ago (every one
    has ended); how many. The buckets of clients that never came back go this way."""
    result = session.execute(
        sa.delete(RateCounter).where(RateCounter.window_start <= now - LONGEST_WINDOW)
    )
    return result.rowcount or 0
