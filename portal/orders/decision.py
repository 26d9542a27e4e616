"""The decision table's evaluation: which row a product on a line matches. Pure, standard
library only; portal/orders/planning.py feeds it plain facts from the database.

A row's conditions are all that are set (an unset one matches anything): the product, the
product's attributes (each must equal the row's value), the location's territory, the
start of its postal code. Rows are tried in order; the first that matches wins. A default
row matches every product, so it belongs at the end.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# The placeholders a work order's summary template may use.
PLACEHOLDERS = ("product", "code", "location")
# A product's own flags, kept in their own columns; a row may test them like attributes.
FLAG_ATTRIBUTES = ("needs_site_visit", "needs_partner_visit")
ATTRIBUTE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_ATTRIBUTES = 20
MAX_ATTRIBUTE_VALUE = 200


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


def same_value(have: object, wanted: object) -> bool:
    """An attribute equals a row's test: booleans exactly, text without regard to case or
    surrounding spaces ("Broadband" is "broadband")."""
    if isinstance(have, str) and isinstance(wanted, str):
        return have.strip().casefold() == wanted.strip().casefold()
    return have == wanted and type(have) is type(wanted)


def matches(row: RowFacts, product: ProductFacts, location: LocationFacts) -> bool:
    if row.is_default:
        return True
    if row.product_id is not None and row.product_id != product.id:
        return False
    for name, wanted in row.attributes.items():
        if not same_value(product.attributes.get(name), wanted):
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
    try:
        text = " ".join(template.format_map(values).split()) if template else ""
    except (ValueError, IndexError, AttributeError, KeyError):  # checked when saved; never a 500
        text = template
    return (text or f"{product.name} at {location.label}")[:200]


def template_problem(template: str) -> str | None:
    """What is wrong with a summary template, in words, or None: only {product}, {code}
    and {location} may appear, and braces must pair up."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return "A brace is not closed: write placeholders as {product}, {code} or {location}."
    for _text, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            return (
                f"{shown} is not a placeholder we know: use {{product}}, {{code}} or {{location}}."
            )
    return None


def parse_attributes(text: str, *, reserved: Iterable[str] = ()) -> dict[str, str | bool]:
    """`key=value` lines as a dict: keys lower case (letters, digits, underscores), values
    trimmed text, "true" and "false" as booleans. Blank lines are skipped. Raises
    ValueError with a message naming the line for anything else."""
    found: dict[str, str | bool] = {}
    refused = set(reserved)
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        key = "_".join(key.strip().lower().split())
        value = value.strip()
        if not sep or not key:
            raise ValueError(f"Line {number} ({line[:40]}): write it as key=value.")
        if not ATTRIBUTE_KEY.match(key):
            raise ValueError(
                f"Line {number}: “{key[:40]}” is not a key we can use: start with a letter, "
                "then letters, digits or underscores (at most 40)."
            )
        if key in refused:
            raise ValueError(f"Line {number}: {key} is set by its own box above.")
        if key in found:
            raise ValueError(f"Line {number}: {key} is given twice.")
        if not value:
            raise ValueError(f"Line {number}: give {key} a value.")
        if len(value) > MAX_ATTRIBUTE_VALUE:
            raise ValueError(f"Line {number}: use at most {MAX_ATTRIBUTE_VALUE} characters.")
        lowered = value.lower()
        found[key] = True if lowered == "true" else False if lowered == "false" else value
    if len(found) > MAX_ATTRIBUTES:
        raise ValueError(f"Use at most {MAX_ATTRIBUTES} attributes.")
    return found


def attributes_text(attributes: Mapping[str, object]) -> str:
    """The `key=value` lines `parse_attributes` reads back to the same dict."""
    lines = []
    for key, value in attributes.items():
        shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
        lines.append(f"{key}={shown}")
    return "\n".join(lines)
