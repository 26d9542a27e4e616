"""The aging reps' routine (#15, point 6): complete a case's task, or complete it and
create the next for me, the account's owner (sales), whoever handed it on, or the queue;
one open task per case; closing a case completes its tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.cases.queries import can_see, case_for_team, timeline_for_case
from portal.cases.services import close_case, set_status
from portal.cases.tasks import (
    FOR_HANDED_BY,
    FOR_ME,
    FOR_OWNER,
    FOR_QUEUE,
    NextTask,
    complete_task,
    create_case_task,
    due_at_end_of_day,
    open_task,
)
from portal.cases.types import AUTO_CLOSURE
from portal.errors import Conflict, Invalid, NotAllowed, NotFound
from portal.notifications.models import Notification
from portal.workorders.models import WorkOrderTask
from tests.case_factories import create_backoffice_user, create_case
from tests.case_task_factories import DUE, build_aging
from tests.factories import NOW, create_customer, create_user


@pytest.fixture
def aging(session, frozen_now):
    frozen_now(NOW)
    return build_aging(session)


def task_lines(session, case) -> list[str]:
    return [
        e.note
        for e in timeline_for_case(session, case, include_internal=True)
        if e.action == "task"
    ]


def test_completing_marks_the_task_done_with_who_and_when(session, aging):
    assert complete_task(session, aging["task"], by=aging["teri"]) is None
    task = session.get(WorkOrderTask, aging["task"].id)
    assert task.status == "done"
    assert task.completed_at == NOW and task.completed_by_id == aging["teri"].id
    assert open_task(session, aging["case"]) is None
    assert task_lines(session, aging["case"]) == ["Teri Aging completed ‘Call the contact’"]


def test_complete_and_next_for_me_gives_the_next_task_to_whoever_completes(session, aging):
    due = due_at_end_of_day((NOW + timedelta(days=2)).date(), "Europe/London")
    nxt = complete_task(
        session, aging["task"], by=aging["teri"], next=NextTask("Call again", due, FOR_ME)
    )
    assert (nxt.user_id, nxt.title, nxt.due_at, nxt.created_by_id) == (
        aging["teri"].id,
        "Call again",
        due,
        aging["teri"].id,
    )
    assert open_task(session, aging["case"]).id == nxt.id
    assert aging["task"].status == "done"


def test_complete_and_next_for_the_owner_hands_it_to_sales_and_says_so(session, aging):
    due = due_at_end_of_day((NOW + timedelta(days=1)).date(), "Europe/London")  # Tue 2 Jun
    nxt = complete_task(
        session, aging["task"], by=aging["teri"], next=NextTask("Chase the bank", due, FOR_OWNER)
    )
    assert nxt.user_id == aging["sam"].id
    assert task_lines(session, aging["case"]) == [
        "Teri Aging completed ‘Call the contact’;"
        " next: ‘Chase the bank’ for Sam Sales, due Tue 2 Jun"
    ]
    [notice] = session.scalars(
        sa.select(Notification).where(Notification.user_id == aging["sam"].id)
    ).all()
    assert aging["case"].number in notice.message


def test_sales_hands_back_to_whoever_handed_the_task_on(session, aging):
    first = complete_task(
        session, aging["task"], by=aging["teri"], next=NextTask("Chase the bank", DUE, FOR_OWNER)
    )
    back = complete_task(
        session, first, by=aging["sam"], next=NextTask("Tell the contact", DUE, FOR_HANDED_BY)
    )
    assert back.user_id == aging["teri"].id and back.created_by_id == aging["sam"].id


def test_complete_and_next_for_the_queue_puts_it_in_the_cases_queue(session, aging):
    nxt = complete_task(
        session, aging["task"], by=aging["teri"], next=NextTask("Anyone: call", DUE, FOR_QUEUE)
    )
    assert (nxt.queue_id, nxt.user_id, nxt.status) == (aging["queue"].id, None, "open")


def test_a_second_open_task_on_a_case_is_refused(session, aging):
    with pytest.raises(Invalid, match="open task"):
        create_case_task(session, aging["case"], title="Another", due_at=DUE, user=aging["sam"])
    assert session.scalar(sa.select(sa.func.count()).select_from(WorkOrderTask)) == 1


def test_the_database_refuses_a_second_open_task_even_past_the_check(session, aging):
    session.add(
        WorkOrderTask(
            case_id=aging["case"].id, user_id=aging["sam"].id, title="x", status="assigned"
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_a_task_completed_already_is_refused_with_who_did_it(session, aging):
    complete_task(session, aging["task"], by=aging["teri"])
    with pytest.raises(Conflict, match="completed already by Teri Aging"):
        complete_task(session, aging["task"], by=aging["sam"])


def test_someone_outside_the_task_queue_and_account_may_not_complete_it(session, aging):
    scheduler = create_user(session, role="scheduler")
    other = create_backoffice_user(session)
    for person in (scheduler, other):
        with pytest.raises(NotAllowed):
            complete_task(session, aging["task"], by=person)
    assert aging["task"].status == "assigned"


def test_a_manager_may_complete_it(session, aging):
    manager = create_user(session, role="manager")
    complete_task(session, aging["task"], by=manager)
    assert aging["task"].status == "done"


def test_handing_to_the_owner_of_an_account_without_one_is_refused(session, aging):
    aging["account"].owner_user_id = None
    session.flush()
    session.expire(aging["account"])
    with pytest.raises(Invalid, match="no owner"):
        complete_task(session, aging["task"], by=aging["teri"], next=NextTask("x", DUE, FOR_OWNER))
    assert session.get(WorkOrderTask, aging["task"].id).status == "assigned"


def test_the_sales_owner_sees_the_case_of_its_task_and_not_another(session, aging):
    complete_task(session, aging["task"], by=aging["teri"], next=NextTask("Chase", DUE, FOR_OWNER))
    _, _, elsewhere = create_customer(session)  # another account, not Sam's
    other_case = create_case(session, elsewhere)
    assert case_for_team(session, aging["sam"], aging["case"].id).id == aging["case"].id
    with pytest.raises(NotFound):
        case_for_team(session, aging["sam"], other_case.id)


def test_the_account_owner_sees_its_accounts_cases_without_a_task(session, aging):
    assert can_see(session, aging["sam"], create_case(session, aging["contact"]))


def test_holding_a_task_lets_a_back_office_user_see_the_case(session, aging):
    outsider = create_backoffice_user(session)
    assert not can_see(session, outsider, aging["case"])
    complete_task(
        session, aging["task"], by=aging["teri"], next=NextTask("Help", DUE, FOR_ME)
    )  # Teri's again
    aging["task"] = open_task(session, aging["case"])
    aging["task"].user_id = outsider.id
    session.flush()
    assert can_see(session, outsider, aging["case"])


def test_closing_by_hand_completes_the_open_task(session, aging):
    close_case(session, aging["case"], aging["teri"], status="Closed")
    task = session.get(WorkOrderTask, aging["task"].id)
    session.refresh(task)
    assert task.status == "done" and task.completed_by_id == aging["teri"].id
    assert task_lines(session, aging["case"]) == ["Case Closed: its open task completed."]


def test_auto_closure_completes_the_open_task_without_a_person(session, aging):
    set_status(session, aging["case"], AUTO_CLOSURE, None)
    task = session.get(WorkOrderTask, aging["task"].id)
    session.refresh(task)
    assert task.status == "done" and task.completed_by_id is None
    assert task_lines(session, aging["case"]) == [f"Case {AUTO_CLOSURE}: its open task completed."]


def test_a_closed_case_takes_no_next_task(session, aging):
    case = aging["case"]
    close_case(session, case, aging["teri"])
    set_status(session, case, "Open", aging["teri"])  # reopened, no task
    task = create_case_task(session, case, title="Again", due_at=DUE, user=aging["teri"])
    close_case(session, case, None)
    session.refresh(task)
    with pytest.raises(Conflict):
        complete_task(session, task, by=aging["teri"], next=NextTask("x", DUE, FOR_ME))
