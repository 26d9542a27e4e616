"""Work-order and task statuses change in one service: checked, written, watched."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.workorders import watchers
from portal.workorders.models import TimelineEntry
from portal.workorders.status import StatusRefused, set_task_status, set_work_order_status
from tests.factories import create_task, create_user, create_work_order


@pytest.fixture
def heard(monkeypatch):
    """The changes a booking watcher hears, with the app's own watchers set aside."""
    changes = []
    monkeypatch.setattr(watchers, "_watchers", {})
    watchers.watch("booking", "test", lambda session, change: changes.append(change))
    return changes


def entries(session, subject):
    return session.scalars(
        sa.select(TimelineEntry).where(
            TimelineEntry.subject_type == type(subject).__name__,
            TimelineEntry.subject_id == subject.id,
        )
    ).all()


def test_a_move_the_table_allows_changes_the_status(session, heard):
    work_order = create_work_order(session, status="scheduled")

    set_work_order_status(session, work_order, "in_progress")

    assert work_order.status == "in_progress"


def test_a_move_the_table_forbids_is_refused_and_changes_nothing(session, heard):
    work_order = create_work_order(session, status="new")

    with pytest.raises(StatusRefused, match="This work order is new, so it cannot become closed"):
        set_work_order_status(session, work_order, "closed")

    assert work_order.status == "new"
    assert entries(session, work_order) == []
    assert heard == []


def test_parking_sends_a_scheduled_work_order_back_to_new(session, heard):
    work_order = create_work_order(session, status="scheduled")

    set_work_order_status(session, work_order, "new")

    assert work_order.status == "new"


def test_work_not_done_sends_a_completed_work_order_back_to_in_progress(session, heard):
    work_order = create_work_order(session, status="completed")

    set_work_order_status(session, work_order, "in_progress")

    assert work_order.status == "in_progress"


def test_a_change_is_written_on_the_timeline_with_who_and_why(session, heard):
    scheduler = create_user(session, role="scheduler")
    task = create_task(session)

    set_task_status(session, task, "done", by=scheduler, why="a new time was found")
    session.flush()

    (entry,) = entries(session, task)
    assert (entry.action, entry.old_value, entry.new_value) == ("status", "open", "done")
    assert (entry.actor_id, entry.note) == (scheduler.id, "a new time was found")
    assert entry.work_order_id == task.work_order_id


def test_the_owners_watchers_hear_every_change(session, heard):
    task = create_task(session)

    set_task_status(session, task, "cancelled")

    (change,) = heard
    assert (change.subject, change.old, change.new) == (task, "open", "cancelled")
    assert change.work_order_id == task.work_order_id


def test_a_finished_task_cannot_start_again(session, heard):
    task = create_task(session, status="done")

    with pytest.raises(StatusRefused, match="This task is done, so it cannot become in progress"):
        set_task_status(session, task, "in_progress")


def test_moving_a_work_order_to_its_own_status_does_nothing(session, heard):
    work_order = create_work_order(session, status="scheduled")

    set_work_order_status(session, work_order, "scheduled")

    assert entries(session, work_order) == []
    assert heard == []
