"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import portal.models
from portal.booking.models import OVERLAP_CONSTRAINT
from portal.db import make_engine
from portal.migrate import downgrade, upgrade
from tests.factories import create_agent, create_appointment, create_customer


def _schema_differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, portal.models.Base.metadata)
    finally:
        engine.dispose()
    # Alembic neither reflects nor compares PostgreSQL exclusion constraints well: the
    # overlap guard is written by hand in the migration (with btree_gist, which
    # autogenerate does not render), so if it shows up here it is noise, not drift.
    # test_the_overlap_guard_exists checks it directly.
    return [d for d in differences if OVERLAP_CONSTRAINT not in repr(d)]


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrading_an_empty_database_matches_the_models(fresh_database_url):
    upgrade(fresh_database_url)

    assert _schema_differences(fresh_database_url) == []


def test_downgrading_to_base_and_upgrading_again_works(fresh_database_url):
    upgrade(fresh_database_url)

    downgrade(fresh_database_url, "base")
    assert _tables(fresh_database_url) <= {"alembic_version"}

    upgrade(fresh_database_url)
    assert _schema_differences(fresh_database_url) == []


def test_the_overlap_guard_exists(fresh_database_url):
    upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                found = connection.scalars(
                    sa.text(
                        "SELECT conname FROM pg_constraint "
                        "WHERE conname = :name AND contype = 'x'"  # x: exclusion
                    ),
                    {"name": OVERLAP_CONSTRAINT},
                ).all()
                assert found == [OVERLAP_CONSTRAINT]
            else:
                found = connection.scalars(
                    sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                ).all()
                assert {f"{OVERLAP_CONSTRAINT}_insert", f"{OVERLAP_CONSTRAINT}_update"} <= set(
                    found
                )
    finally:
        engine.dispose()


START = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)


def test_overlapping_holds_for_one_agent_are_refused(session):
    agent = create_agent(session)
    _, _, contact = create_customer(session)
    create_appointment(session, contact=contact, start=START, agents=[agent])

    with pytest.raises(sa.exc.IntegrityError, match=OVERLAP_CONSTRAINT):
        create_appointment(
            session, contact=contact, start=START + timedelta(minutes=30), agents=[agent]
        )
    session.rollback()


def test_back_to_back_holds_for_one_agent_are_allowed(session):
    agent = create_agent(session)
    _, _, contact = create_customer(session)
    first = create_appointment(session, contact=contact, start=START, agents=[agent])

    second = create_appointment(session, contact=contact, start=first.planned_end, agents=[agent])

    assert second.holds[0].starts_at == first.holds[0].ends_at
