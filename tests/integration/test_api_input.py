"""What the API does with bodies and query strings it cannot use: nested too deeply or
holding ids past our keys, it answers in problem+json, never with a 500."""

from __future__ import annotations

import pytest

from tests.integration.api_world import make_world


@pytest.fixture
def world(session, frozen_now):
    return make_world(session, frozen_now)


@pytest.mark.parametrize("depth", [1_000, 100_000])
@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ('{"note": ', "}")])
def test_json_nested_a_thousand_deep_is_400_problem_json(client, world, depth, opening, closing):
    body = opening * depth + "1" + closing * depth

    response = client.post(
        "/api/v1/appointments",
        data=body,
        content_type="application/json",
        headers=world.headers(**{"Idempotency-Key": "deep"}),
    )

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "malformed_request"
    assert problem["field"] == "body"
    assert "nested too deeply" in problem["detail"]


@pytest.mark.parametrize("name", ["service_id", "location_id"])
def test_windows_for_an_id_past_64_bits_is_422(client, world, name):
    ids = {"service_id": world.service.id, "location_id": world.location.id}
    ids[name] = "9" * 20

    response = client.get(
        f"/api/v1/services/{ids['service_id']}/windows",
        query_string={"location_id": ids["location_id"], "from": "2026-06-02"},
        headers=world.headers(),
    )

    assert response.status_code in (404, 422)
    assert response.content_type == "application/problem+json"
