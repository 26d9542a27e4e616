"""The built-in case types and the contact centre's queue, made on first use.

Tests empty the tables and a database may be built without migration data, so nothing
here trusts that a row exists: each is found by its slug, or made (and a concurrent
maker's row taken when the unique slug refuses ours).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.cases.models import CaseOrigin, CaseStatus, CaseType
from portal.errors import Invalid
from portal.queues.models import Queue

SUPPORT = "support"
AGING = "aging"
# The queue that owns new portal cases: the contact centre, worked by the schedulers.
CONTACT_CENTRE = "support"
# The queue that owns aging cases (the aging reps); no assignment moves them elsewhere.
AGING_QUEUE = "aging"
AGING_ORIGIN = "Aging Case Import"
AGING_OPEN = "Open"
# The closed status the feed's rule sets when an account's oldest aging falls back.
AUTO_CLOSURE = "Auto Closure - Aging Days Under 5"
CLOSED = "Closed"
T = TypeVar("T")
IN_PROGRESS = "In progress"


@dataclass(frozen=True)
class TypeSpec:
    slug: str
    name: str
    statuses: tuple[tuple[str, str], ...]  # (name, meaning), in order; the first is initial
    origins: tuple[str, ...]


BUILT_IN = {
    SUPPORT: TypeSpec(
        SUPPORT,
        "Customer support",
        (
            ("New", "open"),
            (IN_PROGRESS, "open"),
            ("Waiting on customer", "waiting"),
            (CLOSED, "closed"),
        ),
        ("Portal", "Phone", "E-mail"),
    ),
    AGING: TypeSpec(
        AGING,
        "Aging",
        # The aging process uses Open and Closed only, and the rule's own closed status.
        ((AGING_OPEN, "open"), (AUTO_CLOSURE, "closed"), (CLOSED, "closed")),
        (AGING_ORIGIN,),
    ),
}


def case_type(session: so.Session, slug: str) -> CaseType:
    """The case type with this slug; the built-in ones are made when missing.

    Found once per session (an import may open thousands of cases): later calls take the
    row from the session's identity map."""
    known = session.info.setdefault("case_type_ids", {})
    if slug in known:
        cached = session.get(CaseType, known[slug])
        if cached is not None and cached.slug == slug:
            return cached
    found = session.scalar(sa.select(CaseType).where(CaseType.slug == slug))
    if found is not None:
        known[slug] = found.id
        return found
    spec = BUILT_IN.get(slug)
    if spec is None:
        raise Invalid(f"There is no case type {slug!r}.", field="case_type")
    return _get_or_make(session, lambda: _find_type(session, slug), lambda: _type_row(spec))


def contact_centre_queue(session: so.Session) -> Queue:
    """The contact centre's queue (slug "support"), made when missing."""

    def find() -> Queue | None:
        return session.scalar(sa.select(Queue).where(Queue.slug == CONTACT_CENTRE))

    def make() -> Queue:
        return Queue(
            slug=CONTACT_CENTRE,
            name="Contact centre",
            description="Customers' cases: the contact centre answers them or hands them on.",
        )

    return _get_or_make(session, find, make)


def aging_queue(session: so.Session) -> Queue:
    """The aging reps' queue (slug "aging"), made when missing."""

    def find() -> Queue | None:
        return session.scalar(sa.select(Queue).where(Queue.slug == AGING_QUEUE))

    def make() -> Queue:
        return Queue(
            slug=AGING_QUEUE,
            name="Aging",
            description="Accounts with aging confirmations: the aging reps reach the contact.",
        )

    return _get_or_make(session, find, make)


def status_of(case_type_row: CaseType, name: str) -> CaseStatus:
    """The status `name` of the type, or Invalid naming the ones it has."""
    for status in case_type_row.statuses:
        if status.name == name:
            return status
    names = ", ".join(s.name for s in case_type_row.statuses)
    raise Invalid(
        f"A {case_type_row.name} case has no status {name!r} (it has: {names}).", field="status"
    )


def first_status(case_type_row: CaseType, meaning: str) -> CaseStatus:
    """The type's first status with this meaning (the one a reopened case goes back to)."""
    for status in case_type_row.statuses:
        if status.meaning == meaning:
            return status
    raise Invalid(f"A {case_type_row.name} case has no {meaning} status.", field="status")


def closed_status(case_type_row: CaseType) -> CaseStatus:
    """ "Closed" when the type has it, else its first closed status."""
    for status in case_type_row.statuses:
        if status.name == CLOSED:
            return status
    return first_status(case_type_row, "closed")


def origin_names(case_type_row: CaseType) -> list[str]:
    return [origin.name for origin in case_type_row.origins]


def origins_of(session: so.Session, slug: str) -> list[str]:
    """The origins of the type, read without making anything (pages that only show)."""
    found = _find_type(session, slug)
    if found is not None:
        return origin_names(found)
    spec = BUILT_IN.get(slug)
    return list(spec.origins) if spec else []


def _find_type(session: so.Session, slug: str) -> CaseType | None:
    return session.scalar(sa.select(CaseType).where(CaseType.slug == slug))


def _type_row(spec: TypeSpec) -> CaseType:
    return CaseType(
        slug=spec.slug,
        name=spec.name,
        initial_status=spec.statuses[0][0],
        statuses=[
            CaseStatus(name=name, meaning=meaning, position=i)
            for i, (name, meaning) in enumerate(spec.statuses)
        ],
        origins=[CaseOrigin(name=name, position=i) for i, name in enumerate(spec.origins)],
    )


def _get_or_make(session: so.Session, find: Callable[[], T | None], make: Callable[[], T]) -> T:
    found = find()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            row = make()
            session.add(row)
    except sa.exc.IntegrityError:  # another transaction made it first
        row = find()
        if row is None:  # refused for another reason than a row made first
            raise
    return row
