"""A small world for the API tests: a customer with an address, a service, two agents,
a scheduler and a stranger from another account, each with a personal token.

A test module makes its `world` fixture with `make_world(session, frozen_now)`;
`bearer(secret)` makes the header that authenticates a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from portal.accounts.models import ServiceLocation, User
from portal.api.tokens import create_token
from portal.booking.models import Service
from portal.workforce.models import Agent
from tests.factories import (
    create_agent,
    create_customer,
    create_location,
    create_service,
    create_user,
    ensure_policy,
)

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # a Monday, 07:00 in London
WINDOW = "2026-06-02T07:00:00+00:00"  # Tuesday 08:00-10:00 London
LATER_WINDOW = "2026-06-02T09:00:00+00:00"  # Tuesday 10:00-12:00 London


def bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}


@dataclass
class World:
    customer: User
    location: ServiceLocation
    service: Service
    agents: list[Agent]
    scheduler: User
    stranger: User
    stranger_location: ServiceLocation
    tokens: dict[str, str]  # role name -> secret

    def headers(self, who: str = "customer", **extra: str) -> dict[str, str]:
        return bearer(self.tokens[who], **extra)

    def book(self, client, start: str = WINDOW, key: str = "key-1", who: str = "customer"):
        body = {"service_id": self.service.id, "location_id": self.location.id, "start": start}
        if who == "scheduler":
            body["contact_id"] = self.customer.contact.id
        return client.post(
            "/api/v1/appointments", json=body, headers=self.headers(who, **{"Idempotency-Key": key})
        )


def make_world(session, frozen_now) -> World:
    frozen_now(NOW)
    ensure_policy(session, window_minutes=120, min_notice_minutes=60, horizon_days=28)
    customer, account, _ = create_customer(session, email="ada@example.com")
    location = create_location(session, account, label="Shop")
    service = create_service(session, name="Leak repair")
    agents = [create_agent(session, full_name="Bo Agent"), create_agent(session)]
    scheduler = create_user(session, role="scheduler", email="sam@example.com")
    stranger, other_account, _ = create_customer(session, email="eve@example.com")
    stranger_location = create_location(session, other_account, label="Elsewhere")
    people = {
        "customer": customer,
        "agent": agents[0].user,
        "scheduler": scheduler,
        "stranger": stranger,
    }
    tokens = {role: create_token(session, user, "tests")[1] for role, user in people.items()}
    session.commit()
    return World(
        customer=customer,
        location=location,
        service=service,
        agents=agents,
        scheduler=scheduler,
        stranger=stranger,
        stranger_location=stranger_location,
        tokens=tokens,
    )
