"""The aware-UTC column type gives back the instant it was given, always as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.db import UTCDateTime

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    "written",
    [
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 7, 1, 9, 15, tzinfo=NEW_YORK),
    ],
)
def test_an_instant_reads_back_as_the_same_instant_in_utc(session, written):
    read = session.scalar(sa.select(sa.bindparam("at", written, type_=UTCDateTime())))
    assert read == written
    assert read.tzinfo is UTC


def test_null_reads_back_as_none(session):
    assert session.scalar(sa.select(sa.bindparam("at", None, type_=UTCDateTime()))) is None


@pytest.mark.parametrize(
    ("stored", "instant"),
    [
        ("2026-03-29 01:30:00.123456", datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC)),
        ("2026-03-29 01:30:00", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),  # CURRENT_TIMESTAMP
        ("2026-03-29 01:30:00.250", datetime(2026, 3, 29, 1, 30, 0, 250000, tzinfo=UTC)),  # %f
        ("2026-03-29T01:30:00+01:00", datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        ("2026-03-29 01:30", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    ],
)
def test_sqlite_text_in_every_shape_sqlite_writes_reads_as_utc(stored, instant):
    """Our own stored text takes a fast path; the shapes SQLite's functions write, and
    anything else, still read as before."""
    engine = sa.create_engine("sqlite://")
    try:
        with engine.connect() as connection:
            column = sa.literal_column(f"'{stored}'", UTCDateTime())
            read = connection.scalar(sa.select(column))
    finally:
        engine.dispose()
    assert read == instant
    assert read.tzinfo is UTC
