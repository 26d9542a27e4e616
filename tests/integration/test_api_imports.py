"""Imports through the API: a manager's token sends a file (CSV or JSON) and reads the
import back; a dry run writes nothing; errors come with line, column and reason; the
body may be as large as an import, and no larger."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.api.tokens import create_token
from portal.app import create_app
from portal.db import get_session
from portal.imports.models import Import
from portal.workforce.models import Skill
from tests.conftest import PortalClient, app_config
from tests.factories import NOW, create_user
from tests.import_kinds import KIND, csv_bytes, skills_kind

MB = 1024 * 1024
URL = f"/api/v1/imports/{KIND}"


@pytest.fixture
def tokens(session, frozen_now) -> dict[str, dict[str, str]]:
    skills_kind()
    frozen_now(NOW)
    headers = {}
    for role in ("manager", "scheduler"):
        _token, secret = create_token(session, create_user(session, role=role), "imports")
        headers[role] = {"Authorization": f"Bearer {secret}"}
    return headers


def send(client, tokens, data: bytes, *, query: str = "", who="manager", media="text/csv"):
    return client.post(URL + query, data=data, content_type=media, headers=tokens[who])


def skill_count(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Skill))


def test_a_manager_imports_a_csv_file_at_once(client, session, tokens):
    answer = send(client, tokens, csv_bytes(("oil", "Oil"), ("gas", "Gas")))

    body = answer.get_json()
    assert answer.status_code == 201
    assert body["status"] == "applied" and body["source"] == "api"
    assert (body["row_count"], body["new_count"], body["errors"]) == (2, 2, [])
    assert body["filename"] == f"{KIND}.csv"
    assert skill_count(session) == 2


def test_a_dry_run_only_checks(client, session, tokens):
    answer = send(client, tokens, csv_bytes(("oil", "Oil")), query="?dry_run=true")

    assert answer.get_json()["status"] == "checked"
    assert skill_count(session) == 0


def test_bad_rows_are_named_with_line_column_and_reason_and_nothing_is_applied(
    client, session, tokens
):
    answer = send(client, tokens, csv_bytes(("oil", "Oil"), ("", "Nameless"), ("gas", "!Gas")))

    body = answer.get_json()
    assert answer.status_code == 201
    assert body["status"] == "rejected" and body["error_count"] == 2
    assert body["errors"] == [
        {"line": 3, "column": "code", "key": "", "message": "The code is missing."},
        {"line": 4, "column": "name", "key": "gas", "message": "The name '!Gas' is not allowed."},
    ]
    assert skill_count(session) == 0


def test_the_same_file_again_is_a_duplicate(client, session, tokens):
    first = send(client, tokens, csv_bytes(("oil", "Oil"))).get_json()

    again = send(client, tokens, csv_bytes(("oil", "Oil")), query="?filename=again.csv")

    body = again.get_json()
    assert body["status"] == "duplicate" and body["duplicate_of"] == first["number"]
    assert body["filename"] == "again.csv"
    assert body["message"].startswith(f"This file was applied as {first['number']}")


def test_a_json_file_is_taken_too(client, session, tokens):
    data = json.dumps([{"code": "oil", "name": "Oil"}]).encode()

    answer = send(client, tokens, data, media="application/json")

    assert answer.get_json()["status"] == "applied"
    assert answer.get_json()["filename"] == f"{KIND}.json"


def test_an_import_can_be_read_back(client, session, tokens):
    sent = send(client, tokens, csv_bytes(("", "Nameless"))).get_json()

    answer = client.get(f"/api/v1/imports/{sent['id']}", headers=tokens["manager"])

    assert answer.status_code == 200
    assert answer.get_json() == sent


def test_a_file_of_another_type_is_415(client, session, tokens):
    answer = send(client, tokens, b"code,name\n", media="text/plain")

    assert answer.status_code == 415
    assert answer.get_json()["field"] == "Content-Type"


def test_an_unknown_kind_is_404(client, tokens):
    answer = client.post(
        "/api/v1/imports/no_such_kind",
        data=b"x",
        content_type="text/csv",
        headers=tokens["manager"],
    )

    assert answer.status_code == 404


def test_a_schedulers_token_may_not_import(client, session, tokens):
    answer = send(client, tokens, csv_bytes(("oil", "Oil")), who="scheduler")

    assert answer.status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(Import)) == 0


def test_a_body_larger_than_the_apps_megabyte_is_taken(client, session, tokens):
    data = csv_bytes(*[(f"s{n:06d}", "x" * 70) for n in range(30_000)])
    assert len(data) > 2 * MB

    answer = send(client, tokens, data)

    assert answer.status_code == 201 and answer.get_json()["row_count"] == 30_000


def test_a_body_over_the_import_limit_is_413_naming_the_limit(client, session, tokens, app):
    app.config["IMPORT_MAX_BYTES"] = 2 * MB

    answer = send(client, tokens, b"code,name\n" + b"x,y\n" * MB)

    assert answer.status_code == 413
    assert answer.content_type == "application/problem+json"
    assert answer.get_json()["detail"] == ("The request body is too large: send at most 2048 KB.")
    assert session.scalar(sa.select(sa.func.count()).select_from(Import)) == 0


# --- the OpenAPI document, with a manager's token ----------------------------------------------


@pytest.fixture
def manager_api(database_url, tmp_path, frozen_now):
    skills_kind()
    app = create_app(app_config(database_url, tmp_path / "instance", API_RATE_LIMIT=10**9))
    app.test_client_class = PortalClient
    with app.app_context():
        session = get_session()
        _token, secret = create_token(session, create_user(session, role="manager"), "schema")
        session.commit()
    yield app, {"Authorization": f"Bearer {secret}"}
    app.extensions["portal.engine"].dispose()


def _document_app():
    instance = Path(os.environ["PORTAL_INSTANCE_PATH"]) / "api-imports-schema"
    return create_app(app_config("sqlite://", instance))


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app())


@schemathesis.serializer("text/csv")
def _csv_body(_context, value) -> bytes:
    """Generated CSV bodies (schemathesis has no serializer of its own for text/csv)."""
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else b""


@schema.include(tag="imports").parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_imports_api_keeps_to_its_document_for_managers(case, manager_api):
    app, headers = manager_api
    if "kind" in (case.path_parameters or {}):
        case.path_parameters["kind"] = KIND  # a kind that exists, so the file is read
    case.call_and_validate(
        app=app,
        headers=headers,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
