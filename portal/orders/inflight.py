"""Changes to an approved order: editing a line before its point of no return, setting
that point by hand, cancelling the whole order while no line has passed it.

`edit_line` re-plans the line with the decision table version the order was approved
with: work orders it now needs are made, those it no longer needs are superseded and
cancelled (a booked visit through booking's own cancellation, so the customer is told);
a new address supersedes every work order of the line (its booked visits cancelled) and
sends new visit links; a new site contact takes over the line's work orders and gets
the links of the visits not yet booked. All of it in one savepoint (a refusal changes
nothing), each step a work note. A line past its point of no return is locked: the
refusal says why, by whom and when the point was set.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, ServiceLocation, User
from portal.errors import Conflict, Invalid, NotFound
from portal.orders.lifecycle import settle
from portal.orders.models import DecisionRow, Order, OrderLine
from portal.orders.notes import note, set_order_status, words
from portal.orders.planning import plan_lines
from portal.orders.queries import (
    ENDED,
    FINAL_WORK,
    IN_FLIGHT,
    lines_past_ponr,
    live_links,
    lock_order,
)
from portal.orders.services import (
    check_contact,
    check_location,
    clean_items,
    clean_reason,
    replace_items,
    require_handler,
    set_items,
    set_line_contact,
)
from portal.orders.work import cancel_work, make_work_orders, send_visit_link
from portal.timeutil import now_utc, to_local

SET_BY_HAND = "set by hand"


# --- the point of no return ----------------------------------------------------------------


def ponr_words(line: OrderLine, zone: str) -> str:
    """ "Line 2 is past its point of no return (set by hand by Olu Adebayo on Sat 5 Dec
    16:40 GMT): it cannot change." with the moment in `zone`."""
    who = f" by {line.ponr_by.full_name}" if line.ponr_by_id is not None else ""
    when = f"{to_local(line.ponr_at, zone):%a %-d %b %H:%M %Z}"
    reason = line.ponr_reason or SET_BY_HAND
    return (
        f"Line {line.position} is past its point of no return ({reason}{who} on {when}): "
        "it cannot change."
    )


def ponr_block(line: OrderLine, zone: str) -> str | None:
    """Why the line cannot change now, or None (the page hides the form with it)."""
    return ponr_words(line, zone) if line.ponr_at is not None else None


def _lock_line(session: so.Session, line: OrderLine) -> OrderLine:
    locked = session.scalar(
        sa.select(OrderLine)
        .where(OrderLine.id == line.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise NotFound("There is no such line.")
    return locked


def set_ponr(session: so.Session, line: OrderLine, *, by: User) -> OrderLine:
    """The agent locks the line by hand: from now on it cannot change."""
    require_handler(session, by)
    order = line.order
    if order.status not in ("placed", *IN_FLIGHT):
        raise Conflict(
            f"{order.number} is {words(order.status)}: a point of no return is set on a "
            "placed or approved order."
        )
    line = _lock_line(session, line)
    if line.ponr_at is not None:
        return line
    line.ponr_at = now_utc()
    line.ponr_by_id = by.id
    line.ponr_reason = SET_BY_HAND
    line.ponr_by = by
    session.flush()
    note(
        session,
        order,
        "ponr",
        by=by,
        text=f"Line {line.position} is past its point of no return ({SET_BY_HAND})",
    )
    return line


# --- editing a line ------------------------------------------------------------------------


def edit_line(
    session: so.Session,
    line: OrderLine,
    *,
    items: Mapping[int, int] | None = None,
    location: ServiceLocation | None = None,
    contact: Contact | None = None,
    by: User,
) -> OrderLine:
    """Change a line's products and quantities, address or site contact: a draft's simply,
    an approved order's before the line's point of no return, its work following."""
    require_handler(session, by)
    order = line.order
    if order.status == "draft":
        return _edit_draft(session, line, items=items, location=location, contact=contact, by=by)
    # The order first, then the line: a closure or cancellation at the same moment waits
    # for this change (or this one for it), so no work is made on a closed order.
    order = lock_order(session, order)
    if order.status not in IN_FLIGHT:
        raise Conflict(f"{order.number} is {words(order.status)}: its lines cannot change now.")
    line = _lock_line(session, line)
    if line.ponr_at is not None:
        raise Invalid(ponr_words(line, by.time_zone))
    with session.begin_nested():
        _edit_in_flight(session, order, line, items, location, contact, by)
    session.flush()
    return line


def _edit_draft(session, line, *, items, location, contact, by) -> OrderLine:
    if items is not None:
        set_items(session, line, items, by=by)
    if location is not None and location.id != line.location_id:
        _move_line(session, line, location, by)
    if contact is not None:
        set_line_contact(session, line, contact, by=by)
    return line


def _move_line(session, line: OrderLine, location: ServiceLocation, by: User) -> None:
    check_location(line.order, location)
    taken = session.scalar(
        sa.select(OrderLine.position).where(
            OrderLine.order_id == line.order_id,
            OrderLine.location_id == location.id,
            OrderLine.id != line.id,
        )
    )
    if taken is not None:
        raise Invalid(
            f"Line {taken} is for {location.label} already: one line per address.",
            field="location",
        )
    old = line.location.label
    line.location_id = location.id
    line.location = location
    session.flush()
    note(
        session,
        line.order,
        "in_flight",
        by=by,
        old=old,
        new=location.label,
        text=f"Line {line.position} moved from {old} to {location.label}",
    )


def _edit_in_flight(session, order: Order, line: OrderLine, items, location, contact, by):
    moved = False
    if items is not None:
        cleaned = clean_items(session, items)
        if not cleaned:
            raise Invalid(
                "A line needs at least one product: cancel the order to drop all of its work.",
                field="items",
            )
        changes = replace_items(session, line, cleaned)
        if changes:
            note(
                session,
                order,
                "in_flight",
                by=by,
                text=f"Line {line.position}: " + "; ".join(changes),
            )
    if location is not None and location.id != line.location_id:
        _move_line(session, line, location, by)
        moved = True
    new_contact = None
    if contact is not None and contact.id != line.contact_id:
        check_contact(order, contact)
        old = line.contact.full_name if line.contact else None
        line.contact_id = contact.id
        line.contact = contact
        new_contact = contact
        note(
            session,
            order,
            "in_flight",
            by=by,
            old=old,
            new=contact.full_name,
            text=f"Line {line.position}: site contact {contact.full_name}",
        )
    session.flush()
    session.expire(line, ["items", "location", "contact"])
    _follow(session, order, line, moved=moved, new_contact=new_contact, by=by)


def _follow(session, order, line, *, moved: bool, new_contact: Contact | None, by: User):
    """Make the line's work orders what its plan says now (see the module)."""
    plan = plan_lines([line], order.decision_table)
    if not plan.ok:
        raise Invalid(" ".join(plan.problems()))
    live = live_links(session, order, line=line)
    wanted = {(p.product_id, p.unit): p for p in plan.work_orders}
    if moved:
        surplus = live
        missing = list(plan.work_orders)
    else:
        have = {(link.product_id, link.unit) for link in live}
        surplus = [link for link in live if (link.product_id, link.unit) not in wanted]
        missing = [p for key, p in wanted.items() if key not in have]
    at = now_utc()
    for link in surplus:  # no longer live: the unit may be made again below
        link.superseded_at = at
    session.flush()
    why = "address changed" if moved else "line changed"
    make_work_orders(session, order, {line.id: line}, missing, by=by, why=why)
    for link in surplus:
        if link.work_order.status not in FINAL_WORK:
            cancel_work(
                session,
                link.work_order,
                by=by,
                reason=f"{order.number} line {line.position} changed: no longer needed",
            )
    if new_contact is not None:
        _hand_to_contact(session, order, line, new_contact, surplus, by)
    settle(session, order, by=by)


def _hand_to_contact(session, order, line, contact: Contact, gone, by: User) -> None:
    """The new site contact takes over the line's live work orders; those whose visit is
    not booked yet get a new link (booking revokes the older one)."""
    gone_ids = {link.id for link in gone}
    for link in live_links(session, order, line=line):
        if link.id in gone_ids or link.work_order.status in FINAL_WORK:
            continue
        work_order = link.work_order
        if work_order.contact_id == contact.id:
            continue  # made just now, for this contact already
        work_order.contact_id = contact.id
        row = session.get(DecisionRow, link.decision_row_id) if link.decision_row_id else None
        if row is not None and row.needs_appointment and work_order.status == "new":
            send_visit_link(session, order, work_order, contact, row.service, by=by)
    session.flush()


# --- cancelling the order --------------------------------------------------------------------


def cancel(session: so.Session, order: Order, *, by: User, reason: str) -> Order:
    """Cancel the order and all its work, while no line has passed its point of no return."""
    require_handler(session, by)
    reason = clean_reason(reason, what="why the order is cancelled")
    order = lock_order(session, order)
    if order.status in ENDED:
        raise Conflict(f"{order.number} is {words(order.status)} already.")
    past = lines_past_ponr(session, order)
    if past:
        raise Invalid(
            f"{order.number} cannot be cancelled: "
            + " ".join(ponr_words(line, by.time_zone) for line in past)
        )
    with session.begin_nested():
        order.reason = reason
        set_order_status(session, order, "cancelled", by=by, why=reason)
        for link in live_links(session, order):
            if link.work_order.status not in FINAL_WORK:
                cancel_work(
                    session,
                    link.work_order,
                    by=by,
                    reason=f"{order.number} cancelled: {reason}",
                )
    session.flush()
    return order
