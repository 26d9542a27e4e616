"""A rule's condition and when its change fires (pure), the placeholders of its texts,
and the wall-clock due date of its tasks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.errors import Invalid
from portal.rules.actions import due_after
from portal.rules.conditions import condition, fires, needs_write
from portal.rules.texts import check_text, fill


def test_a_flag_condition_is_the_flag():
    assert condition("turns_true", "flag", {}, {"flag": True}) == "true"
    assert condition("turns_true", "flag", {}, {"flag": False}) == "false"


def test_a_threshold_condition_compares_and_none_is_false():
    params = {"op": ">", "threshold": 4}
    assert condition("turns_true", "days", params, {"days": 5}) == "true"
    assert condition("turns_true", "days", params, {"days": 4}) == "false"
    assert condition("turns_true", "days", params, {"days": None}) == "false"


def test_a_change_without_the_rule_field_says_nothing():
    assert condition("turns_true", "flag", {}, {"other": 1}) is None


@pytest.mark.parametrize(
    ("stored", "new", "expected"),
    [
        (None, "true", True),
        ("false", "true", True),
        ("true", "true", False),
        (None, "false", False),
    ],
)
def test_turns_true_fires_only_on_the_move_to_true(stored, new, expected):
    assert fires("turns_true", stored, new) is expected


@pytest.mark.parametrize(
    ("stored", "new", "expected"),
    [(None, "false", False), ("true", "false", True), ("false", "false", False)],
)
def test_turns_false_fires_only_on_the_move_from_true(stored, new, expected):
    assert fires("turns_false", stored, new) is expected


def test_changed_fires_on_a_new_value_only():
    assert fires("changed", None, "5", before=3) is True
    assert fires("changed", "5", "5") is False


def test_created_fires_once_for_a_new_record():
    assert fires("created", None, "seen", created=True) is True
    assert fires("created", "seen", "seen", created=True) is False


def test_a_missing_state_that_stays_false_writes_nothing():
    assert needs_write("turns_true", None, "false") is False
    assert needs_write("turns_true", None, "true") is True


def test_an_unknown_placeholder_is_named():
    with pytest.raises(Invalid, match=r"Unknown placeholder \{acount\}"):
        check_text("Hello {acount}", "subject")


def test_a_stray_brace_is_refused():
    with pytest.raises(Invalid, match="A brace is not closed"):
        check_text("Hello {account_name", "subject")


def test_fill_puts_the_values_in_and_keeps_literal_braces():
    assert fill("{account_name} {{ok}}", {"account_name": "Acme"}) == "Acme {ok}"


def test_due_after_keeps_the_wall_clock_across_the_autumn_change():
    # 10:00 BST on Friday 23 October 2026 -> 10:00 GMT on Monday 26 October.
    due = due_after(3, now=datetime(2026, 10, 23, 9, 0, tzinfo=UTC), zone="Europe/London")
    assert due == datetime(2026, 10, 26, 10, 0, tzinfo=UTC)
