"""The decision table's evaluation: which row a product on a line matches. Pure, standard
library only; portal/orders/planning.py feeds it plain facts from the database.

A row's conditions are all that are set (an unset one matches anything): the product, the
product's attributes (each must equal the row's value), the location's territory, the
start of its postal code. Rows are tried in order; the first that matches wins. A default
row matches every product, so it belongs at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProductFacts:
    id: int
    code: str
    name: str
    # The catalogue's attributes with needs_site_visit and needs_partner_visit among them.
    attributes: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class LocationFacts:
    territory_id: int | None
    postal_code: str
    label: str


@dataclass(frozen=True)
class RowFacts:
    id: int
    position: int
    is_default: bool = False
    product_id: int | None = None
    attributes: Mapping[str, object] = field(default_factory=dict)
    territory_id: int | None = None
    postal_prefix: str | None = None


def postal_key(code: str | None) -> str:
    """A postal code compared without spaces or case: "sw1a 1aa" → "SW1A1AA"."""
    return "".join((code or "").split()).upper()


def matches(row: RowFacts, product: ProductFacts, location: LocationFacts) -> bool:
    if row.is_default:
        return True
    if row.product_id is not None and row.product_id != product.id:
        return False
    for name, wanted in row.attributes.items():
        if product.attributes.get(name) != wanted:
            return False
    if row.territory_id is not None and row.territory_id != location.territory_id:
        return False
    prefix = postal_key(row.postal_prefix)
    return not prefix or postal_key(location.postal_code).startswith(prefix)


def first_match(
    rows: Iterable[RowFacts], product: ProductFacts, location: LocationFacts
) -> RowFacts | None:
    """The first row, by position, that matches; None when none does."""
    for row in sorted(rows, key=lambda r: r.position):
        if matches(row, product, location):
            return row
    return None


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def summary_text(template: str, product: ProductFacts, location: LocationFacts) -> str:
    """The work order's summary from the row's template: {product}, {code}, {location}
    (an unknown placeholder stays as written)."""
    values = _Blank(product=product.name, code=product.code, location=location.label)
    text = " ".join(template.format_map(values).split()) if template else ""
    return (text or f"{product.name} at {location.label}")[:200]
