"""Cases through the API: list by state, open, read with milestones, comment; who sees
which case (another account's is 404), and bad input as problems, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.api.tokens import create_token
from portal.cases.models import Case
from portal.cases.services import set_status
from portal.sla.models import Milestone
from portal.workorders.models import TimelineEntry
from tests.case_factories import create_backoffice_user, create_case, create_queue
from tests.factories import NOW, create_customer
from tests.integration.api_world import bearer, make_world

CASES = "/api/v1/cases"


@pytest.fixture
def world(session, frozen_now):
    return make_world(session, frozen_now)


@pytest.fixture
def case(session, world) -> Case:
    made = create_case(session, world.customer.contact, subject="The boiler is loud")
    session.commit()
    return made


def open_as(client, world, who="customer", **body):
    return client.post(CASES, json={"subject": "Heating off", **body}, headers=world.headers(who))


# --- opening a case --------------------------------------------------------------------------


def test_a_customer_opens_a_case_for_its_own_account_from_the_portal(client, world, session):
    response = open_as(client, world, description="Since Monday.", priority="high")

    body = response.get_json()
    assert response.status_code == 201
    assert body["number"] == f"CS-{body['id']:06d}"
    assert body["account_id"] == world.customer.contact.account_id
    assert body["contact_id"] == world.customer.contact.id
    assert (body["origin"], body["priority"], body["state"]) == ("Portal", "high", "open")
    assert body["owner"] is None  # who works it inside is not the customer's business
    assert body["milestones"] == []
    assert session.get(Case, body["id"]).created_by_id == world.customer.id


def test_a_customer_cannot_choose_the_account_or_origin(client, world):
    stranger_account = world.stranger.contact.account_id

    response = open_as(client, world, account_id=stranger_account, origin="Phone")

    body = response.get_json()
    assert response.status_code == 201
    assert body["account_id"] == world.customer.contact.account_id
    assert body["origin"] == "Portal"


def test_a_scheduler_opens_a_case_for_an_account_it_names(client, world):
    contact = world.customer.contact

    response = open_as(
        client, world, "scheduler", account_id=contact.account_id, contact_id=contact.id
    )

    body = response.get_json()
    assert response.status_code == 201
    assert (body["account_id"], body["contact_id"], body["origin"]) == (
        contact.account_id,
        contact.id,
        "Phone",
    )
    assert body["owner"]["kind"] == "queue"  # the contact centre's, unless told


def test_a_scheduler_must_name_the_account(client, world):
    response = open_as(client, world, "scheduler")

    assert response.status_code == 422
    assert response.get_json()["field"] == "account_id"


def test_a_scheduler_naming_an_unknown_account_gets_404(client, world):
    response = open_as(client, world, "scheduler", account_id=999_999)

    assert response.status_code == 404
    assert response.get_json()["field"] == "account_id"


def test_a_contact_of_another_account_is_refused(client, world):
    response = open_as(
        client,
        world,
        "scheduler",
        account_id=world.customer.contact.account_id,
        contact_id=world.stranger.contact.id,
    )

    assert response.status_code == 422
    assert response.get_json()["field"] == "contact"


def test_an_origin_the_case_type_does_not_have_is_refused(client, world):
    account = world.customer.contact.account_id

    response = open_as(client, world, "scheduler", account_id=account, origin="Carrier pigeon")

    assert response.status_code == 422
    assert response.get_json()["field"] == "origin"


def test_an_agent_cannot_open_a_case(client, world):
    response = open_as(client, world, "agent", account_id=world.customer.contact.account_id)

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "Hi", "priority": "asap"}, "priority"),
        ({"subject": "Hi", "colour": "red"}, "colour"),
        ({"subject": "Nul \x00 byte"}, "subject"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, world, body, field):
    response = client.post(CASES, json=body, headers=world.headers())

    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.get_json()["field"] == field


# --- reading ---------------------------------------------------------------------------------


def test_a_customer_lists_its_accounts_cases_only(client, world, session, case):
    create_case(session, world.stranger.contact, subject="Not yours")
    session.commit()

    body = client.get(CASES, headers=world.headers()).get_json()

    assert [c["subject"] for c in body["items"]] == ["The boiler is loud"]
    assert (body["page"], body["pages"], body["total"]) == (1, 1, 1)


def test_the_list_filters_by_state(client, world, session, case):
    waiting = create_case(session, world.customer.contact, subject="Need a photo")
    set_status(session, waiting, "Waiting on customer", world.scheduler)
    session.commit()

    def subjects(state):
        response = client.get(f"{CASES}?state={state}", headers=world.headers())
        return [c["subject"] for c in response.get_json()["items"]]

    assert subjects("open") == ["The boiler is loud"]
    assert subjects("waiting") == ["Need a photo"]
    assert subjects("closed") == []


def test_an_unknown_state_is_a_422(client, world):
    response = client.get(f"{CASES}?state=lost", headers=world.headers())

    assert response.status_code == 422
    assert response.get_json()["field"] == "state"


def test_the_list_is_paginated(client, world, session):
    for n in range(3):
        create_case(session, world.customer.contact, subject=f"Case number {n}")
    session.commit()

    body = client.get(f"{CASES}?per_page=2&page=2", headers=world.headers("scheduler")).get_json()

    assert (body["page"], body["pages"], body["total"], len(body["items"])) == (2, 2, 3, 1)


def test_staff_list_every_case_with_its_owner(client, world, session, case):
    create_case(session, world.stranger.contact, subject="Another account")
    session.commit()

    body = client.get(CASES, headers=world.headers("agent")).get_json()

    assert {c["subject"] for c in body["items"]} == {"The boiler is loud", "Another account"}
    assert all(c["owner"]["kind"] == "queue" for c in body["items"])


def test_another_accounts_case_is_404(client, world, case):
    response = client.get(f"{CASES}/{case.id}", headers=world.headers("stranger"))

    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_a_case_shows_its_milestones(client, world, session, case):
    session.add(
        Milestone(
            case_id=case.id,
            kind="first_response",
            name="First response",
            state="warning",
            paused=False,
            target_minutes=240,
            used_seconds=200 * 60 + 30,
            started_at=NOW,
            due_at=NOW + timedelta(hours=5),
        )
    )
    session.commit()

    body = client.get(f"{CASES}/{case.id}", headers=world.headers()).get_json()

    (milestone,) = body["milestones"]
    assert milestone["kind"] == "first_response"
    assert milestone["name"] == "First response"
    assert milestone["state"] == "warning"
    assert (milestone["target_minutes"], milestone["used_minutes"]) == (240, 200)
    assert milestone["paused"] is False
    assert milestone["due_at"] == (NOW + timedelta(hours=5)).isoformat().replace("+00:00", "Z")
    assert milestone["applies_to"] == "case"


# --- back office -----------------------------------------------------------------------------


def test_back_office_sees_the_cases_of_its_queues_only(client, world, session, case):
    clerk = create_backoffice_user(session)
    queue = create_queue(session, members=[clerk])
    mine = create_case(session, world.customer.contact, subject="Refund", owner_queue=queue)
    _, secret = create_token(session, clerk, "tests")
    session.commit()

    listed = client.get(CASES, headers=bearer(secret)).get_json()
    other = client.get(f"{CASES}/{case.id}", headers=bearer(secret))

    assert [c["id"] for c in listed["items"]] == [mine.id]
    assert other.status_code == 404


def test_back_office_cannot_open_cases(client, world, session):
    _, secret = create_token(session, create_backoffice_user(session), "tests")
    session.commit()

    response = client.post(
        CASES,
        json={"subject": "Hi", "account_id": world.customer.contact.account_id},
        headers=bearer(secret),
    )

    assert response.status_code == 403


# --- comments --------------------------------------------------------------------------------


def comment(client, world, case, who="customer", **body):
    return client.post(
        f"{CASES}/{case.id}/comments",
        json={"text": "Any news?", **body},
        headers=world.headers(who),
    )


def test_a_customers_comment_is_always_customer_visible(client, world, case):
    response = comment(client, world, case, visibility="internal")

    body = response.get_json()
    assert response.status_code == 201
    assert (body["text"], body["visibility"], body["from_team"]) == ("Any news?", "customer", False)


def test_staff_choose_who_sees_a_comment(client, world, case):
    internal = comment(client, world, case, "scheduler", text="Check the warranty").get_json()
    public = comment(client, world, case, "scheduler", text="On it", visibility="customer")

    assert internal["visibility"] == "internal"
    assert public.get_json()["visibility"] == "customer"
    assert public.get_json()["from_team"] is True


def test_a_customer_sees_only_the_customer_visible_comments(client, world, case):
    comment(client, world, case, "scheduler", text="Check the warranty")
    comment(client, world, case, "scheduler", text="On it", visibility="customer")
    comment(client, world, case, text="Thanks")

    def texts(who):
        response = client.get(f"{CASES}/{case.id}/comments", headers=world.headers(who))
        return [c["text"] for c in response.get_json()["items"]]

    assert texts("customer") == ["On it", "Thanks"]
    assert texts("scheduler") == ["Check the warranty", "On it", "Thanks"]


def test_the_first_customer_visible_staff_comment_is_the_first_response(
    client, world, session, case
):
    comment(client, world, case, "scheduler", text="On it", visibility="customer")

    body = client.get(f"{CASES}/{case.id}", headers=world.headers("scheduler")).get_json()

    assert body["first_response_at"] is not None


def test_a_customer_cannot_comment_on_a_closed_case(client, world, session, case):
    set_status(session, case, "Closed", world.scheduler)
    session.commit()

    response = comment(client, world, case)

    assert response.status_code == 409
    assert "closed" in response.get_json()["detail"]


def test_commenting_on_another_accounts_case_is_404_and_writes_nothing(
    client, world, session, case
):
    before = session.scalar(sa.select(sa.func.count()).select_from(TimelineEntry))

    response = comment(client, world, case, "stranger")

    assert response.status_code == 404
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(TimelineEntry)) == before


def test_an_empty_comment_is_a_422_naming_text(client, world, case):
    response = comment(client, world, case, text="")

    assert response.status_code == 422
    assert response.get_json()["field"] == "text"


def test_a_customer_without_an_account_sees_no_cases_and_cannot_open_one(client, session):
    user, _account, contact = create_customer(session)
    contact.user_id = None
    session.flush()
    session.expire(user)
    _, secret = create_token(session, user, "tests")
    session.commit()

    listed = client.get(CASES, headers=bearer(secret))
    opened = client.post(CASES, json={"subject": "Hello"}, headers=bearer(secret))

    assert listed.get_json()["items"] == []
    assert opened.status_code == 404


def test_a_comment_on_a_case_id_out_of_range_is_404_not_405(client, world):
    response = client.post(f"{CASES}/0/comments", json={"text": "Hi"}, headers=world.headers())

    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_a_method_the_cases_do_not_have_is_still_405(client, world):
    response = client.delete(CASES, headers=world.headers())

    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
