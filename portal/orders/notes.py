"""An order's work notes: its activity, as timeline entries whose subject is the order.

Everything that happens to an order is written here, by whoever did it: its own status
changes (placed, approved, ready to close, ...), the work orders it made, every status
change of those work orders (heard as a watcher, portal/orders/watchers.py), in-flight
changes, points of no return. An entry about one of the order's work orders names it in
`field` ("WO-000123") and carries old and new status in `old_value`/`new_value`; it does
not set `work_order_id`, so the work order's own timeline does not show it twice.

`set_order_status` is the one place an order's status changes (after approval's
conditional UPDATE, which writes its note here too).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.db import insert_many
from portal.errors import Conflict
from portal.orders.models import Order
from portal.timeutil import now_utc
from portal.workorders.models import TimelineEntry, WorkOrder
from portal.workorders.services import record

SUBJECT = Order.__name__  # TimelineEntry.subject_type of an order's notes

# Which order status may follow which; anything else is refused.
ORDER_MOVES: dict[str, frozenset[str]] = {
    "draft": frozenset({"placed", "cancelled"}),
    "placed": frozenset({"approved", "rejected", "cancelled"}),
    "approved": frozenset({"in_fulfilment", "ready_to_close", "cancelled"}),
    "in_fulfilment": frozenset({"ready_to_close", "cancelled"}),
    "ready_to_close": frozenset({"in_fulfilment", "closed", "cancelled"}),
    "closed": frozenset(),
    "rejected": frozenset(),
    "cancelled": frozenset(),
}


def words(status: str) -> str:
    """ "in_fulfilment" -> "in fulfilment"."""
    return status.replace("_", " ")


def note(
    session: so.Session,
    order: Order,
    action: str,
    *,
    by: User | None,
    text: str = "",
    work_order: WorkOrder | None = None,
    old: str | None = None,
    new: str | None = None,
    visibility: str = "internal",
    field: str | None = None,
) -> TimelineEntry:
    """Write one work note on the order (naming `work_order` when it is about one; else
    `field` says what changed, "status" for the order's own)."""
    return record(
        session,
        order,
        action,
        actor=by,
        field=work_order.number if work_order is not None else field,
        old=old,
        new=new,
        note=text,
        visibility=visibility,
    )


def note_rows(
    order: Order,
    notes: list[tuple[str, str | None, str]],
    *,
    by: User | None,
    at: datetime,
) -> list[dict]:
    """Rows for `insert_notes`: (action, work order number or None, text) each."""
    return [
        {
            "subject_type": SUBJECT,
            "subject_id": order.id,
            "work_order_id": None,
            "actor_id": by.id if by is not None else None,
            "on_behalf_of_id": None,
            "at": at,
            "action": action,
            "field": number,
            "old_value": None,
            "new_value": None,
            "note": text,
            "visibility": "internal",
        }
        for action, number, text in notes
    ]


def insert_notes(session: so.Session, rows: list[dict]) -> None:
    """Write many timeline rows (of any subject) in one statement: approval's hundreds."""
    insert_many(session, TimelineEntry.__table__, rows)


def set_order_status(
    session: so.Session, order: Order, new: str, *, by: User | None, why: str = ""
) -> None:
    """Move the order to `new` if the table allows it, and note it."""
    old = order.status
    if old == new:
        return
    if new not in ORDER_MOVES[old]:
        raise Conflict(f"{order.number} is {words(old)}, so it cannot become {words(new)}.")
    order.status = new
    at = now_utc()
    stamp = {
        "approved": "approved_at",
        "rejected": "rejected_at",
        "cancelled": "cancelled_at",
        "ready_to_close": "ready_at",
        "closed": "closed_at",
        "placed": "placed_at",
    }.get(new)
    if stamp:
        setattr(order, stamp, at)
    record(
        session,
        order,
        "status",
        actor=by,
        field="status",
        old=old,
        new=new,
        note=why,
        visibility="customer" if new not in ("draft", "placed", "rejected") else "internal",
    )


def work_notes(
    session: so.Session, order: Order, *, include_internal: bool = True, limit: int | None = None
) -> list[TimelineEntry]:
    """The order's notes, newest first, with who wrote them."""
    query = (
        sa.select(TimelineEntry)
        .where(TimelineEntry.subject_type == SUBJECT, TimelineEntry.subject_id == order.id)
        .options(so.joinedload(TimelineEntry.actor))
        .order_by(TimelineEntry.at.desc(), TimelineEntry.id.desc())
    )
    if not include_internal:
        query = query.where(TimelineEntry.visibility == "customer")
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
