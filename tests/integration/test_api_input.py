"""What the API does with bodies and query strings it cannot use: nested too deeply or
holding ids past our keys, it answers in problem+json, never with a 500."""

from __future__ import annotations

import re

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


# --- the body's media type (finding 8) --------------------------------------------------

BOOKING = '{"service_id": 1, "location_id": 1, "start": "2026-06-02T07:00:00+00:00"}'


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        None,
    ],
)
def test_a_body_that_is_not_declared_json_is_415_and_nothing_is_booked(
    client, session, world, content_type
):
    headers = world.headers(**{"Idempotency-Key": "plain"})
    if content_type is not None:
        headers["Content-Type"] = content_type

    response = client.post("/api/v1/appointments", data=BOOKING, headers=headers)

    assert response.status_code == 415
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "unsupported_media_type"
    assert "application/json" in problem["detail"]
    assert client.get("/api/v1/appointments", headers=world.headers()).get_json()["items"] == []


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/vnd.portal+json"],
)
def test_json_bodies_are_read(client, world, content_type):
    response = client.post(
        "/api/v1/appointments/999/cancel",
        data='{"reason": "Not needed"}',
        headers=world.headers(**{"Content-Type": content_type}),
    )

    assert response.status_code == 404  # read, then no such appointment


def test_the_document_declares_415_for_operations_with_a_body_only(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    for operations in paths.values():
        for operation in operations.values():
            has_body = "requestBody" in operation
            assert ("415" in operation["responses"]) == has_body, operation["operationId"]
            if has_body:
                content = operation["responses"]["415"]["content"]
                assert list(content) == ["application/problem+json"]


# --- what the document declares (finding 8) ---------------------------------------------


def _schemas(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]


def _query_param(client, path: str, name: str) -> dict:
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][path]["get"]
    return next(p for p in operation["parameters"] if p["name"] == name)["schema"]


YEARS = ["2000-01-01", "2026-06-02", "2100-12-31"]
NOT_YEARS = ["1999-12-31", "2101-01-01", "0001-01-01", "9999-12-31"]


@pytest.mark.parametrize(("model", "name"), [("BookIn", "start"), ("RescheduleIn", "start")])
def test_the_document_declares_the_years_a_start_may_have(client, model, name):
    schema = _schemas(client)[model]["properties"][name]

    assert schema["format"] == "date-time"
    pattern = re.compile(schema["pattern"])
    assert all(pattern.search(f"{day}T09:00:00+00:00") for day in YEARS)
    assert pattern.search("2026-06-02T07:00:00.123456Z")
    assert not any(pattern.search(f"{day}T09:00:00+00:00") for day in NOT_YEARS)


@pytest.mark.parametrize("name", ["from", "to"])
def test_the_document_declares_the_years_of_from_and_to(client, name):
    schema = _query_param(client, "/api/v1/services/{service_id}/windows", name)

    assert schema["format"] == "date"
    pattern = re.compile(schema["pattern"])
    assert all(pattern.search(day) for day in YEARS)
    assert not any(pattern.search(day) for day in NOT_YEARS)


def test_the_document_declares_the_sign_off_names_length(client):
    full_name = _schemas(client)["SignOffIn"]["properties"]["full_name"]

    assert full_name["minLength"] == 2
    assert full_name["maxLength"] == 120


def test_a_one_letter_sign_off_name_is_refused_by_the_schema(client, world):
    response = client.post(
        "/api/v1/appointments/1/sign-off",
        json={"full_name": "A", "consent": True},
        headers=world.headers(),
    )

    assert response.status_code == 422
    assert response.get_json()["field"] == "full_name"
