"""The case pages over HTTP: the team's (/cases, /back-office) and the customer's (/support)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.cases.comments import add_comment
from portal.cases.handoff import send_to_back_office, take_work_order
from portal.cases.models import Case
from portal.cases.services import close_case
from portal.queues.models import QueueMember
from portal.workorders.models import WorkOrder
from tests.case_factories import create_backoffice_user, create_case, create_queue
from tests.factories import create_customer, create_user


@pytest.fixture
def office(session, world):
    scheduler = create_user(session, role="scheduler", full_name="Sam Scheduler")
    fiona = create_backoffice_user(session, full_name="Fiona Finance")
    finance = create_queue(session, name="Finance", members=[fiona])
    case = create_case(session, world.contact, subject="Refund my deposit")
    return world.add(scheduler=scheduler, fiona=fiona, finance=finance, case=case)


# -- the customer's Support area -----------------------------------------------------


def test_a_customer_opens_a_case_from_the_portal(client, auth, session, world):
    auth.login(world.customer.email)
    response = client.post_form(
        "/support/new",
        {"subject": "Heating is off", "description": "Since Monday.", "priority": "high"},
    )
    assert response.status_code == 302
    case = session.scalar(sa.select(Case))
    assert response.location.endswith(f"/support/{case.id}")
    assert (case.subject, case.priority, case.origin) == ("Heating is off", "high", "Portal")
    assert case.owner_queue.slug == "support"
    page = client.get(f"/support/{case.id}").get_data(as_text=True)
    assert "Heating is off" in page and case.number in page


def test_a_customer_cannot_ask_for_urgent(client, auth, session, world):
    auth.login(world.customer.email)
    response = client.post_form("/support/new", {"subject": "Now!", "priority": "urgent"})
    assert response.status_code == 422
    assert session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def test_a_case_without_a_subject_is_refused_with_a_message(client, auth, session, world):
    auth.login(world.customer.email)
    response = client.post_form("/support/new", {"subject": " ", "priority": "low"})
    assert response.status_code == 422
    assert "Please check the form." in response.get_data(as_text=True)


def test_the_customer_sees_customer_visible_entries_only(client, auth, session, office):
    case = office["case"]
    add_comment(
        session, case, "Internal: refund rules?", visibility="internal", by=office["scheduler"]
    )
    add_comment(
        session, case, "We are refunding you.", visibility="customer", by=office["scheduler"]
    )
    auth.login(office.customer.email)
    page = client.get(f"/support/{case.id}").get_data(as_text=True)
    assert "We are refunding you." in page
    assert "refund rules" not in page


def test_a_customer_comments_on_its_case(client, auth, session, office):
    case = office["case"]
    auth.login(office.customer.email)
    response = client.post_form(
        f"/support/{case.id}/comment", {"text": "Any news?"}, form_url=f"/support/{case.id}"
    )
    assert response.status_code == 302
    page = client.get(f"/support/{case.id}").get_data(as_text=True)
    assert "Any news?" in page


def test_another_accounts_case_is_not_found_for_a_customer(client, auth, session, office):
    other, _, _ = create_customer(session)
    auth.login(other.email)
    case_id = office["case"].id
    assert client.get(f"/support/{case_id}").status_code == 404
    response = client.post_form(f"/support/{case_id}/comment", {"text": "hi"}, form_url="/support")
    assert response.status_code == 404


def test_the_support_list_shows_the_accounts_cases(client, auth, office):
    auth.login(office.customer.email)
    page = client.get("/support").get_data(as_text=True)
    assert "Refund my deposit" in page


def test_a_closed_case_offers_no_comment_form(client, auth, session, office):
    close_case(session, office["case"], office["scheduler"])
    auth.login(office.customer.email)
    page = client.get(f"/support/{office['case'].id}").get_data(as_text=True)
    assert "This case is closed." in page and "Write to us" not in page


def test_staff_are_not_let_into_the_support_area(client, auth, office):
    auth.login(office["scheduler"].email)
    assert client.get("/support").status_code == 403


# -- the team's pages ----------------------------------------------------------------


def test_a_scheduler_finds_the_case_in_the_list(client, auth, office):
    auth.login(office["scheduler"].email)
    page = client.get("/cases?q=refund").get_data(as_text=True)
    assert office["case"].number in page
    assert "No cases match." in client.get("/cases?q=nothing-like-it").get_data(as_text=True)


def test_a_scheduler_opens_a_case_for_an_account(client, auth, session, office):
    auth.login(office["scheduler"].email)
    found = client.get(f"/cases/new?q={office.account.name}").get_data(as_text=True)
    assert f"/cases/new?account={office.account.id}" in found
    url = f"/cases/new?account={office.account.id}"
    response = client.post_form(
        url,
        {
            "contact": office.contact.id,
            "subject": "Called about the invoice",
            "description": "",
            "origin": "Phone",
            "priority": "medium",
            "owner": f"user:{office['scheduler'].id}",
        },
    )
    assert response.status_code == 302
    case = session.scalar(sa.select(Case).where(Case.subject == "Called about the invoice"))
    assert case.owner_user_id == office["scheduler"].id and case.origin == "Phone"


def test_an_owner_that_is_nobody_is_refused_on_the_form(client, auth, session, office):
    auth.login(office["scheduler"].email)
    url = f"/cases/new?account={office.account.id}"
    response = client.post_form(
        url,
        {
            "contact": office.contact.id,
            "subject": "x",
            "origin": "Phone",
            "priority": "medium",
            "owner": "user:999999",
        },
    )
    assert response.status_code == 422


def test_staff_comment_for_the_customer_and_change_the_status(client, auth, session, office):
    case = office["case"]
    auth.login(office["scheduler"].email)
    url = f"/cases/{case.id}"
    response = client.post_form(
        f"{url}/comment", {"text": "We will call you.", "visibility": "customer"}, form_url=url
    )
    assert response.status_code == 302
    response = client.post_form(
        f"{url}/status", {"status": "Waiting on customer", "note": ""}, form_url=url
    )
    assert response.status_code == 302
    session.refresh(case)
    assert case.first_response_at is not None and case.status == "Waiting on customer"
    page = client.get(url).get_data(as_text=True)
    assert "We will call you." in page


def test_an_unknown_status_is_refused_without_a_change(client, auth, session, office):
    case = office["case"]
    auth.login(office["scheduler"].email)
    url = f"/cases/{case.id}"
    response = client.post_form(f"{url}/status", {"status": "Gone fishing"}, form_url=url)
    assert response.status_code == 422
    session.refresh(case)
    assert case.status == "New"


def test_an_unknown_action_is_not_found(client, auth, office):
    auth.login(office["scheduler"].email)
    url = f"/cases/{office['case'].id}"
    assert client.post_form(f"{url}/explode", {}, form_url=url).status_code == 404


def test_the_case_is_sent_to_the_back_office_from_its_page(client, auth, session, office):
    case = office["case"]
    auth.login(office["scheduler"].email)
    url = f"/cases/{case.id}"
    response = client.post_form(
        f"{url}/handoff",
        {
            "queue": office["finance"].id,
            "summary": "Refund £50",
            "description": "",
        },
        form_url=url,
    )
    assert response.status_code == 302
    work_order = session.scalar(sa.select(WorkOrder).where(WorkOrder.owner_kind == "case"))
    assert work_order.summary == "Refund £50"
    work = client.get(f"{url}/work").get_data(as_text=True)
    assert work_order.number in work and "Finance" in work and "New" in work


def test_back_office_takes_and_completes_the_work_and_the_case_closes(
    client, auth, session, office
):
    case = office["case"]
    work_order = send_to_back_office(
        session, case, office["finance"], "Refund", "", office["scheduler"]
    )
    auth.login(office["fiona"].email)
    url = f"/back-office/work-orders/{work_order.id}"
    assert "Take it" in client.get(url).get_data(as_text=True)
    assert client.post_form(f"{url}/take", {}, form_url=url).status_code == 302
    assert (
        client.post_form(f"{url}/note", {"text": "Bank called."}, form_url=url).status_code == 302
    )
    assert (
        client.post_form(f"{url}/complete", {"note": "Refunded."}, form_url=url).status_code == 302
    )
    session.refresh(case)
    assert case.is_closed and case.status == "Closed"
    assert "Bank called." in client.get(url).get_data(as_text=True)


def test_completing_untaken_work_shows_why(client, auth, session, office):
    work_order = send_to_back_office(
        session, office["case"], office["finance"], "Refund", "", office["scheduler"]
    )
    other = create_backoffice_user(session)
    office["finance"].members  # noqa: B018 - loaded before the member is added below

    session.add(QueueMember(queue_id=office["finance"].id, user_id=other.id))
    take_work_order(session, work_order, office["fiona"])
    auth.login(other.email)
    url = f"/back-office/work-orders/{work_order.id}"
    response = client.post_form(f"{url}/take", {}, form_url=url)
    assert response.status_code == 409
    assert "taken this work already" in response.get_data(as_text=True)


def test_back_office_outside_the_queue_gets_not_found(client, auth, session, office):
    work_order = send_to_back_office(
        session, office["case"], office["finance"], "Refund", "", office["scheduler"]
    )
    outsider = create_backoffice_user(session)
    auth.login(outsider.email)
    assert client.get(f"/back-office/work-orders/{work_order.id}").status_code == 404
    assert client.get(f"/cases/{office['case'].id}").status_code == 404
    assert office["case"].number not in client.get("/cases").get_data(as_text=True)


def test_back_office_in_the_queue_sees_the_case_it_was_handed(client, auth, session, office):
    send_to_back_office(
        session, office["case"], office["finance"], "Refund", "", office["scheduler"]
    )
    auth.login(office["fiona"].email)
    assert client.get(f"/cases/{office['case'].id}").status_code == 200


def test_customers_are_refused_the_team_pages(client, auth, office):
    auth.login(office.customer.email)
    assert client.get("/cases").status_code == 403
    assert client.get(f"/cases/{office['case'].id}").status_code == 403
