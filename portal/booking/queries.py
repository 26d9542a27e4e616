"""Read-side queries for the customer's pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.booking.models import Appointment


@dataclass(frozen=True)
class AccountAppointments:
    upcoming: list[Appointment]
    past: list[Appointment]


def list_account_appointments(
    session: so.Session, account_id: int, now: datetime, *, limit: int = 20
) -> AccountAppointments:
    """The account's appointments: upcoming soonest first, then the latest past ones."""
    base = sa.select(Appointment).where(Appointment.account_id == account_id).options(
        so.joinedload(Appointment.service),
        so.joinedload(Appointment.location),
        so.joinedload(Appointment.work_order),
    )
    upcoming = session.scalars(
        base.where(Appointment.window_end >= now).order_by(Appointment.window_start).limit(limit)
    ).all()
    past = session.scalars(
        base.where(Appointment.window_end < now)
        .order_by(Appointment.window_start.desc())
        .limit(limit)
    ).all()
    return AccountAppointments(upcoming=list(upcoming), past=list(past))
