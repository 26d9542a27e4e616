"""The rule engine and the built-in aging rules, driven through portal.feed.changes."""

from __future__ import annotations

import pytest

from portal.cases.types import AGING_ORIGIN, AUTO_CLOSURE
from tests.factories import NOW
from tests.rules_world import build_aging_world, cases_of, feed, firings, tasks_of


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
