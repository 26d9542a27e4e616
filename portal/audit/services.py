"""Record a change to configuration or permissions, and read the log back (admins only).

`record_change(session, actor, action, entity, before, after)` is the one call a service
makes, in its own transaction, after it has applied the change and before the request
commits. `entity` is the changed ORM object (its type and label come from the registry
below; a later system adds one `register_entity` line, or nothing, and gets the defaults)
or an `Entity` for something that is not one row. `before` and `after` are plain dicts
of the fields that matter (`snapshot` makes one); what is kept is their difference.

Two kinds of value never reach the table, which cannot be changed afterwards:
- secrets (password and token hashes, webhook secrets, feed keys): a changed secret is
  recorded as changed, its value masked;
- a customer's personal details (name, e-mail, phone): the log outlives an anonymisation
  (portal/privacy), so customers are named by number and those fields are masked too.
Staff are named: who changed the configuration is what the log is for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from typing import Any, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.audit.models import AuditEntry
from portal.pagination import Page, paginate

T = TypeVar("T")

MASK = "********"
PERSONAL = "(personal data)"
# Field names whose values are secrets, whatever the record: masked, never stored.
SECRET_FIELD = re.compile(r"password|secret|token|hash|key|signature", re.IGNORECASE)
# A customer's personal details: not kept in a log that nothing can scrub later.
PERSONAL_FIELDS = frozenset({"full_name", "name", "email", "phone", "recipient"})
MAX_LABEL = 200
MAX_VALUE = 500


@dataclass(frozen=True)
class Entity:
    """A changed thing named by hand: `type` ("booking_policy"), its id and a label."""

    type: str
    id: int | None
    label: str


@dataclass(frozen=True)
class EntityKind:
    type: str
    label: Callable[[Any], str]
    # True when the record is about a customer: its personal fields are masked.
    personal: Callable[[Any], bool]


_KINDS: dict[str, EntityKind] = {}


def register_entity(
    table: str,
    type_name: str | None = None,
    *,
    label: Callable[[Any], str] | None = None,
    personal: Callable[[Any], bool] | None = None,
) -> None:
    """Say how the records of `table` are named in the log. Optional: without it the
    type is the table name and the label the record's name, title or number."""
    _KINDS[table] = EntityKind(
        type=type_name or table,
        label=label or _default_label,
        personal=personal or (lambda _obj: False),
    )


def _default_label(obj: Any) -> str:
    for attr in ("name", "title", "url", "label"):
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            return value
    return f"#{getattr(obj, 'id', '?')}"


def _user_is_customer(user: Any) -> bool:
    return not getattr(user, "is_staff", False)


def _user_label(user: Any) -> str:
    if _user_is_customer(user):
        return f"Customer user #{user.id}"
    return f"{user.full_name} ({user.role})"


register_entity("users", "user", label=_user_label, personal=_user_is_customer)
register_entity(
    "contacts", "contact", label=lambda c: f"Customer contact #{c.id}", personal=lambda _c: True
)
register_entity("customer_accounts", "customer_account", label=lambda a: f"Account #{a.id}")
register_entity("services", "service")
register_entity("booking_policy", "booking_policy", label=lambda _p: "Booking policy")
register_entity("agents", "agent", label=lambda a: a.name)
register_entity("time_off", "time_off", label=lambda t: f"Time off of {t.agent.name}")
register_entity("holidays", "holiday", label=lambda h: f"{h.name} ({h.day.isoformat()})")
register_entity("skills", "skill")
register_entity("territories", "territory")
register_entity("webhook_endpoints", "webhook_endpoint", label=lambda e: e.url)
register_entity(
    "api_tokens",
    "api_token",
    # A customer names its own tokens, perhaps after itself: those are numbered instead.
    label=lambda t: f"{t.name} ({t.hint}…)" if t.user.is_staff else f"API token #{t.id}",
    personal=lambda t: not t.user.is_staff,
)


def describe(entity: Any) -> tuple[Entity, bool]:
    """The entity's type, id and label, and whether it is about a customer."""
    if isinstance(entity, Entity):
        return entity, False
    table = getattr(entity, "__tablename__", type(entity).__name__.lower())
    kind = _KINDS.get(table) or EntityKind(table, _default_label, lambda _obj: False)
    found = Entity(kind.type, getattr(entity, "id", None), kind.label(entity)[:MAX_LABEL])
    return found, kind.personal(entity)


def jsonable(value: Any) -> Any:
    """A value as JSON can hold it: times as ISO text, collections as sorted lists."""
    if value is None or isinstance(value, bool | int | float | str):
        return value[:MAX_VALUE] if isinstance(value, str) else value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)[:MAX_VALUE]


def snapshot(obj: Any, *fields: str) -> dict[str, Any]:
    """`fields` of `obj` as plain values, for `before` and `after`."""
    return {name: jsonable(getattr(obj, name)) for name in fields}


def diff(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, *, personal: bool = False
) -> dict[str, dict[str, Any]]:
    """{field: {"old": ..., "new": ...}} for each field whose value differs; secrets (and,
    for a customer's record, personal details) show as masked."""
    before, after = before or {}, after or {}
    changes: dict[str, dict[str, Any]] = {}
    for name in [*before, *(k for k in after if k not in before)]:
        old, new = jsonable(before.get(name)), jsonable(after.get(name))
        if old == new:
            continue
        hide = (
            MASK
            if SECRET_FIELD.search(name)
            else PERSONAL
            if personal and name in PERSONAL_FIELDS
            else None
        )
        if hide is not None:
            old = None if old in (None, "") else hide
            new = None if new in (None, "") else hide
        changes[name] = {"old": old, "new": new}
    return changes


def record_change(
    session: so.Session,
    actor: Any,
    action: str,
    entity: Any,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    note: str = "",
) -> AuditEntry | None:
    """Add an audit entry for `action` by `actor` (a user, or None for the command line)
    on `entity`, in the caller's transaction. An update that changed nothing (both
    `before` and `after` given and equal) records nothing."""
    described, personal = describe(entity)
    changes = diff(before, after, personal=personal)
    if before is not None and after is not None and not changes:
        return None
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action[:40],
        entity_type=described.type[:40],
        entity_id=described.id,
        entity_label=described.label,
        changes=changes,
        note=note,
    )
    session.add(entry)
    session.flush()
    return entry


# --- reading ---------------------------------------------------------------------------------


def record_saved(
    session: so.Session,
    actor: Any,
    action: str,
    entity: T,
    before: Mapping[str, Any] | None,
    state: Callable[[T], Mapping[str, Any]],
) -> T:
    """Flush `entity` (it gets its id), record `action` with its `state` after the change,
    and hand it back: the last three lines of every audited create or update."""
    session.flush()
    record_change(session, actor, action, entity, before, state(entity))
    return entity


def list_entries(
    session: so.Session,
    *,
    entity_type: str | None = None,
    actor_id: int | None = None,
    page: int = 1,
    per_page: int = 25,
) -> Page:
    """Entries newest first, of one entity type and one actor when given."""
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    return paginate(session, query, page, per_page)


def entity_types(session: so.Session) -> list[str]:
    """The entity types the log holds, for the filter."""
    return list(
        session.scalars(
            sa.select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type)
        )
    )


def actor_ids(session: so.Session) -> list[int]:
    """The users who appear as actors, for the filter."""
    return list(
        session.scalars(
            sa.select(AuditEntry.actor_id)
            .where(AuditEntry.actor_id.is_not(None))
            .distinct()
            .order_by(AuditEntry.actor_id)
        )
    )


def changed_fields(entry: AuditEntry) -> Iterable[tuple[str, Any, Any]]:
    """(field, old, new) for the page."""
    for name, change in sorted((entry.changes or {}).items()):
        yield name, change.get("old"), change.get("new")
