"""Record ids and page numbers read from outside (URLs, query strings, forms, the API),
and the unique codes records are known by.

Our keys are 32-bit INTEGER columns. A larger number names no record we have, but handed
to the database it fails instead of finding nothing (SQLite raises OverflowError,
PostgreSQL "integer out of range"), and `int()` itself refuses a Unicode digit that
`str.isdigit()` accepts ("²") or a number of thousands of digits. So every id a person
can type goes through `parse_id` first, as every id in a URL goes through `RecordId`.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
import sqlalchemy.orm as so

MAX_ID = 2_147_483_647  # the largest value of a 32-bit INTEGER key
_MAX_DIGITS = len(str(MAX_ID))


def parse_id(raw: object) -> int | None:
    """The id `raw` spells (ASCII decimal digits, 1..MAX_ID), or None for anything else.

    An int in range is taken as it is, so the same function can coerce form choices.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 1 <= raw <= MAX_ID else None
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit():
        return None
    digits = raw.lstrip("0")
    if len(digits) > _MAX_DIGITS:  # also keeps int() clear of its 4,300-digit limit
        return None
    value = int(digits or "0")
    return value if 1 <= value <= MAX_ID else None


def coerce_id(raw: object) -> int:
    """`parse_id` for a WTForms field's `coerce`: ValueError (the field's own error
    message) for anything that is not an id."""
    value = parse_id(raw)
    if value is None:
        raise ValueError("Not a valid choice.")
    return value


def coerce_optional_id(raw: object) -> int | None:
    """`coerce_id` for a select whose first choice is "any" or "none" (an empty value)."""
    if raw in (None, "", "None"):
        return None
    return coerce_id(raw)


def parse_page(raw: object) -> int:
    """A ?page= number: 1 for anything missing or malformed; a number past any list is
    MAX_ID, which `paginate` turns into the last page."""
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and raw.lstrip("0"):
        return parse_id(raw) or MAX_ID
    return 1


def unique_code(
    session: so.Session, column: sa.ColumnElement, name: str, *, sep: str, fallback: str
) -> str:
    """A code made from `name` that no row has in `column` yet: 'Gas safe engineer' ->
    'gas_safe_engineer' (`sep` "_"), then 'gas_safe_engineer_2' when that is taken; a name
    with no letters or digits starts from `fallback`."""
    base = re.sub(r"[^a-z0-9]+", sep, name.lower()).strip(sep)[:34] or fallback
    code, n = base, 1
    while session.scalar(sa.select(column).where(column == code)) is not None:
        n += 1
        code = f"{base}{sep}{n}"
    return code
