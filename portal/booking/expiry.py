"""Confirmation requests that went unanswered past the scheduler's deadline.

PRODUCT.md: "a confirmation request whose deadline passes locks self-service and alerts
the scheduler". The lock itself needs no job: `lifecycle.self_service_block` refuses
customer moves and cancellations once `confirm_deadline` has passed. What needs a job is
the moment it passes: the scheduler process marks the appointment (`confirm_expired_at`),
writes the timeline and tells the customer and every scheduler, once.

Once, even when two scheduler processes run this at the same instant: the rows are
claimed by one conditional UPDATE (`... WHERE confirm_expired_at IS NULL`), and only the
rows this call claimed are announced. On PostgreSQL a second UPDATE waits for the first
transaction's row locks and then finds the rows taken; on SQLite the write lock taken by
BEGIN IMMEDIATE lets one claim at a time. The claim and the announcements commit
together, so a crash in between leaves the rows to be claimed again.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.booking.announce import announce
from portal.booking.models import Appointment
from portal.workorders.services import record

EXPIRED_NOTE = "Not confirmed by the deadline: self-service is locked and the schedulers were told."


def expire_confirmations(session: so.Session, now: datetime) -> int:
    """Mark accepted appointments whose confirmation deadline passed before `now`, and
    announce each once; returns how many this call claimed. Flushes, never commits."""
    claimed = session.scalars(
        sa.update(Appointment)
        .where(
            Appointment.status == "accepted",
            Appointment.confirm_deadline < now,
            Appointment.confirm_expired_at.is_(None),
        )
        .values(confirm_expired_at=now)
        .returning(Appointment.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return 0
    appointments = session.scalars(
        sa.select(Appointment)
        .where(Appointment.id.in_(claimed))
        .order_by(Appointment.id)
        .execution_options(populate_existing=True)
    ).all()
    for appointment in appointments:
        record(
            session,
            appointment,
            "confirmation_expired",
            actor=None,
            work_order_id=appointment.work_order_id,
            note=EXPIRED_NOTE,
            visibility="customer",
        )
        announce(session, "confirmation_expired", appointment)
    session.flush()
    return len(appointments)
