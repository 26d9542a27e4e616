"""Queues (#14, point 1): editing them, who belongs, telling the members, and tasks that
land in a queue, are taken by a member (once, however many click) and handed on."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from flask import current_app

from portal.accounts.models import User
from portal.app import create_app
from portal.calendars.models import BusinessCalendar
from portal.db import get_session
from portal.errors import Conflict, Invalid, NotAllowed, NotFound
from portal.notifications.models import Notification, OutboxMessage
from portal.queues import services as queues
from portal.queues.models import Queue
from portal.settings import services as settings
from portal.workforce.services import create_agent as make_agent
from portal.workorders.models import TimelineEntry, WorkOrderTask
from portal.workorders.queue_tasks import assign_task_to_queue, hand_task, take_task
from tests.conftest import app_config
from tests.factories import NOW, create_agent, create_user, create_work_order


@pytest.fixture
def team(session, frozen_now):
    """A Finance queue with two back-office members, a stranger, a manager and an admin."""
    frozen_now(NOW)
    finance = queues.create_queue(session, name="Finance", description="Refunds, invoices")
    ann = create_user(session, role="backoffice", full_name="Ann Ledger", email="ann@example.com")
    bob = create_user(session, role="backoffice", full_name="Bob Books", email="bob@example.com")
    stranger = create_user(session, role="backoffice", full_name="Sam Orders")
    for member in (ann, bob):
        queues.add_member(session, finance, member)
    manager = create_user(session, role="manager", full_name="Mia Manager")
    admin = create_user(session, role="admin")
    session.flush()
    return {
        "finance": finance,
        "ann": ann,
        "bob": bob,
        "stranger": stranger,
        "manager": manager,
        "admin": admin,
    }


def queued_task(session, queue, by=None, **values) -> WorkOrderTask:
    task = WorkOrderTask(work_order_id=create_work_order(session).id, title="Refund £40", **values)
    return assign_task_to_queue(session, task, queue, by)


def notices(session, user) -> list[str]:
    rows = session.scalars(sa.select(Notification).where(Notification.user_id == user.id))
    return [n.message for n in rows]


def mails(session, user) -> list[OutboxMessage]:
    return list(
        session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == user.email))
    )


# --- editing queues ----------------------------------------------------------------------------


def test_a_new_queue_gets_a_short_name_from_its_name(session, team):
    queue = queues.create_queue(session, name="  Orders &  Returns ")
    assert (queue.name, queue.slug) == ("Orders & Returns", "orders-returns")


def test_a_queue_name_in_use_is_refused_whatever_its_case(session, team):
    with pytest.raises(Invalid, match="There is a queue called finance already") as err:
        queues.create_queue(session, name="finance")
    assert err.value.field == "name"


def test_renaming_to_nothing_is_refused(session, team):
    with pytest.raises(Invalid, match="Give the queue a name"):
        queues.rename_queue(session, team["finance"], "   ")


def test_update_sets_name_description_lead_and_calendar(session, team):
    calendar = BusinessCalendar(name="Back office", time_zone="Europe/London")
    session.add(calendar)
    session.flush()
    queues.update_queue(
        session,
        team["finance"],
        name="Finance team",
        description="Money matters",
        lead_id=team["manager"].id,
        calendar_id=calendar.id,
    )
    session.expire_all()
    queue = session.get(Queue, team["finance"].id)
    assert (queue.name, queue.description) == ("Finance team", "Money matters")
    assert (queue.lead_id, queue.calendar_id) == (team["manager"].id, calendar.id)


def test_a_customer_cannot_lead_a_queue(session, team):
    customer = create_user(session, full_name="Cara Customer")
    with pytest.raises(Invalid, match="Cara Customer is a customer and cannot lead a queue"):
        queues.set_lead(session, team["finance"], customer)


def test_an_unknown_calendar_is_refused(session, team):
    with pytest.raises(Invalid, match="Choose a business-hours calendar") as err:
        queues.set_calendar(session, team["finance"], 999_999)
    assert err.value.field == "calendar_id"


def test_a_customer_cannot_be_a_member(session, team):
    customer = create_user(session, full_name="Cara Customer")
    with pytest.raises(Invalid, match="cannot be a queue's member"):
        queues.add_member(session, team["finance"], customer)


def test_adding_a_member_twice_is_refused(session, team):
    with pytest.raises(Invalid, match="Ann Ledger is a member of Finance already"):
        queues.add_member(session, team["finance"], team["ann"])


def test_removing_someone_who_is_not_a_member_is_refused(session, team):
    with pytest.raises(Invalid, match="Sam Orders is not a member of Finance"):
        queues.remove_member(session, team["finance"], team["stranger"])


def test_a_missing_queue_is_not_found(session, team):
    with pytest.raises(NotFound):
        queues.get_queue(session, 999_999)


# --- who belongs -------------------------------------------------------------------------------


def test_membership_and_the_queues_of_a_user(session, team):
    finance = team["finance"]
    assert queues.is_member(session, finance, team["ann"])
    assert not queues.is_member(session, finance, team["stranger"])
    assert [q.name for q in queues.queues_of(session, team["ann"])] == ["Finance"]
    assert queues.queues_of(session, team["stranger"]) == []


def test_schedulers_and_above_work_the_scheduling_queue_without_a_row(session, team):
    queues.scheduling_queue(session)  # made by migration 0015; the tests empty the tables
    names = [q.slug for q in queues.queues_of(session, team["manager"])]
    assert names == ["scheduling"]
    scheduling = queues.scheduling_queue(session)
    assert queues.may_work(session, scheduling, team["manager"])
    assert not queues.may_work(session, scheduling, team["ann"])


def test_a_manager_may_work_any_queue_and_a_stranger_may_not(session, team):
    assert queues.may_work(session, team["finance"], team["manager"])
    assert not queues.may_work(session, team["finance"], team["stranger"])


def test_a_deactivated_member_may_not_work_the_queue(session, team):
    team["ann"].active = False
    assert not queues.may_work(session, team["finance"], team["ann"])


# --- the Scheduling queue follows the scheduler role -------------------------------------------


def test_a_user_made_scheduler_joins_the_scheduling_queue_and_leaves_it_after(session, team):
    user = create_user(session, role="manager")
    settings.change_role(session, team["admin"], user, "scheduler")
    scheduling = queues.scheduling_queue(session)
    assert queues.is_member(session, scheduling, user)
    settings.change_role(session, team["admin"], user, "backoffice")
    assert not queues.is_member(session, scheduling, user)


def test_an_invited_scheduler_is_a_member_of_the_scheduling_queue(session, team):
    user = settings.invite_team_user(
        session,
        team["admin"],
        full_name="Sue Scheduler",
        email="sue@example.com",
        role="scheduler",
        time_zone="Europe/London",
    )
    assert queues.is_member(session, queues.scheduling_queue(session), user)


# --- the back office is never bookable -------------------------------------------------------


def test_an_admin_invites_a_back_office_user_who_is_no_agent(session, team):
    user = settings.invite_team_user(
        session,
        team["admin"],
        full_name="Fay Finance",
        email="fay@example.com",
        role="backoffice",
        time_zone="Europe/London",
    )
    assert user.role == "backoffice"
    assert settings.agent_for_user(session, user) is None


def test_a_back_office_user_cannot_be_made_an_agent(session, team):
    with pytest.raises(
        Invalid, match="Ann Ledger works in the back office, which is never bookable"
    ):
        make_agent(session, team["ann"], time_zone="Europe/London")


def test_a_bookable_agent_cannot_become_back_office(session, team):
    agent = create_agent(session, full_name="Tom Tech")
    with pytest.raises(Invalid, match="Tom Tech is bookable as a technician") as err:
        settings.change_role(session, team["admin"], agent.user, "backoffice")
    assert err.value.field == "role"


def test_the_agent_of_a_back_office_user_cannot_be_switched_on(session, team):
    from portal.workforce.services import set_agent_active

    agent = create_agent(session, full_name="Tom Tech")
    set_agent_active(session, agent, False, team["admin"])
    settings.change_role(session, team["admin"], agent.user, "backoffice")
    with pytest.raises(Invalid, match="never bookable"):
        set_agent_active(session, agent, True, team["admin"])


# --- telling the members -----------------------------------------------------------------------


def test_notify_queue_tells_each_active_member_in_the_portal_and_by_mail(session, team):
    team["bob"].active = False
    told = queues.notify_queue(session, team["finance"], "Refund waiting", "/x", dedupe_key="k1")
    assert told == 1
    assert notices(session, team["ann"]) == ["Refund waiting"]
    assert notices(session, team["bob"]) == []
    (mail,) = mails(session, team["ann"])
    assert mail.subject == "[Finance] Refund waiting"
    assert f"{current_app.config['BASE_URL']}/x" in mail.body_text  # the whole address


def test_notify_queue_mails_each_member_once_per_dedupe_key(session, team):
    for _ in range(2):
        queues.notify_queue(session, team["finance"], "Refund waiting", dedupe_key="same")
    assert len(mails(session, team["ann"])) == 1
    assert len(mails(session, team["bob"])) == 1


# --- work lands in a queue ---------------------------------------------------------------------


def test_a_task_assigned_to_a_queue_waits_there_and_its_members_are_told(session, team):
    task = queued_task(session, team["finance"], by=team["manager"])
    assert (task.queue_id, task.user_id, task.agent_id) == (team["finance"].id, None, None)
    assert notices(session, team["ann"]) == ["Waiting in Finance: Refund £40"]
    assert notices(session, team["bob"]) == ["Waiting in Finance: Refund £40"]
    entry = session.scalar(sa.select(TimelineEntry).where(TimelineEntry.action == "queued"))
    assert (entry.new_value, entry.actor_id) == ("Finance", team["manager"].id)


def test_the_member_who_queues_a_task_is_not_told_of_it(session, team):
    queued_task(session, team["finance"], by=team["ann"])
    assert notices(session, team["ann"]) == []
    assert notices(session, team["bob"]) == ["Waiting in Finance: Refund £40"]


def test_a_started_task_cannot_be_assigned_to_a_queue(session, team):
    task = WorkOrderTask(
        work_order_id=create_work_order(session).id, title="x", status="in_progress"
    )
    with pytest.raises(Conflict, match="only an open task can wait in a queue"):
        assign_task_to_queue(session, task, team["finance"], team["manager"])


# --- taking ------------------------------------------------------------------------------------


def test_a_member_takes_a_queue_task_which_becomes_theirs_and_assigned(session, team):
    task = queued_task(session, team["finance"])
    take_task(session, task, team["ann"])
    session.expire_all()
    task = session.get(WorkOrderTask, task.id)
    assert (task.queue_id, task.user_id, task.status) == (None, team["ann"].id, "assigned")
    actions = session.scalars(
        sa.select(TimelineEntry.action)
        .where(TimelineEntry.subject_type == "WorkOrderTask", TimelineEntry.subject_id == task.id)
        .order_by(TimelineEntry.id)
    ).all()
    assert actions == ["queued", "taken", "status"]


def test_someone_outside_the_queue_cannot_take_its_task(session, team):
    task = queued_task(session, team["finance"])
    with pytest.raises(NotAllowed, match="Only members of Finance can take its tasks"):
        take_task(session, task, team["stranger"])
    assert task.queue_id == team["finance"].id


def test_a_manager_takes_a_task_of_a_queue_it_is_not_in(session, team):
    task = queued_task(session, team["finance"])
    take_task(session, task, team["manager"])
    assert task.user_id == team["manager"].id


def test_a_task_taken_already_is_refused_naming_who_took_it(session, team):
    task = queued_task(session, team["finance"])
    take_task(session, task, team["ann"])
    with pytest.raises(Conflict, match="Ann Ledger took this task already"):
        take_task(session, task, team["bob"])


def test_the_conditional_update_refuses_a_task_that_left_the_queue_meanwhile(session, team):
    """The object in hand still says it waits; the row says otherwise: refused."""
    task = queued_task(session, team["finance"])
    session.execute(
        sa.update(WorkOrderTask)
        .where(WorkOrderTask.id == task.id)
        .values(queue_id=None, user_id=team["bob"].id)
        .execution_options(synchronize_session=False)
    )
    assert task.queue_id is not None  # stale, as a request that read it a moment ago
    with pytest.raises(Conflict, match="Bob Books took this task already"):
        take_task(session, task, team["ann"])


# --- handing on --------------------------------------------------------------------------------


def test_a_holder_hands_a_task_to_a_colleague_who_is_told(session, team):
    task = queued_task(session, team["finance"])
    take_task(session, task, team["ann"])
    hand_task(session, task, to_user=team["bob"], by=team["ann"], note="You know this customer")
    assert (task.user_id, task.status) == (team["bob"].id, "assigned")
    assert notices(session, team["bob"])[-1] == (
        "Ann Ledger handed you a task: Refund £40 — “You know this customer”"
    )


def test_handing_an_open_task_to_another_queue_moves_it_and_tells_that_queue(session, team):
    orders = queues.create_queue(session, name="Orders")
    queues.add_member(session, orders, team["stranger"])
    task = queued_task(session, team["finance"])
    moved = hand_task(session, task, to_queue=orders, by=team["ann"])
    assert moved.id == task.id and moved.queue_id == orders.id
    assert notices(session, team["stranger"]) == ["Waiting in Orders: Refund £40"]


def test_handing_a_taken_task_back_to_a_queue_starts_a_fresh_open_task(session, team):
    task = queued_task(session, team["finance"])
    take_task(session, task, team["ann"])
    fresh = hand_task(session, task, to_queue=team["finance"], by=team["ann"])
    assert task.status == "cancelled"
    assert (fresh.status, fresh.queue_id, fresh.title) == ("open", team["finance"].id, task.title)
    assert fresh.work_order_id == task.work_order_id


def test_only_the_holder_a_member_or_a_manager_hands_a_task_on(session, team):
    task = queued_task(session, team["finance"])
    take_task(session, task, team["ann"])
    with pytest.raises(NotAllowed, match="Only the task's holder"):
        hand_task(session, task, to_user=team["stranger"], by=team["bob"])


def test_a_task_is_handed_to_one_person_or_one_queue(session, team):
    task = queued_task(session, team["finance"])
    with pytest.raises(Invalid, match="one person or one queue"):
        hand_task(session, task, by=team["ann"])


def test_a_task_cannot_be_handed_to_a_customer(session, team):
    task = queued_task(session, team["finance"])
    customer = create_user(session, full_name="Cara Customer")
    with pytest.raises(Invalid, match="Cara Customer cannot hold tasks"):
        hand_task(session, task, to_user=customer, by=team["ann"])


# --- the race: two members click Take at once (PostgreSQL) -------------------------------------


@pytest.fixture
def pg_app(pg_url, tmp_path, frozen_now):
    frozen_now(NOW)
    application = create_app(app_config(pg_url, tmp_path / "instance"))
    yield application
    application.extensions["portal.engine"].dispose()


def test_two_members_taking_at_once_take_the_task_once(pg_app):
    with pg_app.app_context():
        session = get_session()
        finance = queues.create_queue(session, name="Finance")
        members = [create_user(session, role="backoffice") for _ in range(2)]
        for member in members:
            queues.add_member(session, finance, member)
        task_id = queued_task(session, finance).id
        member_ids = [m.id for m in members]
        session.commit()

    ready = threading.Barrier(2)
    outcomes: list[str] = []

    def member_takes(user_id: int) -> None:
        with pg_app.app_context():
            other = pg_app.extensions["portal.sessionmaker"]()
            try:
                task = other.get(WorkOrderTask, task_id)
                user = other.get(User, user_id)
                assert task.queue is not None  # both read it waiting
                ready.wait(timeout=30)
                try:
                    take_task(other, task, user)
                    other.commit()
                    outcomes.append("took")
                except Conflict as err:
                    other.rollback()
                    outcomes.append(err.message)
            finally:
                other.close()

    threads = [threading.Thread(target=member_takes, args=(uid,)) for uid in member_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes)[-1] == "took"
    assert outcomes.count("took") == 1
    assert [o for o in outcomes if o != "took"][0].endswith("took this task already.")
    with pg_app.app_context():
        session = get_session()
        task = session.get(WorkOrderTask, task_id)
        assert task.user_id in member_ids and task.queue_id is None
        taken = session.scalars(
            sa.select(TimelineEntry).where(
                TimelineEntry.subject_id == task_id, TimelineEntry.action == "taken"
            )
        ).all()
        assert len(taken) == 1
