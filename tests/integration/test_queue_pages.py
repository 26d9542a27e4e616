"""Back office and queues over HTTP (#14, point 1): where a back-office user lands and
what it may open, "My tasks" with its queues and the Take button, the queue settings
pages, and the Back office role on the staff-users pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.calendars.models import BusinessCalendar
from portal.queues import services as queues
from portal.queues.models import Queue
from portal.workorders.models import WorkOrderTask
from portal.workorders.queue_tasks import assign_task_to_queue, take_task
from tests.factories import NOW, create_user, create_work_order

HTMX = {"HX-Request": "true"}


@pytest.fixture
def office(session, frozen_now):
    """A Finance queue with a back-office member (Ann) and a waiting task; a back-office
    user outside it (Sam); a manager and an admin."""
    frozen_now(NOW)
    finance = queues.create_queue(session, name="Finance")
    ann = create_user(session, role="backoffice", full_name="Ann Ledger", email="ann@example.com")
    sam = create_user(session, role="backoffice", full_name="Sam Orders", email="sam@example.com")
    queues.add_member(session, finance, ann)
    manager = create_user(session, role="manager", email="mia@example.com")
    admin = create_user(session, role="admin", email="root@example.com")
    work_order = create_work_order(session)
    task = WorkOrderTask(work_order_id=work_order.id, title="Refund the deposit", due_at=NOW)
    assign_task_to_queue(session, task, finance, manager)
    session.flush()
    return {
        "finance": finance,
        "ann": ann,
        "sam": sam,
        "manager": manager,
        "admin": admin,
        "task": task,
    }


def login(auth, user: User) -> None:
    response = auth.login(user.email)
    assert response.status_code == 302


# --- a back-office user: where it lands, what it may open --------------------------------------


def test_a_back_office_user_lands_on_my_tasks(client, auth, office):
    login(auth, office["ann"])
    response = client.get("/")
    assert response.status_code == 302 and response.location.endswith("/staff/")
    page = client.get("/staff/").get_data(as_text=True)
    assert "<h1>My tasks</h1>" in page


@pytest.mark.parametrize(
    "url",
    [
        "/dispatch/",
        "/staff/appointments",
        "/staff/customers",
        "/staff/work-orders",
        "/settings/",
        "/settings/disruptions",
        "/settings/queues",
        "/reports/",
        "/book",
    ],
)
def test_a_back_office_user_never_sees_the_staff_or_customer_pages(client, auth, office, url):
    login(auth, office["ann"])
    assert client.get(url).status_code == 403


def test_the_navigation_shows_a_back_office_user_only_what_it_may_open(client, auth, office):
    login(auth, office["ann"])
    page = client.get("/staff/").get_data(as_text=True)
    nav = page[page.index('<nav aria-label="Main">') : page.index("</nav>")]
    assert "My tasks" in nav and "My queues" in nav
    for hidden in ("Dispatch board", "Customers", "Appointments", "Settings", "Your appointments"):
        assert hidden not in nav


# --- My tasks ----------------------------------------------------------------------------------


def test_my_tasks_lists_what_waits_in_my_queues_with_a_take_button(client, auth, office):
    login(auth, office["ann"])
    page = client.get("/staff/").get_data(as_text=True)
    assert "Waiting in your queues" in page
    assert "Refund the deposit" in page
    assert f'hx-post="/staff/tasks/{office["task"].id}/take"' in page


def test_my_tasks_does_not_show_queues_i_am_not_in(client, auth, office):
    login(auth, office["sam"])
    page = client.get("/staff/").get_data(as_text=True)
    assert "Refund the deposit" not in page
    assert "Nothing is assigned to you right now." in page


def test_my_tasks_sorts_what_i_hold_into_overdue_today_and_upcoming(session, client, auth, office):
    ann = office["ann"]
    for title, due in [
        ("Late one", NOW - timedelta(hours=1)),
        ("Today one", NOW + timedelta(hours=2)),
        ("Later one", NOW + timedelta(days=3)),
    ]:
        wo = create_work_order(session)
        session.add(
            WorkOrderTask(
                work_order_id=wo.id, title=title, user_id=ann.id, due_at=due, status="assigned"
            )
        )
    session.flush()
    login(auth, ann)
    page = client.get("/staff/").get_data(as_text=True)
    assert page.index("Overdue") < page.index("Late one") < page.index("Due today")
    assert page.index("Due today") < page.index("Today one") < page.index("Upcoming")
    assert page.index("Upcoming") < page.index("Later one")


def test_taking_with_htmx_swaps_the_card_for_the_outcome(session, client, auth, office):
    login(auth, office["ann"])
    task_id = office["task"].id
    response = client.post_form(f"/staff/tasks/{task_id}/take", form_url="/staff/", headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'id="task-{task_id}"' in body and "You took “Refund the deposit”" in body
    assert session.get(WorkOrderTask, task_id).user_id == office["ann"].id


def test_taking_a_cases_back_office_work_from_my_tasks_starts_it(session, client, auth, office):
    """Taken the case's way: the task and the work order in progress, the page linked."""
    from portal.cases.handoff import send_to_back_office
    from tests.case_factories import create_case
    from tests.factories import create_customer

    _user, _account, contact = create_customer(session)
    case = create_case(session, contact)
    work_order = send_to_back_office(
        session, case, office["finance"], "Refund the call-out fee", "", office["manager"]
    )
    login(auth, office["ann"])
    page = client.get("/staff/").get_data(as_text=True)
    assert f'href="/back-office/work-orders/{work_order.id}"' in page
    (task,) = work_order.tasks
    response = client.post_form(f"/staff/tasks/{task.id}/take", form_url="/staff/", headers=HTMX)
    assert "You took “Refund the call-out fee”" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(WorkOrderTask, task.id).status == "in_progress"
    assert work_order.status == "in_progress"


def test_taking_a_task_someone_took_says_who(session, client, auth, office):
    take_task(session, office["task"], office["manager"])
    login(auth, office["ann"])
    url = f"/staff/tasks/{office['task'].id}/take"
    response = client.post_form(url, form_url="/staff/", follow_redirects=True)
    assert "took this task already" in response.get_data(as_text=True)
    assert session.get(WorkOrderTask, office["task"].id).user_id == office["manager"].id


def test_a_task_of_a_queue_i_am_not_in_is_404(session, client, auth, office):
    login(auth, office["sam"])
    url = f"/staff/tasks/{office['task'].id}/take"
    assert client.post_form(url, form_url="/staff/").status_code == 404
    assert session.get(WorkOrderTask, office["task"].id).queue_id == office["finance"].id


def test_taking_without_a_csrf_token_is_refused(session, client, auth, office):
    login(auth, office["ann"])
    response = client.post(f"/staff/tasks/{office['task'].id}/take")
    assert response.status_code == 400
    assert session.get(WorkOrderTask, office["task"].id).queue_id == office["finance"].id


def test_a_scheduler_still_sees_the_scheduling_queue(session, client, auth, office):
    scheduler = create_user(session, role="scheduler")
    login(auth, scheduler)
    page = client.get("/staff/").get_data(as_text=True)
    assert "Scheduling queue" in page and "Appointments that need a new time" in page


# --- settings: queues --------------------------------------------------------------------------


def test_a_manager_lists_the_queues(client, auth, office):
    login(auth, office["manager"])
    page = client.get("/settings/queues").get_data(as_text=True)
    assert "Finance" in page and "Add a queue" in page


def test_a_manager_adds_a_queue_and_lands_on_its_page(session, client, auth, office):
    login(auth, office["manager"])
    response = client.post_form(
        "/settings/queues/new", {"name": "Orders", "description": "Orders and returns"}
    )
    queue = session.scalar(sa.select(Queue).where(Queue.name == "Orders"))
    assert response.status_code == 302
    assert response.location.endswith(f"/settings/queues/{queue.id}")


def test_a_queue_name_in_use_is_refused_on_the_form(client, auth, office):
    login(auth, office["manager"])
    response = client.post_form("/settings/queues/new", {"name": "finance"})
    assert response.status_code == 422
    assert "There is a queue called finance already." in response.get_data(as_text=True)


def test_a_manager_sets_the_lead_and_calendar(session, client, auth, office):
    calendar = BusinessCalendar(name="Back office hours", time_zone="Europe/London")
    session.add(calendar)
    session.flush()
    login(auth, office["manager"])
    queue_id = office["finance"].id
    response = client.post_form(
        f"/settings/queues/{queue_id}",
        {
            "name": "Finance",
            "description": "",
            "lead_id": str(office["ann"].id),
            "calendar_id": str(calendar.id),
        },
    )
    assert response.status_code == 302
    queue = session.get(Queue, queue_id)
    assert (queue.lead_id, queue.calendar_id) == (office["ann"].id, calendar.id)


def test_a_customer_offered_as_lead_is_refused(session, client, auth, office):
    customer = create_user(session)  # not in the list: only team users may lead
    login(auth, office["manager"])
    response = client.post_form(
        f"/settings/queues/{office['finance'].id}",
        {"name": "Finance", "lead_id": str(customer.id), "calendar_id": ""},
    )
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert session.get(Queue, office["finance"].id).lead_id is None


def test_a_manager_adds_and_removes_a_member(session, client, auth, office):
    login(auth, office["manager"])
    finance, sam = office["finance"], office["sam"]
    url = f"/settings/queues/{finance.id}"
    response = client.post_form(f"{url}/members", {"user_id": str(sam.id)}, form_url=url)
    assert response.status_code == 302
    assert queues.is_member(session, finance, sam)
    response = client.post_form(f"{url}/members/{sam.id}/remove", form_url=url)
    assert response.status_code == 302
    assert not queues.is_member(session, finance, sam)


def test_adding_nobody_says_to_choose_a_person(client, auth, office):
    login(auth, office["manager"])
    url = f"/settings/queues/{office['finance'].id}"
    response = client.post_form(f"{url}/members", {"user_id": ""}, form_url=url)
    assert response.status_code == 422
    assert "Choose a person to add." in response.get_data(as_text=True)


def test_removing_someone_not_in_the_queue_says_so(client, auth, office):
    login(auth, office["manager"])
    url = f"/settings/queues/{office['finance'].id}"
    response = client.post_form(f"{url}/members/{office['sam'].id}/remove", form_url=url)
    assert response.status_code == 422
    assert "Sam Orders is not a member of Finance." in response.get_data(as_text=True)


def test_an_unknown_queue_is_404(client, auth, office):
    login(auth, office["manager"])
    assert client.get("/settings/queues/999999").status_code == 404


def test_a_scheduler_cannot_edit_queues(session, client, auth, office):
    login(auth, create_user(session, role="scheduler"))
    assert client.get("/settings/queues").status_code == 403


# --- settings: the Back office role ------------------------------------------------------------


def test_the_role_choice_offers_back_office(client, auth, office):
    login(auth, office["admin"])
    page = client.get("/settings/users/new").get_data(as_text=True)
    assert '<option value="backoffice">Back office</option>' in page


def test_an_admin_invites_a_back_office_user(session, client, auth, office):
    login(auth, office["admin"])
    response = client.post_form(
        "/settings/users/new",
        {
            "full_name": "Fay Finance",
            "email": "fay@example.com",
            "role": "backoffice",
            "time_zone": "Europe/London",
        },
    )
    assert response.status_code == 302
    user = session.scalar(sa.select(User).where(User.email == "fay@example.com"))
    assert user.role == "backoffice"


def test_an_admin_sets_a_users_role_to_back_office(session, client, auth, office):
    user = create_user(session, role="scheduler")
    login(auth, office["admin"])
    url = f"/settings/users/{user.id}"
    response = client.post_form(f"{url}/role", {"role": "backoffice"}, form_url=url)
    assert response.status_code == 302
    assert session.get(User, user.id).role == "backoffice"
    assert not queues.is_member(session, queues.scheduling_queue(session), user)
    page = client.get(url)
    assert page.status_code == 200 and "is now back office." in page.get_data(as_text=True)
