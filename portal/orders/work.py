"""The work orders an order makes and unmakes.

`make_work_orders` turns planned work orders (portal/orders/planning.py) into rows in a
few statements (approval makes hundreds at once): the work orders (owner "order",
status "new"), the links to their lines (the unique index on live (line, product, unit)
is the backstop against a second set), a back-office row's tasks waiting in its queue,
a "created" entry on each work order's timeline and a work note on the order each; then
the line's site contact gets a "book your visit" e-mail for each field work order.

`cancel_work` ends one of them: its booked appointment is cancelled through booking's
own service (the customer is told, the agents freed, the work order cancelled through
the status service), or, without one, its open tasks and the work order are cancelled
through the status service. Either way the order hears of it as a watcher.
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, User
from portal.booking.lifecycle import cancel_appointment
from portal.booking.models import Appointment, Service
from portal.booking.states import CLOSED_STATES
from portal.booking.steps import Actor
from portal.db import insert_many
from portal.errors import NotAllowed
from portal.orders.models import Order, OrderLine, OrderWorkOrder
from portal.orders.notes import SUBJECT, insert_notes, note, note_rows
from portal.orders.planning import PlannedWorkOrder
from portal.queues.models import Queue
from portal.queues.services import notify_queue
from portal.timeutil import now_utc
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrder, WorkOrderTask
from portal.workorders.queue_tasks import WAITING_LINK
from portal.workorders.status import set_task_status, set_work_order_status

try:  # booking's signed visit links (portal/booking/visit_links.py)
    from portal.booking.visit_links import send_visit_link as _send_visit_link
except ImportError:  # a branch without them: the work note says no link went out
    _send_visit_link = None

FINAL = ("closed", "cancelled")


def send_visit_link(
    session: so.Session,
    order: Order,
    work_order: WorkOrder,
    contact: Contact | None,
    service: Service | None,
    *,
    by: User | None,
    notes: list[dict] | None = None,
) -> bool:
    """E-mail the site contact a link to book the field visit of `work_order`, and say so
    in a work note on the order (appended to `notes` as a row for `insert_notes`, when
    given: approval writes hundreds at once). False when no link could be sent."""
    if _send_visit_link is None or contact is None or service is None:
        why = "no site contact" if contact is None else "visit links are not available"
        text = f"{work_order.number}: visit link not sent ({why}); a scheduler books it."
    else:
        _send_visit_link(session, work_order, contact, service, by=by)
        text = f"{work_order.number}: visit link sent to {contact.full_name} ({service.name})"
    if notes is None:
        note(session, order, "visit_link", by=by, work_order=work_order, text=text)
    else:
        notes.extend(
            note_rows(order, [("visit_link", work_order.number, text)], by=by, at=now_utc())
        )
    return _send_visit_link is not None and contact is not None and service is not None


def make_work_orders(
    session: so.Session,
    order: Order,
    lines: dict[int, OrderLine],
    planned: list[PlannedWorkOrder],
    *,
    by: User | None,
    why: str = "",
) -> list[WorkOrder]:
    """Create the `planned` work orders of `order` (lines by id), with links, tasks,
    timeline entries, work notes and visit links; returns them in plan order."""
    if not planned:
        return []
    at = now_utc()
    rows = [
        {
            "account_id": order.account_id,
            "contact_id": lines[p.line_id].contact_id,
            "location_id": lines[p.line_id].location_id,
            "status": "new",
            "owner_kind": "order",
            "summary": p.summary,
            "description": f"{order.number}, line {p.line_position} ({p.location_label}): "
            f"{p.product_code} #{p.unit}",
            "created_at": at,
            "updated_at": at,
        }
        for p in planned
    ]
    work_orders = list(
        session.scalars(
            sa.insert(WorkOrder).returning(WorkOrder, sort_by_parameter_order=True), rows
        )
    )
    insert_many(
        session,
        OrderWorkOrder.__table__,
        [
            {
                "order_id": order.id,
                "line_id": p.line_id,
                "work_order_id": wo.id,
                "product_id": p.product_id,
                "unit": p.unit,
                "decision_row_id": p.row_id,
                "created_at": at,
                "superseded_at": None,
            }
            for p, wo in zip(planned, work_orders, strict=True)
        ],
    )
    _queue_tasks(session, order, planned, work_orders, by, at)
    timeline = []
    for p, wo in zip(planned, work_orders, strict=True):
        kind = "field visit" if p.needs_appointment else "back office"
        timeline.append(
            {
                "subject_type": WorkOrder.__name__,
                "subject_id": wo.id,
                "work_order_id": wo.id,
                "actor_id": by.id if by else None,
                "on_behalf_of_id": None,
                "at": at,
                "action": "created",
                "field": None,
                "old_value": None,
                "new_value": None,
                "note": f"From order {order.number}, line {p.line_position}",
                "visibility": "internal",
            }
        )
        timeline.append(
            {
                "subject_type": SUBJECT,
                "subject_id": order.id,
                "work_order_id": None,
                "actor_id": by.id if by else None,
                "on_behalf_of_id": None,
                "at": at,
                "action": "work_order_created",
                "field": wo.number,
                "old_value": None,
                "new_value": "new",
                "note": f"{wo.number} created for line {p.line_position}: {p.summary} ({kind})"
                + (f"; {why}" if why else ""),
                "visibility": "internal",
            }
        )
    for line in {lines[p.line_id] for p in planned}:
        session.expire(line, ["work_order_links"])
    services = {}
    for p, wo in zip(planned, work_orders, strict=True):
        if not p.needs_appointment:
            continue
        if p.service_id not in services:
            services[p.service_id] = session.get(Service, p.service_id)
        line = lines[p.line_id]
        send_visit_link(
            session, order, wo, line.contact, services[p.service_id], by=by, notes=timeline
        )
    insert_notes(session, timeline)
    session.flush()
    return work_orders


def _queue_tasks(session, order, planned, work_orders, by, at) -> None:
    """A back-office work order's tasks wait in its row's queue (one per task title, or
    one named for the work when the row lists none); each queue's members are told once."""
    tasks = []
    per_queue: Counter[int] = Counter()
    for p, wo in zip(planned, work_orders, strict=True):
        if p.queue_id is None:
            continue
        for title in p.tasks or (p.summary,):
            tasks.append(
                {
                    "work_order_id": wo.id,
                    "queue_id": p.queue_id,
                    "title": str(title)[:200],
                    "status": "open",
                    "created_at": at,
                    "created_by_id": by.id if by else None,
                }
            )
            per_queue[p.queue_id] += 1
    insert_many(session, WorkOrderTask.__table__, tasks)
    for queue_id, count in per_queue.items():
        queue = session.get(Queue, queue_id)
        what = "a task" if count == 1 else f"{count} tasks"
        notify_queue(
            session,
            queue,
            f"{order.number}: {what} for {order.account.name}",
            WAITING_LINK,
            dedupe_key=f"order-tasks:{order.id}:{queue_id}:{at.isoformat()}",
            skip_user_id=by.id if by else None,
        )


def live_appointment(session: so.Session, work_order: WorkOrder) -> Appointment | None:
    return session.scalar(
        sa.select(Appointment)
        .where(
            Appointment.work_order_id == work_order.id,
            Appointment.status.not_in(tuple(CLOSED_STATES)),
        )
        .order_by(Appointment.id.desc())
        .limit(1)
    )


def cancel_work(
    session: so.Session, work_order: WorkOrder, *, by: User | None, reason: str
) -> None:
    """Cancel one of an order's work orders (and its booked visit, the customer told)."""
    appointment = live_appointment(session, work_order)
    if appointment is not None:
        if by is None or not by.has_role("scheduler"):
            raise NotAllowed(
                f"{work_order.number} has a booked visit ({appointment.number}): a scheduler "
                "cancels it."
            )
        cancel_appointment(session, appointment, Actor(by), reason)
        link = session.scalar(
            sa.select(OrderWorkOrder).where(OrderWorkOrder.work_order_id == work_order.id)
        )
        if link is not None:
            note(
                session,
                session.get(Order, link.order_id),
                "visit_cancelled",
                by=by,
                work_order=work_order,
                text=f"{work_order.number}: visit {appointment.number} cancelled ({reason}); "
                "the customer is told",
            )
    for task in list(work_order.tasks):
        if task.status in ACTIVE_TASK_STATES:
            set_task_status(session, task, "cancelled", by=by, why=reason)
    if work_order.status not in FINAL:
        set_work_order_status(session, work_order, "cancelled", by=by, why=reason)
