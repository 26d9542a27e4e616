"""Request bodies are limited to 1 MB (MAX_CONTENT_LENGTH): the API refuses a larger one
with 413 in problem+json, and a drawn signature still fits."""

from __future__ import annotations

import base64
import json

import pytest

from tests.integration.api_world import make_world


@pytest.fixture
def world(session, frozen_now):
    return make_world(session, frozen_now)


def test_the_body_limit_is_one_megabyte(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_a_two_megabyte_body_is_413_problem_json(client, world):
    body = json.dumps({"note": "x" * (2 * 1024 * 1024)})

    response = client.post(
        "/api/v1/appointments",
        data=body,
        content_type="application/json",
        headers=world.headers(**{"Idempotency-Key": "big"}),
    )

    assert response.status_code == 413
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] == "payload_too_large"


def test_a_body_with_a_signature_of_nearly_300_kb_is_not_refused_for_its_size(client, world):
    signature = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 220_000).decode()
    body = {"full_name": "Ada", "consent": True, "signature_png": signature}
    assert len(json.dumps(body)) > 290_000  # the schema allows 300,000 characters

    response = client.post("/api/v1/appointments/1/sign-off", json=body, headers=world.headers())

    assert response.status_code == 404  # no such appointment: the body was read
