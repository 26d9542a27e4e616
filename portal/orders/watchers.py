"""The order follows its work orders: registered by the app factory with
`watch("order", "orders", order_follows_its_work)`, so the work-order code knows nothing of
orders.

Every status change of an order's work order (cancellations too) becomes a work note on
the order: which work order, who, old -> new and why. A work order that starts puts its
line past its point of no return ("WO-000123 started"). Then the order's status follows
its work (portal/orders/lifecycle.py `settle`).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.orders.lifecycle import settle
from portal.orders.models import Order, OrderLine
from portal.orders.notes import note, words
from portal.orders.queries import link_of
from portal.timeutil import now_utc
from portal.workorders.models import WorkOrder
from portal.workorders.watchers import StatusChange


def order_follows_its_work(session: so.Session, change: StatusChange) -> None:
    """Watcher of the work orders orders own (see the module)."""
    work_order = change.subject
    if not isinstance(work_order, WorkOrder):
        return  # a task's moves are the work order's own business
    link = link_of(session, work_order.id)
    if link is None:
        return
    order = session.get(Order, link.order_id)
    text = f"{work_order.number}: {words(change.old)} → {words(change.new)}"
    if change.why:
        text += f" ({change.why})"
    note(
        session,
        order,
        "work_order",
        by=change.by,
        work_order=work_order,
        old=change.old,
        new=change.new,
        text=text,
    )
    if change.new == "in_progress" and link.superseded_at is None:
        passed = session.execute(
            sa.update(OrderLine)
            .where(OrderLine.id == link.line_id, OrderLine.ponr_at.is_(None))
            .values(
                ponr_at=now_utc(),
                ponr_by_id=change.by.id if change.by is not None else None,
                ponr_reason=f"{work_order.number} started",
            )
            .execution_options(synchronize_session=False)
        )
        if passed.rowcount == 1:
            line = session.get(OrderLine, link.line_id)
            session.refresh(line)
            note(
                session,
                order,
                "ponr",
                by=change.by,
                work_order=work_order,
                text=f"Line {line.position} is past its point of no return: "
                f"{work_order.number} started",
            )
    settle(session, order, by=change.by)
