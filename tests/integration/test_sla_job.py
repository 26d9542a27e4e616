"""The scheduler's SLA pass: warnings and violations found by time alone, their actions run
once each, and never outside the recipient's business hours unless told so.

The pass runs as the scheduler process runs it (`evaluate_milestones(app)`: its own app
context, session and commits), on a pinned clock; set-up is committed first.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import sqlalchemy as sa

from portal.app import create_app
from portal.db import get_session
from portal.notifications.models import Notification, OutboxMessage
from portal.sla import jobs
from portal.sla.jobs import evaluate_milestones
from portal.sla.models import MilestoneEvent, SlaActionRun
from portal.timeutil import freeze
from portal.webhooks import services as webhooks
from tests.conftest import app_config, expand_all
from tests.integration.sla_world import (
    build_sla_world,
    hand_off,
    london,
    make_process,
    milestone,
    open_case,
)

# (milestone kind, trigger, action, value, outside hours)
WARN_OWNER = ("resolution", "warning", "notify_owner", "", False)
VIOLATION_MANAGERS = ("resolution", "violation", "notify_managers", "", True)
VIOLATION_OWNER = ("resolution", "violation", "notify_owner", "", False)
VIOLATION_LEAD = ("resolution", "violation", "notify_lead", "", False)
VIOLATION_CONTACT = ("resolution", "violation", "email_contact", "", True)


@pytest.fixture
def world(session, frozen_now):
    frozen_now(london(1, 7))
    return build_sla_world(session)


def pass_at(app, session, moment):
    """Commit the test's work, run the pass at `moment`, and look at what it wrote."""
    session.commit()
    freeze(moment)
    report = evaluate_milestones(app)
    session.expire_all()
    return report


def notices(session, user) -> list[str]:
    return list(
        session.scalars(
            sa.select(Notification.message)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id)
        )
    )


def mails_to(session, address) -> list[OutboxMessage]:
    return list(
        session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.channel == "email", OutboxMessage.recipient == address)
            .order_by(OutboxMessage.id)
        )
    )


def test_a_milestone_warns_then_is_violated_and_each_action_runs_once(app, session, world):
    make_process(
        session, "Support", calendar=world.support, actions=(WARN_OWNER, VIOLATION_MANAGERS)
    )
    case = open_case(session, world, london(1, 9))  # resolution 480: warn 15:00, due 17:00

    pass_at(app, session, london(1, 14, 59))
    assert milestone(session, case).state == "pending"
    assert notices(session, world.agent) == []

    pass_at(app, session, london(1, 15))
    assert milestone(session, case).state == "warning"
    assert notices(session, world.agent) == [
        f"Case {case.number}: Resolution is close to its target."
    ]
    assert len(mails_to(session, world.agent.email)) == 1

    pass_at(app, session, london(1, 16))
    pass_at(app, session, london(1, 17))
    assert milestone(session, case).state == "violated"
    assert notices(session, world.manager) == [f"Case {case.number}: Resolution missed its target."]

    pass_at(app, session, london(1, 18))
    pass_at(app, session, london(2, 10))
    assert len(notices(session, world.agent)) == 1
    assert len(notices(session, world.manager)) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(SlaActionRun)) == 2


def test_a_violation_at_closing_time_reaches_the_owner_next_morning_not_at_night(
    app, session, world
):
    # Zammad sends escalation mail at midnight (zammad #4432).
    make_process(session, "Support", calendar=world.support, actions=(VIOLATION_OWNER,))
    case = open_case(session, world, london(5, 9), priority="urgent")  # due Friday 11:00

    pass_at(app, session, london(5, 11))
    assert notices(session, world.agent) == [f"Case {case.number}: Resolution missed its target."]

    other = open_case(session, world, london(5, 15), priority="urgent")  # due Friday 17:00
    pass_at(app, session, london(5, 17))
    pass_at(app, session, london(6, 3))  # Saturday night
    assert milestone(session, other).state == "violated"
    assert len(notices(session, world.agent)) == 1
    run = session.scalar(sa.select(SlaActionRun).where(SlaActionRun.sent_at.is_(None)))
    assert run.due_at == london(8, 9)

    pass_at(app, session, london(8, 9))
    assert len(notices(session, world.agent)) == 2


def test_an_action_configured_for_any_hour_runs_at_once(app, session, world):
    make_process(session, "Support", calendar=world.support, actions=(VIOLATION_CONTACT,))
    case = open_case(session, world, london(5, 15), priority="urgent")  # due Friday 17:00

    pass_at(app, session, london(5, 17))

    mails = mails_to(session, "ada@example.com")
    assert [m.subject for m in mails] == [f"Your case {case.number}: Invoice is wrong"]


def test_the_queue_lead_is_told_in_the_queues_hours(app, session, world):
    make_process(
        session,
        "Finance OLA",
        applies_to="work_order",
        queue_id=world.finance.id,
        resolution=(60, 60, 60, 60),
        first_response=None,
        actions=(VIOLATION_LEAD,),
    )
    case = open_case(session, world, london(1, 11))
    # Handed off at 12:00: 30 minutes to lunch at 12:30, 30 more after it, due 14:00.
    work_order = hand_off(session, world, case, london(1, 12))
    assert milestone(session, work_order=work_order).due_at == london(1, 14)

    pass_at(app, session, london(1, 14))

    assert notices(session, world.lead) == [
        f"Work order {work_order.id} for case {case.number}: Resolution missed its target."
    ]


def test_a_warning_makes_one_webhook(app, session, world):
    webhooks.create_endpoint(
        session, url="http://127.0.0.1:9/in", events=["milestone.warning"], allow_private=True
    )
    make_process(session, "Support", calendar=world.support)
    case = open_case(session, world, london(1, 9))

    pass_at(app, session, london(1, 9, 45))  # first response: 45 of 60 minutes
    pass_at(app, session, london(1, 9, 50))
    pass_at(app, session, london(1, 15))  # resolution: 360 of 480
    pass_at(app, session, london(1, 15, 30))
    expand_all(session)

    hooks = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.channel == "webhook"))
    bodies = [json.loads(h.body_text) for h in hooks]
    assert sorted((b["type"], b["data"]["milestone"]["kind"]) for b in bodies) == [
        ("milestone.warning", "first_response"),
        ("milestone.warning", "resolution"),
    ]
    assert {b["data"]["case"]["number"] for b in bodies} == {case.number}


def test_a_milestone_that_is_not_due_is_left_alone(app, session, world):
    make_process(session, "Support", calendar=world.support, actions=(WARN_OWNER,))
    open_case(session, world, london(1, 9))

    report = pass_at(app, session, london(1, 9, 30))

    assert (report.evaluated, report.fired, report.sent) == (0, 0, 0)


def test_a_log_the_clock_refuses_holds_back_only_its_own_milestone(app, session, world):
    make_process(session, "Support", calendar=world.support, actions=(WARN_OWNER,))
    broken = open_case(session, world, london(1, 9))
    fine = open_case(session, world, london(1, 9))
    bad = milestone(session, broken)
    session.add(MilestoneEvent(milestone_id=bad.id, at=london(1, 10), kind="target"))

    pass_at(app, session, london(1, 15))

    assert milestone(session, fine).state == "warning"
    assert milestone(session, broken).state == "pending"
    assert milestone(session, broken).next_check_at == london(1, 16)


def test_a_failed_action_is_tried_again_once_its_lease_runs_out(app, session, world, monkeypatch):
    make_process(session, "Support", calendar=world.support, actions=(WARN_OWNER,))
    case = open_case(session, world, london(1, 9))
    calls = []

    def fails_once(*args):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("the mail template broke")
        return perform(*args)

    perform = jobs.perform
    monkeypatch.setattr(jobs, "perform", fails_once)

    report = pass_at(app, session, london(1, 15))
    assert (report.sent, report.failed) == (0, 1)
    run = session.scalar(sa.select(SlaActionRun))
    assert (run.sent_at, run.outcome) == (None, "failed: the mail template broke")

    pass_at(app, session, london(1, 15, 5))  # still leased
    assert len(calls) == 1
    pass_at(app, session, london(1, 15, 11))
    assert notices(session, world.agent) == [
        f"Case {case.number}: Resolution is close to its target."
    ]


# --- two scheduler processes at once ----------------------------------------------------------


@pytest.fixture
def pg_app(pg_url, tmp_path, frozen_now):
    frozen_now(london(1, 7))
    application = create_app(app_config(pg_url, tmp_path / "instance"))
    yield application
    application.extensions["portal.engine"].dispose()


CASES = 40
MANAGERS_LATER = ("resolution", "violation", "notify_managers", "", False)
CONTACT_LATER = ("resolution", "violation", "email_contact", "", False)


def released_together(app, moment) -> list:
    """Two scheduler processes' passes, started at the same instant at `moment`."""
    freeze(moment)
    start = threading.Barrier(2)
    reports = []

    def scheduler():
        start.wait(timeout=30)
        reports.append(evaluate_milestones(app))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(reports) == 2
    return reports


def test_two_passes_released_together_run_each_action_once(pg_app, monkeypatch):
    # Small batches, so that the two passes take turns rather than one taking everything.
    monkeypatch.setattr(jobs, "BATCH", 7)
    monkeypatch.setattr(jobs, "SEND_BATCH", 5)
    # An action takes a little while (rendering, a lock): the other pass gets its turn.
    perform = jobs.perform

    def slow_perform(*args, **kwargs):
        time.sleep(0.005)
        return perform(*args, **kwargs)

    monkeypatch.setattr(jobs, "perform", slow_perform)
    with pg_app.app_context():
        session = get_session()
        world = build_sla_world(session)
        make_process(
            session, "Support", calendar=world.support, actions=(MANAGERS_LATER, CONTACT_LATER)
        )
        cases = [open_case(session, world, london(1, 9)) for _ in range(CASES)]
        session.commit()

        # Monday 17:00, closing time: every milestone is violated, every action waits.
        evaluated = released_together(pg_app, london(1, 17))
        # Tuesday 09:00: both passes find the same runs due at once.
        sent = released_together(pg_app, london(2, 9))

        session.expire_all()
        assert sum(r.evaluated for r in evaluated) == 2 * CASES  # each milestone once
        assert sum(r.sent for r in evaluated) == 0
        assert sum(r.sent for r in sent) == 2 * CASES
        assert all(r.sent for r in sent)  # both passes did some of the work
        assert sorted(notices(session, world.manager)) == sorted(
            f"Case {case.number}: Resolution missed its target." for case in cases
        )
        assert len(mails_to(session, "ada@example.com")) == CASES
        runs = session.scalars(sa.select(SlaActionRun)).all()
        assert len(runs) == 2 * CASES
        assert all(run.sent_at == london(2, 9) for run in runs)
