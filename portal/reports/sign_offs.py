"""The sign-offs report: the count and the newest sign-offs in the range, and every one of
them in order for the CSV (read in pages, not loaded at once)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import CustomerAccount, User
from portal.booking.models import Appointment, Service, SignOff
from portal.reports.figures import Period, ReportParams, only_chosen, period_index, periods
from portal.workforce.models import Agent
from portal.workorders.models import WorkOrderTask


@dataclass(frozen=True)
class SignOffRow:
    work_order: str
    appointment_id: int
    account: str
    signed_by: str
    signed_at: datetime
    service: str
    agents: str


@dataclass(frozen=True)
class SignOffs:
    params: ReportParams
    count: int
    by_service: list[tuple[str, int]]
    series: list[tuple[Period, int]]
    latest: list[SignOffRow]


def _sign_off_query(params: ReportParams):
    query = (
        sa.select(SignOff, Appointment, Service.name, CustomerAccount.name)
        .join(Appointment, Appointment.id == SignOff.appointment_id)
        .join(Service, Service.id == Appointment.service_id)
        .join(CustomerAccount, CustomerAccount.id == Appointment.account_id)
        .where(SignOff.signed_at >= params.start, SignOff.signed_at < params.end)
    )
    return only_chosen(query, params)


def _agent_names(session: so.Session, appointment_ids: list[int]) -> dict[int, str]:
    names: dict[int, list[str]] = {}
    rows = session.execute(
        sa.select(WorkOrderTask.appointment_id, User.full_name)
        .join(Agent, Agent.id == WorkOrderTask.agent_id)
        .join(User, User.id == Agent.user_id)
        .where(WorkOrderTask.appointment_id.in_(appointment_ids), WorkOrderTask.status == "done")
        .order_by(WorkOrderTask.appointment_id, User.full_name)
    )
    for appointment_id, name in rows:
        names.setdefault(appointment_id, []).append(name)
    return {key: ", ".join(value) for key, value in names.items()}


def _rows(session: so.Session, results) -> list[SignOffRow]:
    results = list(results)
    agents = _agent_names(session, [appt.id for _s, appt, _n, _a in results])
    return [
        SignOffRow(
            work_order=f"WO-{appt.work_order_id:06d}",
            appointment_id=appt.id,
            account=account,
            signed_by=sign_off.full_name,
            signed_at=sign_off.signed_at,
            service=service,
            agents=agents.get(appt.id, ""),
        )
        for sign_off, appt, service, account in results
    ]


def sign_off_rows(
    session: so.Session, params: ReportParams, *, batch: int = 500
) -> Iterator[SignOffRow]:
    """Every sign-off of the report, oldest first, read `batch` rows at a time."""
    query = _sign_off_query(params).order_by(SignOff.signed_at, SignOff.id)
    offset = 0
    while True:
        chunk = _rows(session, session.execute(query.offset(offset).limit(batch)))
        yield from chunk
        if len(chunk) < batch:
            return
        offset += batch


def sign_offs(session: so.Session, params: ReportParams, *, latest: int = 40) -> SignOffs:
    covered = _sign_off_query(params).with_only_columns(SignOff.id, Appointment.service_id)
    covered = covered.subquery()
    count = session.scalar(sa.select(sa.func.count()).select_from(covered))
    n = sa.func.count().label("n")
    by_service = [
        (name, number)
        for name, number in session.execute(
            sa.select(Service.name, n)
            .join(covered, covered.c.service_id == Service.id)
            .group_by(Service.id, Service.name)
            .order_by(n.desc(), Service.name)
        )
    ]
    spans = periods(params)
    bucket = period_index(SignOff.signed_at, spans).label("bucket")
    per = dict(
        session.execute(
            sa.select(bucket, sa.func.count())
            .where(SignOff.id.in_(sa.select(covered.c.id)))
            .group_by(bucket)
        ).all()
    )
    newest = _rows(
        session,
        session.execute(
            _sign_off_query(params)
            .order_by(SignOff.signed_at.desc(), SignOff.id.desc())
            .limit(latest)
        ),
    )
    return SignOffs(
        params=params,
        count=count,
        by_service=by_service,
        series=[(p, per.get(i, 0)) for i, p in enumerate(spans)],
        latest=newest,
    )
