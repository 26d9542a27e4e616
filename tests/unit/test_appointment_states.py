"""The appointment's state table and the predicates that say why an action is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from portal.booking import states

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
EVERY_STATE = tuple(states.TRANSITIONS)


def appointment(status="confirmed", *, starts_in=timedelta(days=3), deadline=None, moves=0):
    return SimpleNamespace(
        status=status,
        window_start=NOW + starts_in,
        confirm_deadline=deadline,
        self_reschedules=moves,
    )


POLICY = SimpleNamespace(reschedule_cutoff_hours=24, max_self_reschedules=1)


def test_every_state_the_table_names_has_words_for_the_customer():
    named = set(states.TRANSITIONS).union(*states.TRANSITIONS.values())
    assert named == set(states.STATUS_WORDS)


def test_a_closed_appointment_can_move_nowhere():
    assert all(not states.TRANSITIONS[status] for status in states.CLOSED_STATES)


def test_a_completed_appointment_can_be_signed_off_or_sent_back_for_a_new_time():
    assert states.TRANSITIONS["completed"] == {"signed_off", "needs_reschedule"}


def test_work_in_progress_can_only_complete():
    assert states.can_move("in_progress", "completed")
    assert not states.can_move("in_progress", "cancelled")


def test_a_move_the_table_forbids_is_refused_in_words():
    assert states.move_block("cancelled", "confirmed") == (
        "This appointment is cancelled, so it cannot become confirmed."
    )


@pytest.mark.parametrize("old", EVERY_STATE)
def test_move_block_agrees_with_the_table(old):
    for new in EVERY_STATE:
        assert (states.move_block(old, new) is None) == (new in states.TRANSITIONS[old])


def test_a_parked_appointment_can_be_booked_again():
    assert all(states.can_move(status, "requested") for status in states.PARKED_STATES)


def test_the_customer_may_change_a_pending_appointment_before_the_cutoff():
    assert states.self_service_block(appointment(), POLICY, NOW, zone="Europe/London") is None


def test_the_customer_may_not_change_it_inside_the_cutoff():
    block = states.self_service_block(
        appointment(starts_in=timedelta(hours=2)), POLICY, NOW, zone="Europe/London"
    )
    assert block.startswith("Changes are possible until 24 hours before")


def test_the_customer_may_not_change_work_under_way():
    block = states.self_service_block(appointment("in_progress"), POLICY, NOW, zone="Europe/London")
    assert block == "This appointment is in progress and can no longer be changed."


def test_the_customer_may_not_change_it_after_the_schedulers_deadline():
    late = appointment(deadline=NOW - timedelta(minutes=1))
    block = states.self_service_block(late, POLICY, NOW, zone="Europe/London")
    assert block.startswith("The deadline our scheduler set for changes has passed")


def test_the_customer_may_move_it_only_as_often_as_the_policy_allows():
    block = states.reschedule_block(appointment(moves=1), POLICY, NOW, zone="Europe/London")
    assert block == "You have already moved this appointment once, the most we allow online."


@pytest.mark.parametrize("status", sorted(states.FIXED_STATES))
def test_staff_cannot_move_work_that_has_begun_or_ended(status):
    assert states.staff_block(status, "moved").endswith("it cannot be moved.")


@pytest.mark.parametrize("status", states.PENDING_STATES + states.PARKED_STATES)
def test_staff_can_move_what_has_not_begun(status):
    assert states.staff_block(status, "moved") is None


def test_a_started_task_cannot_be_reassigned():
    assert states.reassign_block("in_progress", "confirmed") == (
        "Only a task that has not started can be reassigned."
    )


def test_a_task_of_an_appointment_under_way_cannot_be_reassigned():
    assert states.reassign_block("accepted", "in_progress") == (
        "The appointment is in progress; its tasks cannot move."
    )


@pytest.mark.parametrize("task", ["open", "assigned", "accepted", "in_progress", "done"])
@pytest.mark.parametrize("status", EVERY_STATE)
def test_the_board_draws_movable_exactly_the_tasks_the_action_accepts(task, status):
    assert states.can_reassign(task, status) == (states.reassign_block(task, status) is None)


def test_only_a_parked_appointment_can_be_assigned_from_the_queue():
    block = states.assign_block("confirmed", NOW + timedelta(days=1), NOW)
    assert "no longer waiting in the queue" in block


def test_nobody_can_be_assigned_once_the_window_has_begun():
    block = states.assign_block("needs_reschedule", NOW - timedelta(minutes=5), NOW)
    assert block == "Its window has already begun, so nobody can be sent then any more."


def test_a_parked_appointment_with_a_window_ahead_can_be_assigned():
    assert states.assign_block("needs_reschedule", NOW + timedelta(hours=1), NOW) is None


def test_the_states_module_imports_only_the_standard_library():
    import ast
    import sys
    from pathlib import Path

    tree = ast.parse(Path(states.__file__).read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
