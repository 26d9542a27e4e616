"""The demo's catalogue and decision table: what a broadband and utilities field-service
company sells, and version 1 of the table that turns it into work.

Made through the same services managers use (so every rule holds), after the demo's
services and its Orders queue (portal/sla/demo.py) exist; loading it again changes
nothing. portal/demo.py calls `load_catalogue_demo(session)`.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.booking.models import Service
from portal.errors import Invalid
from portal.orders import catalogue, tables
from portal.orders.models import DecisionTable
from portal.queues.models import Queue
from portal.queues.services import queue_by_slug, scheduling_queue

ORDERS_QUEUE = "orders"

PRODUCTS = [
    # code, name, description, site visit service (code), partner visit, attributes
    (
        "FIBRE-INSTALL",
        "Fibre broadband installation",
        "Full-fibre line to the premises: the network operator lays the line, our "
        "technicians install and test the router and the office network.",
        "network-install",
        True,
        "category=broadband\ntechnology=fibre",
    ),
    (
        "ELEC-CERT",
        "Electrical safety certificate",
        "Inspection and test of the fixed wiring, with an EICR certificate.",
        "electrical-inspection",
        False,
        "category=safety",
    ),
    (
        "ROUTER-REPLACE",
        "Router replacement",
        "A new business router sent by courier, set up remotely once it is plugged in.",
        None,
        False,
        "category=equipment",
    ),
    (
        "STATIC-IP",
        "Static IP address",
        "A fixed public IPv4 address on the site's broadband line.",
        None,
        False,
        "category=broadband\nmanaged=true",
    ),
    (
        "SECURE-LICENCE",
        "Managed security licence (12 months)",
        "Firewall and filtering subscription; nothing to install.",
        None,
        False,
        "category=licence",
    ),
]


def load_catalogue_demo(session: so.Session) -> DecisionTable:
    """The demo's products and a published version 1 of the decision table, made once;
    the published table either way."""
    products = {}
    for code, name, description, service_code, partner, attributes in PRODUCTS:
        product = catalogue.product_by_code(session, code)
        if product is None:
            service = _service(session, service_code) if service_code else None
            product = catalogue.create_product(
                session,
                catalogue.ProductData(
                    code=code,
                    name=name,
                    description=description,
                    needs_site_visit=service is not None,
                    service_id=service.id if service else None,
                    needs_partner_visit=partner,
                    attributes=attributes,
                ),
            )
        products[code] = product
    published = session.scalar(sa.select(DecisionTable).where(DecisionTable.status == "published"))
    if published is not None:
        return published
    queue = _orders_queue(session)
    draft = tables.current_draft(session) or tables.start_draft(session)
    if not draft.rows:
        for data in _rows(session, products, queue):
            tables.add_row(session, draft, data)
    return tables.publish(session, draft)


def _rows(session: so.Session, products: dict, queue: Queue) -> list[tables.RowData]:
    fibre, cert = products["FIBRE-INSTALL"], products["ELEC-CERT"]
    return [
        tables.RowData(
            label="Fibre install",
            product_id=fibre.id,
            summary="Fibre broadband installation at {location}",
            service_id=fibre.service_id,
            needs_appointment=True,
        ),
        tables.RowData(
            label="Electrical certificate",
            product_id=cert.id,
            summary="Electrical safety inspection at {location}",
            service_id=cert.service_id,
            needs_appointment=True,
        ),
        tables.RowData(
            label="Router by courier",
            product_id=products["ROUTER-REPLACE"].id,
            summary="Replacement router for {location}",
            queue_id=queue.id,
            tasks="Send the replacement router by courier\nCheck the new router is online",
        ),
        tables.RowData(
            label="Static IP",
            product_id=products["STATIC-IP"].id,
            summary="Static IP address for {location}",
            queue_id=queue.id,
            tasks=(
                "Assign an address from the pool\n"
                "E-mail the address and gateway to the site contact"
            ),
        ),
        tables.RowData(
            label="Licences",
            attributes="category=licence",
            creates_work_order=False,
            summary="{product}",
        ),
        tables.RowData(
            label="Anything else",
            is_default=True,
            summary="Review {product} ({code}) for {location}",
            queue_id=queue.id,
            tasks="Decide what work this product needs: no row of the table covers it",
        ),
    ]


def _service(session: so.Session, code: str) -> Service:
    service = session.scalar(sa.select(Service).where(Service.code == code))
    if service is None:
        raise Invalid(f"The demo's service {code} comes before its catalogue.")
    return service


def _orders_queue(session: so.Session) -> Queue:
    """The back office's Orders queue; the scheduling queue in a demo without one."""
    return queue_by_slug(session, ORDERS_QUEUE) or scheduling_queue(session)
