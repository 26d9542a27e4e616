"""Products and the decision table's versions as services (#16, points 1 and 3): the
catalogue's rules and audit; a draft copies the published rows, rows are added, edited,
moved and deleted; publishing checks the table, retires the old version and never lets a
published or retired version change; the demo catalogue loads twice safely."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.errors import Conflict, Invalid, NotFound
from portal.orders import catalogue, tables
from portal.orders.demo_catalogue import load_catalogue_demo
from portal.orders.models import DecisionRow, DecisionTable, Product
from portal.orders.planning import published_table
from portal.orders.table_words import describe_row
from portal.queues.services import create_queue
from tests.factories import create_service, create_territory, create_user


@pytest.fixture
def manager(session):
    return create_user(session, role="manager")


@pytest.fixture
def orders_queue(session):
    return create_queue(session, name="Orders")


def a_product(session, code="FIBRE", **overrides) -> Product:
    data = {"code": code, "name": f"Product {code}", **overrides}
    return catalogue.create_product(session, catalogue.ProductData(**data))


def queue_row(queue, **overrides) -> tables.RowData:
    values = {"summary": "{product} for {location}", "queue_id": queue.id, "tasks": "Do it"}
    return tables.RowData(**{**values, **overrides})


def default_row(queue) -> tables.RowData:
    return queue_row(queue, is_default=True, label="Everything else", tasks="Review it")


def published_with(session, rows, by=None) -> DecisionTable:
    """A new version holding exactly `rows` (the rows copied from the old one deleted)."""
    draft = tables.start_draft(session, by)
    for copied in list(draft.rows):
        tables.delete_row(session, copied)
    session.refresh(draft)
    for data in rows:
        tables.add_row(session, draft, data)
    return tables.publish(session, draft, by)


def audit_actions(session, entity_type):
    query = sa.select(AuditEntry.action).where(AuditEntry.entity_type == entity_type)
    return list(session.scalars(query.order_by(AuditEntry.id)))


# --- products ----------------------------------------------------------------------------------


def test_a_product_code_is_trimmed_and_upper_cased(session):
    assert a_product(session, code="  fibre-install ").code == "FIBRE-INSTALL"


@pytest.mark.parametrize("code", ["", "FIBRE INSTALL", "-FIBRE", "FIBRE_1", "É", "X" * 41])
def test_a_bad_code_is_refused_on_its_field(session, code):
    with pytest.raises(Invalid) as refused:
        a_product(session, code=code)
    assert refused.value.field == "code"


def test_a_taken_code_is_refused(session):
    a_product(session, code="ROUTER")
    with pytest.raises(Invalid, match="Another product has the code ROUTER") as refused:
        a_product(session, code="router")
    assert refused.value.field == "code"


def test_a_product_needs_a_name(session):
    with pytest.raises(Invalid) as refused:
        a_product(session, name="   ")
    assert refused.value.field == "name"


def test_a_site_visit_needs_a_service(session):
    with pytest.raises(Invalid, match="service") as refused:
        a_product(session, needs_site_visit=True)
    assert refused.value.field == "service_id"


def test_a_site_visit_needs_an_active_service(session):
    hidden = create_service(session, active=False)
    with pytest.raises(Invalid, match="active service"):
        a_product(session, needs_site_visit=True, service_id=hidden.id)


def test_a_product_without_a_site_visit_keeps_no_service(session):
    service = create_service(session)
    product = a_product(session, service_id=service.id)
    assert product.service_id is None


def test_attributes_are_read_from_lines(session):
    product = a_product(session, attributes="category=broadband\nmanaged=true")
    assert product.attributes == {"category": "broadband", "managed": True}


@pytest.mark.parametrize("text", ["category", "needs_site_visit=true", "a=1\na=2"])
def test_bad_attributes_are_refused_on_their_field(session, text):
    with pytest.raises(Invalid) as refused:
        a_product(session, attributes=text)
    assert refused.value.field == "attributes"


def test_every_product_change_is_audited(session, manager):
    service = create_service(session)
    data = catalogue.ProductData("FIBRE", "Fibre", needs_site_visit=True, service_id=service.id)
    product = catalogue.create_product(session, data, by=manager)
    catalogue.update_product(
        session, product, catalogue.ProductData("FIBRE", "Fibre broadband"), by=manager
    )
    catalogue.deactivate_product(session, product, by=manager)
    catalogue.reactivate_product(session, product, by=manager)
    assert audit_actions(session, "product") == ["create", "update", "deactivate", "reactivate"]
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "update")).one()
    assert entry.changes["name"] == {"old": "Fibre", "new": "Fibre broadband"}
    assert entry.actor_id == manager.id


def test_a_deactivated_product_is_listed_after_those_on_sale(session):
    old = a_product(session, code="AAA")
    a_product(session, code="ZZZ")
    catalogue.deactivate_product(session, old)
    assert [p.code for p in catalogue.list_products(session)] == ["ZZZ", "AAA"]


# --- drafts and rows ---------------------------------------------------------------------------


def test_a_first_draft_is_version_1_and_empty(session, manager):
    draft = tables.start_draft(session, manager)
    assert (draft.version, draft.status, draft.rows) == (1, "draft", [])
    assert tables.current_draft(session) is draft


def test_there_is_at_most_one_draft(session):
    tables.start_draft(session)
    with pytest.raises(Conflict, match="open already"):
        tables.start_draft(session)


def test_a_draft_copies_the_published_rows(session, orders_queue):
    product = a_product(session)
    published_with(
        session, [queue_row(orders_queue, product_id=product.id), default_row(orders_queue)]
    )
    draft = tables.start_draft(session)
    assert draft.version == 2
    assert [(r.position, r.product_id, r.is_default) for r in draft.rows] == [
        (1, product.id, False),
        (2, None, True),
    ]
    assert {r.id for r in draft.rows}.isdisjoint({r.id for r in published_table(session).rows})


def test_a_new_row_goes_above_the_default_row(session, orders_queue):
    draft = tables.start_draft(session)
    tables.add_row(session, draft, default_row(orders_queue))
    added = tables.add_row(session, draft, queue_row(orders_queue, label="Added"))
    session.refresh(draft)
    assert [r.label for r in draft.rows] == ["Added", "Everything else"]
    assert added.position == 1


def test_a_second_default_row_is_refused(session, orders_queue):
    draft = tables.start_draft(session)
    tables.add_row(session, draft, default_row(orders_queue))
    with pytest.raises(Invalid, match="default row already") as refused:
        tables.add_row(session, draft, default_row(orders_queue))
    assert refused.value.field == "is_default"


def test_a_default_row_has_no_conditions(session, orders_queue):
    draft = tables.start_draft(session)
    with pytest.raises(Invalid, match="matches every product"):
        tables.add_row(session, draft, queue_row(orders_queue, is_default=True, postal_prefix="SW"))


def test_rows_move_up_and_down(session, orders_queue):
    draft = tables.start_draft(session)
    for label in ("A", "B", "C"):
        tables.add_row(session, draft, queue_row(orders_queue, label=label))
    session.refresh(draft)
    c = draft.rows[2]
    tables.move_row(session, c, "up")
    tables.move_row(session, c, "up")
    tables.move_row(session, c, "up")  # at the top already: stays
    session.refresh(draft)
    assert [r.label for r in draft.rows] == ["C", "A", "B"]
    tables.move_row(session, draft.rows[0], "down")
    session.refresh(draft)
    assert [(r.position, r.label) for r in draft.rows] == [(1, "A"), (2, "C"), (3, "B")]


def test_deleting_a_row_closes_the_gap(session, orders_queue):
    draft = tables.start_draft(session)
    for label in ("A", "B", "C"):
        tables.add_row(session, draft, queue_row(orders_queue, label=label))
    session.refresh(draft)
    tables.delete_row(session, draft.rows[1])
    session.refresh(draft)
    assert [(r.position, r.label) for r in draft.rows] == [(1, "A"), (2, "C")]


def test_a_row_is_updated_with_its_conditions(session, orders_queue):
    territory = create_territory(session)
    draft = tables.start_draft(session)
    row = tables.add_row(session, draft, queue_row(orders_queue))
    tables.update_row(
        session,
        row,
        queue_row(
            orders_queue,
            attributes="category=broadband",
            territory_id=territory.id,
            postal_prefix=" sw1a ",
        ),
    )
    assert (row.attributes, row.territory_id, row.postal_prefix) == (
        {"category": "broadband"},
        territory.id,
        "SW1A",
    )


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"summary": "{customer} visit"}, "summary", "{customer}"),
        ({"queue_id": None, "tasks": ""}, "queue_id", "where the work goes"),
        ({"tasks": ""}, "tasks", "at least one task"),
        ({"postal_prefix": "SW-1"}, "postal_prefix", "letters and digits"),
        ({"attributes": "oops"}, "attributes", "key=value"),
        ({"needs_appointment": True}, "needs_appointment", "needs a service"),
    ],
)
def test_a_row_that_makes_no_sense_is_refused_on_its_field(
    session, orders_queue, changes, field, words
):
    draft = tables.start_draft(session)
    with pytest.raises(Invalid, match=words) as refused:
        tables.add_row(session, draft, queue_row(orders_queue, **changes))
    assert refused.value.field == field


def test_a_row_with_a_queue_and_a_service_is_refused(session, orders_queue):
    service = create_service(session)
    draft = tables.start_draft(session)
    with pytest.raises(Invalid, match="not both") as refused:
        tables.add_row(
            session, draft, queue_row(orders_queue, service_id=service.id, tasks="Do it")
        )
    assert refused.value.field == "service_id"


def test_a_field_visit_row_books_a_service(session):
    service = create_service(session, name="Fibre installation")
    draft = tables.start_draft(session)
    row = tables.add_row(
        session,
        draft,
        tables.RowData(
            summary="Install at {location}", service_id=service.id, needs_appointment=True
        ),
    )
    assert describe_row(row).outcome == (
        "work order 'Install at {location}', field visit: Fibre installation"
    )


def test_a_row_that_makes_no_work_order_keeps_no_outcome(session, orders_queue):
    draft = tables.start_draft(session)
    row = tables.add_row(
        session, draft, queue_row(orders_queue, creates_work_order=False, summary="{bad}")
    )
    assert (row.queue_id, row.tasks, row.creates_work_order) == (None, [], False)
    assert describe_row(row).outcome == "no work order"


def test_a_row_reads_as_a_sentence(session, orders_queue):
    product = a_product(session, name="Fibre broadband")
    london = create_territory(session, name="London")
    draft = tables.start_draft(session)
    row = tables.add_row(
        session,
        draft,
        queue_row(
            orders_queue,
            product_id=product.id,
            attributes="managed=true",
            territory_id=london.id,
            postal_prefix="SW",
            tasks="Order the line\nTell the customer",
        ),
    )
    assert describe_row(row).sentence == (
        "Fibre broadband (FIBRE) with managed = true in London at postcode SW… → work order "
        "'{product} for {location}', back office: Orders (tasks: Order the line; Tell the "
        "customer)"
    )


# --- publishing --------------------------------------------------------------------------------


def test_publishing_retires_the_old_version(session, manager, orders_queue):
    first = published_with(session, [default_row(orders_queue)], manager)
    second = published_with(session, [default_row(orders_queue)], manager)
    session.refresh(first)
    assert (first.version, first.status) == (1, "retired")
    assert (second.version, second.status, second.published_by_id) == (2, "published", manager.id)
    assert published_table(session) is second
    assert [t.version for t in tables.versions(session)] == [2, 1]


def test_publishing_is_audited_with_the_rows_in_words(session, manager, orders_queue):
    published_with(session, [default_row(orders_queue)], manager)
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "publish")).one()
    assert entry.entity_label == "Decision table version 1"
    assert entry.changes["status"] == {"old": "draft", "new": "published"}
    assert entry.changes["rows"]["new"][0].startswith("Any other product (default row) →")


def test_an_empty_draft_is_not_published(session):
    draft = tables.start_draft(session)
    with pytest.raises(tables.PublishRefused, match="no rows"):
        tables.publish(session, draft)


def test_a_default_row_above_others_is_not_published(session, orders_queue):
    draft = tables.start_draft(session)
    tables.add_row(session, draft, default_row(orders_queue))
    tables.add_row(session, draft, queue_row(orders_queue, label="Below"))
    session.refresh(draft)
    assert [r.label for r in draft.rows] == ["Below", "Everything else"]
    tables.move_row(session, draft.rows[1], "up")  # the default row goes first
    session.refresh(draft)
    with pytest.raises(tables.PublishRefused) as refused:
        tables.publish(session, draft)
    assert refused.value.problems == [
        "Row 1 is the default row: move it to the end, or the rows below it never match."
    ]
    assert draft.status == "draft"


def test_two_default_rows_are_not_published(session, orders_queue):
    draft = tables.start_draft(session)
    tables.add_row(session, draft, default_row(orders_queue))
    # Rows copied from elsewhere (or written by hand) get the same check on publishing.
    session.add(DecisionRow(table=draft, position=2, is_default=True, creates_work_order=False))
    session.flush()
    session.refresh(draft)
    with pytest.raises(tables.PublishRefused, match="Rows 1, 2 are all default rows"):
        tables.publish(session, draft)


def test_a_row_without_a_queue_or_service_is_not_published(session):
    draft = tables.start_draft(session)
    session.add(DecisionRow(table=draft, position=1, is_default=True, tasks=[]))
    session.flush()
    session.refresh(draft)
    with pytest.raises(tables.PublishRefused, match="Row 1: choose where the work goes"):
        tables.publish(session, draft)


def test_a_table_without_a_default_row_may_be_published(session, orders_queue):
    table = published_with(session, [queue_row(orders_queue)])
    assert table.status == "published"


@pytest.mark.parametrize("status", ["published", "retired"])
def test_a_published_or_retired_version_never_changes(session, orders_queue, status):
    first = published_with(session, [queue_row(orders_queue, label="Kept")])
    if status == "retired":
        published_with(session, [default_row(orders_queue)])
        session.refresh(first)
    assert first.status == status
    row = first.rows[0]
    with pytest.raises(Conflict, match="never changes"):
        tables.update_row(session, row, queue_row(orders_queue, label="Changed"))
    with pytest.raises(Conflict, match="never changes"):
        tables.add_row(session, first, queue_row(orders_queue))
    with pytest.raises(Conflict, match="never changes"):
        tables.move_row(session, row, "down")
    with pytest.raises(Conflict, match="never changes"):
        tables.delete_row(session, row)
    with pytest.raises(Conflict, match="never changes"):
        tables.publish(session, first)
    with pytest.raises(NotFound):
        tables.draft_row(session, row.id)
    session.refresh(first)
    assert [r.label for r in first.rows] == ["Kept"]


def test_a_draft_published_a_moment_ago_is_not_published_again(session, orders_queue):
    draft = tables.start_draft(session)
    tables.add_row(session, draft, default_row(orders_queue))
    # Another request published it: this session still holds it as a draft.
    session.execute(
        sa.update(DecisionTable)
        .where(DecisionTable.id == draft.id)
        .values(status="published")
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(Conflict, match="a moment ago"):
        tables.publish(session, draft)


def test_discarding_the_draft_keeps_the_published_version(session, manager, orders_queue):
    published = published_with(session, [default_row(orders_queue)])
    draft = tables.start_draft(session, manager)
    tables.discard_draft(session, draft, manager)
    assert tables.current_draft(session) is None
    assert published_table(session) is published
    assert tables.start_draft(session).version == 2
    assert audit_actions(session, "decision_table")[-2:] == ["discard draft", "start draft"]


# --- the demo ----------------------------------------------------------------------------------


def test_the_demo_catalogue_loads_twice_safely(session):
    create_service(session, code="network-install", name="Office network installation")
    create_service(session, code="electrical-inspection", name="Electrical safety inspection")
    create_queue(session, name="Orders")
    load_catalogue_demo(session)
    load_catalogue_demo(session)
    products = catalogue.list_products(session)
    assert len(products) == 5
    table = published_table(session)
    assert table.version == 1 and table.rows[-1].is_default
    assert tables.publish_problems(table) == []
    assert session.scalar(sa.select(sa.func.count()).select_from(DecisionTable)) == 1
