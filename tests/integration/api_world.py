"""A small world for the API tests: the bookable world of tests/factories.py (a customer
with an address, a service, two agents, a scheduler) and a stranger from another account,
each with a personal token.

A test module makes its `world` fixture with `make_world(session, frozen_now)`;
`bearer(secret)` makes the header that authenticates a request.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from portal.accounts.models import ServiceLocation, User
from portal.api.tokens import create_token
from tests.factories import NOW, World, build_world, create_customer, create_location

WINDOW = "2026-06-02T07:00:00+00:00"  # Tuesday 08:00-10:00 London
LATER_WINDOW = "2026-06-02T09:00:00+00:00"  # Tuesday 10:00-12:00 London


def bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}


@dataclass(kw_only=True)
class ApiWorld(World):
    """The bookable world (tests/factories.py) and a stranger, with everyone's token."""

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


def make_world(session, frozen_now) -> ApiWorld:
    frozen_now(NOW)
    world = build_world(
        session,
        customer={"email": "ada@example.com"},
        location={"label": "Shop"},
        service={"name": "Leak repair"},
        agents=[{"full_name": "Bo Agent"}, {}],
        scheduler={"email": "sam@example.com"},
    )
    stranger, other_account, _ = create_customer(session, email="eve@example.com")
    stranger_location = create_location(session, other_account, label="Elsewhere")
    people = {
        "customer": world.customer,
        "agent": world.agent.user,
        "scheduler": world.scheduler,
        "stranger": stranger,
    }
    tokens = {role: create_token(session, user, "tests")[1] for role, user in people.items()}
    session.commit()
    return ApiWorld(
        **{f.name: getattr(world, f.name) for f in fields(World)},
        stranger=stranger,
        stranger_location=stranger_location,
        tokens=tokens,
    )
