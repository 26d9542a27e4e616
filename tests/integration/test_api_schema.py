"""Schemathesis against the OpenAPI document the API serves: generated requests, valid and
invalid, for every operation; no answer may be a server error or break the document
(status code, content type, headers and body all as declared).

The document is read once, at import, from an app on an in-memory database (serving it
touches no table). Each test then sends its cases in-process (WSGI) to an app on a
migrated database (SQLite, then PostgreSQL) with a small world in it, so some generated
ids find real records. (schemathesis.pytest.from_fixture, the other way to do this, does
not run on pytest 9.) Customer-only operations are called with the customer's token, the
rest with a scheduler's, so the requests get past authentication into the real work.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.api.registry import OPERATIONS
from portal.app import create_app
from portal.cases.comments import add_comment
from portal.db import get_session
from tests.case_factories import create_case
from tests.conftest import PortalClient, app_config
from tests.integration.api_world import make_world

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CUSTOMER_ONLY = {op.endpoint for op in OPERATIONS if op.roles == ("customer",)}


@pytest.fixture
def api_world(database_url, tmp_path, frozen_now):
    # Rate limits are tested elsewhere; here they would only turn examples into 429s.
    app = create_app(app_config(database_url, tmp_path / "instance", API_RATE_LIMIT=10**9))
    app.test_client_class = PortalClient
    with app.app_context():
        session = get_session()
        world = make_world(session, frozen_now)
        client = app.test_client()
        world.book(client)
        world.book(client, key="second", who="scheduler")
        # A case with a comment, so generated case ids can find a real one.
        case = create_case(session, world.customer.contact, subject="The boiler is loud")
        add_comment(session, case, "Any news?", visibility="customer", by=world.customer)
        frozen_now(None)  # let the clock run: the world's windows are not the point here
        session.commit()
    yield app, world
    app.extensions["portal.engine"].dispose()


def _document_app():
    instance = Path(os.environ["PORTAL_INSTANCE_PATH"]) / "api-schema"
    return create_app(app_config("sqlite://", instance))


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app())


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_to_its_openapi_document(case, api_world):
    app, world = api_world
    who = "customer" if case.operation.definition.raw.get("operationId") in CUSTOMER_ONLY else None
    case.call_and_validate(app=app, headers=world.headers(who or "scheduler"), checks=CHECKS)


@schema.include(tag="cases").parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_cases_api_keeps_to_its_document_for_customers(case, api_world):
    """The cases' operations take another path for a customer's token (its own account,
    its own contact, customer-visible comments only): generated requests with it too."""
    app, world = api_world
    case.call_and_validate(app=app, headers=world.headers("customer"), checks=CHECKS)
