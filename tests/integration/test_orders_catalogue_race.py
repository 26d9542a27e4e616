"""Two managers at the same moment, on PostgreSQL (#16, point 3): the partial unique
indexes and the conditional status updates let one draft be started and one publish
win; the other manager gets a Conflict that says so, never a 500 or two published
versions."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from portal.app import create_app
from portal.db import get_session
from portal.errors import Conflict
from portal.orders import tables
from portal.orders.models import DecisionTable
from portal.queues.services import create_queue
from tests.conftest import app_config
from tests.scheduler_process import wait_for


@pytest.fixture
def pg_app(pg_url, tmp_path):
    app = create_app(app_config(pg_url, tmp_path / "instance"))
    yield app
    app.extensions["portal.engine"].dispose()


def waiting_on_a_lock(app) -> bool:
    with app.extensions["portal.engine"].connect() as connection:
        return bool(
            connection.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        )


def in_another_request(app, action) -> tuple[threading.Thread, dict]:
    """Run `action(session)` in a thread with its own session; what it raised or returned
    lands in the dict."""
    outcome: dict = {}

    def run():
        with app.app_context():
            session = get_session()
            try:
                outcome["value"] = action(session)
                session.commit()
            except Conflict as err:
                session.rollback()
                outcome["refused"] = err

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_two_drafts_started_at_once_make_one(pg_app):
    with pg_app.app_context():
        first = get_session()
        tables.start_draft(first)  # flushed, not committed: the other cannot see it
        thread, outcome = in_another_request(pg_app, tables.start_draft)
        wait_for(lambda: waiting_on_a_lock(pg_app), timeout=30)
        first.commit()
        thread.join(timeout=30)
        assert "a moment ago" in outcome["refused"].message
        count = first.scalar(sa.select(sa.func.count()).select_from(DecisionTable))
        assert count == 1


def test_two_publishes_at_once_publish_once(pg_app):
    with pg_app.app_context():
        first = get_session()
        queue = create_queue(first, name="Orders")
        row = tables.RowData(is_default=True, queue_id=queue.id, tasks="Review")
        draft = tables.start_draft(first)
        tables.add_row(first, draft, row)
        tables.publish(first, draft)
        draft = tables.start_draft(first)
        first.commit()
        draft_id = draft.id

        tables.publish(first, draft)  # version 2: retires version 1, not yet committed

        def publish_too(session):
            return tables.publish(session, session.get(DecisionTable, draft_id))

        thread, outcome = in_another_request(pg_app, publish_too)
        wait_for(lambda: waiting_on_a_lock(pg_app), timeout=30)
        first.commit()
        thread.join(timeout=30)
        assert "a moment ago" in outcome["refused"].message
        statuses = first.execute(
            sa.select(DecisionTable.version, DecisionTable.status).order_by(DecisionTable.version)
        ).all()
        assert statuses == [(1, "retired"), (2, "published")]
