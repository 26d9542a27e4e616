"""The product and decision-table settings pages over HTTP (#16, point 3): a manager adds,
edits and deactivates a product, starts a draft, adds, edits, moves and deletes rows,
publishes it and reads the versions; bad input gets a message and changes nothing;
other roles are refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.orders import catalogue, tables
from portal.orders.models import DecisionTable, Product
from portal.orders.planning import published_table
from portal.queues.services import create_queue
from tests.factories import create_service, create_user


@pytest.fixture
def manager(session, auth):
    user = create_user(session, role="manager")
    assert auth.login(user.email).status_code == 302
    return user


@pytest.fixture
def queue(session):
    return create_queue(session, name="Orders")


def text(response) -> str:
    return response.get_data(as_text=True)


def row_form(queue, **overrides) -> dict:
    values = {
        "label": "",
        "product_id": "",
        "attributes": "",
        "territory_id": "",
        "postal_prefix": "",
        "creates_work_order": "y",
        "summary": "{product} at {location}",
        "tasks": "Check the order",
        "queue_id": str(queue.id),
        "service_id": "",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


# --- products ----------------------------------------------------------------------------------


def test_a_manager_adds_a_product(client, session, manager):
    service = create_service(session, name="Fibre installation")
    response = client.post_form(
        "/settings/products/new",
        {
            "code": "fibre-install",
            "name": "Fibre broadband",
            "description": "A line to the door",
            "needs_site_visit": "y",
            "service_id": str(service.id),
            "attributes": "category=broadband\nmanaged=true",
        },
    )
    assert response.status_code == 302
    product = session.scalars(sa.select(Product)).one()
    assert (product.code, product.service_id, product.attributes) == (
        "FIBRE-INSTALL",
        service.id,
        {"category": "broadband", "managed": True},
    )
    page = text(client.get("/settings/products"))
    assert "FIBRE-INSTALL" in page and "Fibre installation" in page


def test_a_site_visit_without_a_service_gets_a_message(client, session, manager):
    response = client.post_form(
        "/settings/products/new",
        {"code": "FIBRE", "name": "Fibre", "needs_site_visit": "y", "service_id": ""},
    )
    assert response.status_code == 422
    assert "Choose the service a site visit books." in text(response)
    assert session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0


def test_bad_attributes_get_a_message_on_their_field(client, session, manager):
    response = client.post_form(
        "/settings/products/new", {"code": "X1", "name": "X", "attributes": "speed"}
    )
    assert response.status_code == 422
    assert 'id="attributes-error"' in text(response)


def test_a_manager_edits_and_deactivates_a_product(client, session, manager):
    product = catalogue.create_product(
        session, catalogue.ProductData("ROUTER", "Router", attributes="category=equipment")
    )
    form = client.get(f"/settings/products/{product.id}")
    assert "category=equipment" in text(form)
    response = client.post_form(
        f"/settings/products/{product.id}",
        {"code": "ROUTER", "name": "Business router", "attributes": "category=equipment"},
    )
    assert response.status_code == 302
    response = client.post_form(
        f"/settings/products/{product.id}/deactivate", form_url=f"/settings/products/{product.id}"
    )
    assert response.status_code == 302
    session.refresh(product)
    assert (product.name, product.active) == ("Business router", False)
    assert "Reactivate ROUTER" in text(client.get(f"/settings/products/{product.id}"))


def test_another_products_id_is_404(client, manager):
    assert client.get("/settings/products/999").status_code == 404


@pytest.mark.parametrize("role", ["scheduler", "agent", "backoffice", "customer"])
@pytest.mark.parametrize("url", ["/settings/products", "/settings/decision-table"])
def test_only_managers_open_the_pages(client, session, auth, role, url):
    user = create_user(session, role=role)
    auth.login(user.email)
    assert client.get(url).status_code == 403


def test_a_scheduler_cannot_start_a_draft(client, session, auth):
    user = create_user(session, role="scheduler")
    auth.login(user.email)
    token = client.csrf_token("/notifications")
    response = client.post("/settings/decision-table/draft", data={"csrf_token": token})
    assert response.status_code == 403
    assert tables.current_draft(session) is None


# --- the decision table ------------------------------------------------------------------------


def test_a_manager_drafts_and_publishes_the_table(client, session, manager, queue):
    page = text(client.get("/settings/decision-table"))
    assert "Nothing published yet" in page and "Start a draft" in page
    assert (
        client.post_form(
            "/settings/decision-table/draft", form_url="/settings/decision-table"
        ).status_code
        == 302
    )
    response = client.post_form(
        "/settings/decision-table/draft/rows/new",
        row_form(queue, label="Everything else", is_default="y", tasks="Review the line"),
    )
    assert response.status_code == 302
    page = text(client.get("/settings/decision-table"))
    assert "Publish as version 1" in page
    assert "Any other product (default row)" in page
    response = client.post_form(
        "/settings/decision-table/draft/publish", form_url="/settings/decision-table"
    )
    assert response.status_code == 302
    table = published_table(session)
    assert table.version == 1
    page = text(client.get("/settings/decision-table/versions/1"))
    assert "back office: Orders (tasks: Review the line)" in page
    assert "Version 1" in text(client.get("/settings/decision-table/versions"))


def test_a_row_that_makes_no_sense_gets_a_message(client, session, manager, queue):
    tables.start_draft(session)
    response = client.post_form(
        "/settings/decision-table/draft/rows/new", row_form(queue, summary="{customer}")
    )
    assert response.status_code == 422
    assert "{customer} is not a placeholder we know" in text(response)
    assert tables.current_draft(session).rows == []


def test_publishing_a_table_with_problems_lists_them(client, session, manager, queue):
    draft = tables.start_draft(session)
    tables.add_row(session, draft, tables.RowData(is_default=True, queue_id=queue.id, tasks="A"))
    tables.add_row(session, draft, tables.RowData(queue_id=queue.id, tasks="B", label="Other"))
    session.refresh(draft)
    tables.move_row(session, draft.rows[1], "up")
    response = client.post_form(
        "/settings/decision-table/draft/publish", form_url="/settings/decision-table"
    )
    assert response.status_code == 422
    assert "Row 1 is the default row: move it to the end" in text(response)
    assert published_table(session) is None


def test_a_manager_moves_edits_and_deletes_rows(client, session, manager, queue):
    draft = tables.start_draft(session)
    for label in ("First", "Second"):
        tables.add_row(session, draft, tables.RowData(label=label, queue_id=queue.id, tasks="T"))
    session.refresh(draft)
    first, second = draft.rows
    url = f"/settings/decision-table/draft/rows/{second.id}"
    response = client.post_form(
        f"{url}/move", {"direction": "up"}, form_url="/settings/decision-table"
    )
    assert response.status_code == 302
    assert "Second" in text(client.get(url))
    response = client.post_form(url, row_form(queue, label="Renamed", postal_prefix="sw1a"))
    assert response.status_code == 302
    response = client.post_form(
        f"/settings/decision-table/draft/rows/{first.id}/delete",
        form_url="/settings/decision-table",
    )
    assert response.status_code == 302
    session.refresh(draft)
    assert [(r.position, r.label, r.postal_prefix) for r in draft.rows] == [(1, "Renamed", "SW1A")]


def test_a_published_row_cannot_be_edited(client, session, manager, queue):
    draft = tables.start_draft(session)
    row = tables.add_row(session, draft, tables.RowData(label="Kept", queue_id=queue.id, tasks="T"))
    tables.publish(session, draft)
    response = client.post_form(
        f"/settings/decision-table/draft/rows/{row.id}",
        row_form(queue, label="Changed"),
        form_url="/settings/decision-table",
    )
    assert response.status_code == 404
    session.refresh(row)
    assert row.label == "Kept"


def test_discarding_the_draft(client, session, manager, queue):
    tables.start_draft(session)
    response = client.post_form(
        "/settings/decision-table/draft/discard", form_url="/settings/decision-table"
    )
    assert response.status_code == 302
    assert session.scalar(sa.select(sa.func.count()).select_from(DecisionTable)) == 0


def test_a_draft_row_page_without_a_draft_is_404(client, manager):
    assert client.get("/settings/decision-table/draft/rows/new").status_code == 404


def test_settings_link_to_products_and_the_table(client, manager):
    page = text(client.get("/settings/"))
    assert 'href="/settings/products"' in page and 'href="/settings/decision-table"' in page
