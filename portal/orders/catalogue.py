"""The product catalogue managers keep: create, update, deactivate and reactivate a
product. Every change is audited. A product is never deleted: orders and the decision
table's versions keep pointing at it, so one that is no longer sold is deactivated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.audit.services import record_change, register_entity, snapshot
from portal.booking.models import Service
from portal.errors import Invalid
from portal.orders.decision import FLAG_ATTRIBUTES, parse_attributes
from portal.orders.models import Product

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")
MAX_NAME = 120
MAX_DESCRIPTION = 2000
PRODUCT_FIELDS = (
    "code",
    "name",
    "description",
    "needs_site_visit",
    "service_id",
    "needs_partner_visit",
    "attributes",
    "active",
)

register_entity("products", "product", label=lambda p: f"{p.name} ({p.code})")


@dataclass(frozen=True)
class ProductData:
    """What a manager sets on a product; `attributes` as `key=value` lines."""

    code: str
    name: str
    description: str = ""
    needs_site_visit: bool = False
    service_id: int | None = None
    needs_partner_visit: bool = False
    attributes: str = ""


def list_products(session: so.Session) -> list[Product]:
    """Every product, those on sale first, by code."""
    query = (
        sa.select(Product)
        .options(so.joinedload(Product.service))
        .order_by(Product.active.desc(), Product.code)
    )
    return list(session.scalars(query))


def product_by_code(session: so.Session, code: str) -> Product | None:
    return session.scalar(sa.select(Product).where(Product.code == clean_code(code)))


def bookable_services(session: so.Session) -> list[Service]:
    """The services a product's site visit may book (active ones), by name."""
    return list(session.scalars(sa.select(Service).where(Service.active).order_by(Service.name)))


def clean_code(code: str | None) -> str:
    """A code as stored: trimmed, upper case ("fibre-install " is "FIBRE-INSTALL")."""
    return (code or "").strip().upper()


def create_product(session: so.Session, data: ProductData, *, by: Any = None) -> Product:
    """A new product, on sale at once."""
    product = Product(active=True)
    _apply(session, product, data)
    session.add(product)
    _flush_unique(session, product.code)
    record_change(session, by, "create", product, None, _state(product))
    return product


def update_product(
    session: so.Session, product: Product, data: ProductData, *, by: Any = None
) -> Product:
    """Change a product. Orders already approved keep the work orders they made."""
    before = _state(product)
    _apply(session, product, data)
    _flush_unique(session, product.code)
    record_change(session, by, "update", product, before, _state(product))
    return product


def deactivate_product(session: so.Session, product: Product, *, by: Any = None) -> Product:
    """Stop selling a product: new orders cannot add it; what exists keeps it."""
    return _set_active(session, product, False, by)


def reactivate_product(session: so.Session, product: Product, *, by: Any = None) -> Product:
    """Sell a deactivated product again."""
    return _set_active(session, product, True, by)


def _set_active(session: so.Session, product: Product, active: bool, by: Any) -> Product:
    before = _state(product)
    product.active = active
    session.flush()
    action = "reactivate" if active else "deactivate"
    record_change(session, by, action, product, before, _state(product))
    return product


def _state(product: Product) -> dict:
    return snapshot(product, *PRODUCT_FIELDS)


def _apply(session: so.Session, product: Product, data: ProductData) -> None:
    code = clean_code(data.code)
    if not code:
        raise Invalid("Enter a code, such as FIBRE-INSTALL.", field="code")
    if not CODE_RE.match(code):
        raise Invalid(
            "A code has letters, digits and dashes only (at most 40), starting with a "
            "letter or digit.",
            field="code",
        )
    taken = session.scalar(
        sa.select(Product.id).where(Product.code == code, Product.id != (product.id or 0))
    )
    if taken is not None:
        raise Invalid(f"Another product has the code {code}.", field="code")
    name = " ".join((data.name or "").split())
    if not name:
        raise Invalid("Enter a name for the product.", field="name")
    if len(name) > MAX_NAME:
        raise Invalid(f"Use at most {MAX_NAME} characters.", field="name")
    description = (data.description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(f"Use at most {MAX_DESCRIPTION} characters.", field="description")
    try:
        attributes = parse_attributes(data.attributes, reserved=FLAG_ATTRIBUTES)
    except ValueError as err:
        raise Invalid(str(err), field="attributes") from None
    service = None
    if data.needs_site_visit:
        service = session.get(Service, data.service_id) if data.service_id else None
        if service is None:
            raise Invalid("Choose the service a site visit books.", field="service_id")
        if not service.active and service.id != product.service_id:
            raise Invalid(
                f"{service.name} cannot be booked: choose an active service.", field="service_id"
            )
    product.code = code
    product.name = name
    product.description = description
    product.needs_site_visit = bool(data.needs_site_visit)
    product.service = service
    product.service_id = service.id if service else None
    product.needs_partner_visit = bool(data.needs_partner_visit)
    product.attributes = attributes


def _flush_unique(session: so.Session, code: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:  # a product with that code was saved a moment ago
        raise Invalid(f"Another product has the code {code}.", field="code") from None
