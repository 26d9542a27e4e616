"""The case page's task panel and "My tasks" (#15, points 4 and 5): the aging rep
completes the task and hands the next to the account's owner (sales), who finds it on
the home page and may open that case, and no other."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.cases.tasks import open_task
from portal.workorders.models import WorkOrderTask
from tests.case_factories import create_case
from tests.case_task_factories import build_aging
from tests.factories import NOW, create_customer, create_user


@pytest.fixture
def aging(session, frozen_now):
    frozen_now(NOW)
    return build_aging(session)


def case_url(aging) -> str:
    return f"/cases/{aging['case'].id}"


def act(client, aging, action, data):
    return client.post_form(
        f"{case_url(aging)}/{action}",
        {"task": str(aging["task"].id), **data},
        form_url=case_url(aging),
    )


def test_the_case_page_shows_the_open_task_with_its_holder_and_due_time(client, auth, aging):
    auth.login(aging["teri"].email)
    page = client.get(case_url(aging)).get_data(as_text=True)
    assert "Call the contact" in page
    assert "Teri Aging" in page
    assert "Thu 4 Jun 2026, 07:00 BST" in page  # NOW + 3 days, in Teri's zone (London)
    assert "Complete and create the next task" in page
    assert "Account owner (Sam Sales)" in page
    assert "Due at 17:00 that day, your time (Europe/London)." in page


def test_completing_from_the_page(client, auth, session, aging):
    auth.login(aging["teri"].email)
    response = act(client, aging, "complete_task", {"note": "Left a message"})
    assert response.status_code == 302
    task = session.get(WorkOrderTask, aging["task"].id)
    assert task.status == "done" and task.completed_by_id == aging["teri"].id
    page = client.get(case_url(aging)).get_data(as_text=True)
    assert "No open task" in page and "Left a message" in page


def test_handing_to_sales_puts_the_task_on_sales_home_page(client, auth, session, aging):
    auth.login(aging["teri"].email)
    response = act(
        client,
        aging,
        "next_task",
        {"title": "Chase the bank", "due": "2026-06-02", "assignee": "owner"},
    )
    assert response.status_code == 302
    nxt = open_task(session, aging["case"])
    assert nxt.user_id == aging["sam"].id
    assert nxt.due_at == NOW.replace(hour=16) - timedelta(days=-1)  # 17:00 BST on 2 June
    auth.logout()
    auth.login(aging["sam"].email)
    home = client.get("/staff/").get_data(as_text=True)
    assert "Chase the bank" in home
    assert aging["case"].number in home
    assert aging["account"].name in home and "Aging confirmations" in home
    assert f'href="/cases/{aging["case"].id}?next=1#next-task"' in home
    assert client.get(case_url(aging)).status_code == 200


def test_sales_may_not_open_a_case_of_another_account(client, auth, session, aging):
    _, _, elsewhere = create_customer(session)
    other = create_case(session, elsewhere)
    auth.login(aging["sam"].email)
    assert client.get(f"/cases/{other.id}").status_code == 404


def test_a_due_day_in_the_past_is_refused_with_a_message(client, auth, session, aging):
    auth.login(aging["teri"].email)
    response = act(
        client, aging, "next_task", {"title": "Late", "due": "2026-05-01", "assignee": "me"}
    )
    assert response.status_code == 422
    assert "Choose today or a later day." in response.get_data(as_text=True)
    assert session.get(WorkOrderTask, aging["task"].id).status == "assigned"


def test_a_page_showing_an_old_task_does_not_complete_the_new_one(client, auth, session, aging):
    auth.login(aging["teri"].email)
    act(client, aging, "next_task", {"title": "Again", "due": "2026-06-03", "assignee": "me"})
    response = act(client, aging, "complete_task", {})  # the first task's id
    assert response.status_code == 409
    assert "changed since the page was shown" in response.get_data(as_text=True)
    assert open_task(session, aging["case"]).title == "Again"


def test_staff_outside_the_queue_see_the_task_but_may_not_complete_it(client, auth, session, aging):
    scheduler = create_user(session, role="scheduler")
    auth.login(scheduler.email)
    page = client.get(case_url(aging)).get_data(as_text=True)
    assert "Call the contact" in page and "Complete and create" not in page
    assert act(client, aging, "complete_task", {}).status_code == 404
    assert session.get(WorkOrderTask, aging["task"].id).status == "assigned"


def test_closing_by_hand_takes_the_task_off_my_tasks(client, auth, session, aging):
    auth.login(aging["teri"].email)
    assert "Call the contact" in client.get("/staff/").get_data(as_text=True)
    client.post_form(f"{case_url(aging)}/status", {"status": "Closed"}, form_url=case_url(aging))
    assert session.scalar(sa.select(WorkOrderTask.status)) == "done"
    assert "Call the contact" not in client.get("/staff/").get_data(as_text=True)


def test_a_task_waiting_in_the_queue_is_taken_from_the_case_page(client, auth, session, aging):
    task = aging["task"]
    task.user_id, task.queue_id, task.status = None, aging["queue"].id, "open"
    session.flush()
    auth.login(aging["teri"].email)
    assert act(client, aging, "take_task", {}).status_code == 302
    assert session.get(WorkOrderTask, task.id).user_id == aging["teri"].id
