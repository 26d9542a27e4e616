"""The cases' API and the SLA's webhooks agree: a case opened through the API starts its
milestones and shows them, and a `milestone.warning` carries the case and the milestone
exactly as the API shows them to staff."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.api.tokens import create_token
from portal.notifications.models import OutboxMessage
from portal.webhooks import services as webhooks
from tests.conftest import expand_all
from tests.integration.api_world import bearer
from tests.integration.sla_world import build_sla_world, london, make_process, open_case
from tests.integration.test_sla_job import pass_at


@pytest.fixture
def world(session, frozen_now):
    frozen_now(london(1, 7))
    return build_sla_world(session)


def test_a_case_opened_through_the_api_shows_the_milestones_it_started(client, session, world):
    make_process(session, "Support", calendar=world.support)
    _, secret = create_token(session, world.contact.user, "tests")
    session.commit()

    response = client.post("/api/v1/cases", json={"subject": "Invoice"}, headers=bearer(secret))

    body = response.get_json()
    assert response.status_code == 201
    assert sorted((m["kind"], m["state"]) for m in body["milestones"]) == [
        ("first_response", "pending"),
        ("resolution", "pending"),
    ]
    assert {m["target_minutes"] for m in body["milestones"]} == {60, 480}


def test_a_milestone_webhook_carries_the_case_and_milestone_as_the_api_shows_them(
    app, client, session, world
):
    webhooks.create_endpoint(
        session, url="http://127.0.0.1:9/in", events=["milestone.warning"], allow_private=True
    )
    make_process(session, "Support", calendar=world.support)
    case = open_case(session, world, london(1, 9))
    _, secret = create_token(session, world.agent, "tests")

    pass_at(app, session, london(1, 9, 45))  # first response: 45 of 60 minutes
    expand_all(session)
    session.commit()

    (hook,) = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.channel == "webhook"))
    data = json.loads(hook.body_text)["data"]
    shown = client.get(f"/api/v1/cases/{case.id}", headers=bearer(secret)).get_json()
    milestones = {m["id"]: m for m in shown.pop("milestones")}
    assert data["case"] == shown
    assert data["milestone"] == milestones[data["milestone"]["id"]]
    assert data["milestone"]["state"] == "warning"
