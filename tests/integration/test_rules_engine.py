"""The rule engine and the built-in aging rules, driven through portal.feed.changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.cases.models import Case
from portal.cases.types import AGING_ORIGIN, AUTO_CLOSURE
from portal.feed.changes import apply_changes, contact_changes, set_oldest_aging_days
from portal.feed.watchers import Cause
from portal.notifications.models import OutboxMessage
from portal.rules.builtin import AGING_OPEN_RULE, ensure_builtin
from portal.rules.choosers import NOBODY
from portal.rules.engine import enable_rule, simulate
from portal.rules.models import Rule, RuleFiring, RuleState
from portal.workorders.models import TimelineEntry
from tests.factories import NOW, create_account, create_user
from tests.rules_world import FEED, build_aging_world, cases_of, feed, firings, tasks_of


@pytest.fixture
def aging(session, frozen_now):
    frozen_now(NOW)
    return build_aging_world(session)


def test_the_sequence_0_5_7_3_3_9_opens_closes_and_opens_again(session, aging):
    account = aging.account
    feed(session, account, 0)
    assert cases_of(session, account) == []

    feed(session, account, 5)
    [case] = cases_of(session, account)
    assert (case.status, case.origin, case.is_closed) == ("Open", AGING_ORIGIN, False)
    assert case.owner_queue.slug == "aging"
    assert case.contact_id == aging.recent.id
    [task] = tasks_of(session, case)
    assert task.status == "assigned" and task.user_id == aging.rep.id

    feed(session, account, 7)
    assert len(cases_of(session, account)) == 1
    assert len(tasks_of(session, case)) == 1
    assert len(firings(session)) == 1

    feed(session, account, 3)
    session.refresh(case)
    assert (case.status, case.is_closed) == (AUTO_CLOSURE, True)
    [task] = tasks_of(session, case)
    assert task.status == "done" and task.completed_at is not None

    feed(session, account, 3)
    assert len(firings(session)) == 2

    feed(session, account, 9)
    cases = cases_of(session, account)
    assert len(cases) == 2
    assert cases[1].is_closed is False and cases[1].status == "Open"
    assert len(firings(session)) == 3


def test_the_same_value_twice_fires_nothing_more(session, aging):
    feed(session, aging.account, 6)
    feed(session, aging.account, 6)
    feed(session, aging.account, 8)
    assert len(firings(session)) == 1
    assert len(cases_of(session, aging.account)) == 1


def test_a_firing_is_logged_with_its_inputs_cause_and_effects(session, aging):
    feed(session, aging.account, 2)
    feed(session, aging.account, 6)
    [firing] = firings(session)
    assert firing.transition == "false → true"
    assert firing.inputs["oldest_aging_days"] == [2, 6]
    assert firing.inputs["has_aging_confirmations"] == [False, True]
    assert firing.cause == "Feed import IMP-000012"
    assert [e.action for e in firing.effects] == ["open_case", "create_task", "send_email"]
    assert [o["kind"] for o in firing.outcome] == ["open_case", "create_task", "send_email"]


def test_the_opened_case_says_why_on_its_timeline(session, aging):
    feed(session, aging.account, 3)
    feed(session, aging.account, 5)
    [case] = cases_of(session, aging.account)
    notes = session.scalars(
        sa.select(TimelineEntry.note).where(
            TimelineEntry.subject_type == "Case",
            TimelineEntry.subject_id == case.id,
            TimelineEntry.action == "rule",
        )
    ).all()
    assert notes == [
        "Opened by the rule 'Aging confirmations: open': oldest aging days 3 → 5 "
        "(Feed import IMP-000012)"
    ]


def test_a_tie_in_last_log_in_goes_to_the_lowest_contact_id(session, aging):
    aging.recent.last_external_login_at = aging.older.last_external_login_at
    session.flush()
    feed(session, aging.account, 6)
    [case] = cases_of(session, aging.account)
    assert case.contact_id == min(aging.recent.id, aging.older.id)


def test_nobody_logged_in_opens_the_case_without_a_contact_flagged(session, aging):
    aging.recent.last_external_login_at = None
    aging.older.last_external_login_at = None
    session.flush()
    feed(session, aging.account, 6)
    [case] = cases_of(session, aging.account)
    assert case.contact_id is None
    flagged = session.scalar(
        sa.select(TimelineEntry).where(
            TimelineEntry.subject_id == case.id, TimelineEntry.action == "flagged"
        )
    )
    assert flagged.note == NOBODY and flagged.visibility == "internal"
    [firing] = firings(session)
    assert firing.outcome[0]["warning"] == NOBODY
    assert firing.outcome[2]["text"] == "skipped: the case has no contact to e-mail"


def test_the_task_is_due_three_days_later_on_the_wall_clock_across_the_clock_change(
    session, aging, frozen_now, app
):
    app.config["ORG_TIME_ZONE"] = "Europe/London"
    # Friday 23 October 2026, 10:00 in London (BST); the clocks go back on Sunday.
    frozen_now(datetime(2026, 10, 23, 9, 0, tzinfo=UTC))
    feed(session, aging.account, 6)
    [case] = cases_of(session, aging.account)
    [task] = tasks_of(session, case)
    local = task.due_at.astimezone(ZoneInfo("Europe/London"))
    assert (local.date(), local.hour, local.minute) == (date(2026, 10, 26), 10, 0)
    assert task.due_at - datetime(2026, 10, 23, 9, 0, tzinfo=UTC) == timedelta(days=3, hours=1)


def test_the_contact_is_e_mailed_once_with_the_case_reply_address(session, aging):
    feed(session, aging.account, 6)
    feed(session, aging.account, 9)
    feed(session, aging.account, 6)
    [case] = cases_of(session, aging.account)
    [message] = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == aging.recent.email)
    ).all()
    assert message.reply_to == f"case+{case.reply_token}@portal.test"
    assert "Acme Audit" in message.subject and "6 days" in message.subject
    assert case.number in message.body_text


def test_a_disabled_rule_fires_nothing(session, aging):
    rule = session.scalar(sa.select(Rule).where(Rule.slug == AGING_OPEN_RULE))
    rule.enabled = False
    session.flush()
    feed(session, aging.account, 6)
    assert firings(session) == []
    assert cases_of(session, aging.account) == []


def test_a_hand_edit_fires_the_same_rule(session, aging):
    manager = create_user(session, role="manager", full_name="Ann Manager")
    cause = Cause("hand_edit", "Edited by Ann Manager", actor_id=manager.id)
    set_oldest_aging_days(session, aging.account, 7, cause)
    [case] = cases_of(session, aging.account)
    [firing] = firings(session)
    assert firing.cause == "Edited by Ann Manager" and firing.actor_id == manager.id
    assert case.origin == AGING_ORIGIN


def _counts(session) -> tuple[int, ...]:
    return tuple(
        session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (RuleState, RuleFiring, Case, OutboxMessage, TimelineEntry)
    )


def test_simulate_writes_nothing_and_enabling_does_what_it_showed(session, aging):
    rule = session.scalar(sa.select(Rule).where(Rule.slug == AGING_OPEN_RULE))
    others = [create_account(session, name=f"Other {n}") for n in range(3)]
    feed(session, others[0], 6)  # fires while enabled: remembered as true
    rule.enabled = False
    session.flush()
    feed(session, aging.account, 9)
    feed(session, others[1], 12)
    feed(session, others[2], 2)
    feed(session, others[0], 7)
    before = _counts(session)

    simulation = simulate(session, rule)

    assert _counts(session) == before
    assert simulation.firing == 2
    assert sorted(r.record_id for r in simulation.records) == sorted(
        [aging.account.id, others[1].id]
    )
    manager = create_user(session, role="manager")
    applied = enable_rule(session, rule, manager)
    assert applied.firing == 2
    fired = [f.record_id for f in firings(session) if f.cause.startswith("Rule enabled")]
    assert sorted(fired) == sorted(r.record_id for r in simulation.records)
    assert simulate(session, rule).firing == 0


def test_the_built_in_rules_are_made_once_enabled(session, aging):
    ensure_builtin(session)
    ensure_builtin(session)
    rules = session.scalars(sa.select(Rule).order_by(Rule.position)).all()
    assert [(r.name, r.enabled, r.built_in) for r in rules] == [
        ("Aging confirmations: open", True, True),
        ("Aging confirmations: close", True, True),
    ]


def test_a_contact_log_in_change_fires_no_account_rule(session, aging):
    changes = contact_changes(session, {aging.older.id: {"last_external_login_at": NOW}})
    apply_changes(session, changes, FEED)
    assert firings(session) == []
    assert session.scalar(sa.select(sa.func.count()).select_from(RuleState)) == 0
