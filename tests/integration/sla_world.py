"""What the SLA tests share: calendars, entitlement processes, cases and queues made
straight in the tables (the case services are another package's; here only the clocks
are under test), and the case events the clocks hear.

The week: Monday 1 June 2026 (NOW is 07:00 in London, before opening). The support
calendar is open Monday to Friday 09:00-17:00 London time; the back office's has a lunch
break (09:00-12:30, 13:30-17:00).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from portal.calendars.models import BusinessCalendar, BusinessHours
from portal.cases.models import Case, CaseStatus, CaseType, CaseWorkOrder
from portal.cases.watchers import CaseEvent
from portal.queues.models import Queue, QueueMember
from portal.sla.models import EntitlementProcess, Milestone, MilestoneAction, MilestoneDefinition
from portal.sla.watchers import case_moved
from portal.timeutil import freeze
from portal.workorders.models import WorkOrder, WorkOrderTask
from tests.factories import create_customer, create_user

LONDON = ZoneInfo("Europe/London")


def london(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant given as a London wall time in June 2026 (1 June is a Monday)."""
    return datetime(2026, 6, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def make_calendar(session, name: str, spans=((540, 1020),), days=range(5), zone="Europe/London"):
    calendar = BusinessCalendar(name=name, time_zone=zone)
    calendar.hours = [
        BusinessHours(weekday=day, start_minute=start, end_minute=end)
        for day in days
        for start, end in spans
    ]
    session.add(calendar)
    session.flush()
    return calendar


def make_process(
    session,
    name: str,
    *,
    calendar=None,
    applies_to: str = "case",
    rank: int = 100,
    first_response: tuple[int, int, int, int] | None = (120, 60, 30, 15),
    resolution: tuple[int, int, int, int] | None = (960, 480, 240, 120),
    actions: tuple[tuple[str, str, str, str, bool], ...] = (),
    **conditions,
) -> EntitlementProcess:
    """A process with its definitions (targets for low, medium, high, urgent) and actions:
    (kind, trigger, action, value, outside_hours)."""
    process = EntitlementProcess(
        name=name, applies_to=applies_to, rank=rank, calendar=calendar, **conditions
    )
    for kind, targets in (("first_response", first_response), ("resolution", resolution)):
        if targets is None:
            continue
        low, medium, high, urgent = targets
        definition = MilestoneDefinition(
            kind=kind,
            name=kind.replace("_", " ").capitalize(),
            target_low=low,
            target_medium=medium,
            target_high=high,
            target_urgent=urgent,
            warn_percent=75,
        )
        definition.actions = [
            MilestoneAction(trigger=trigger, action=action, value=value, outside_hours=outside)
            for for_kind, trigger, action, value, outside in actions
            if for_kind == kind
        ]
        process.definitions.append(definition)
    session.add(process)
    session.flush()
    return process


def support_type(session) -> CaseType:
    found = session.scalar(sa.select(CaseType).where(CaseType.slug == "sla-test"))
    if found is not None:
        return found
    case_type = CaseType(slug="sla-test", name="SLA test", initial_status="New")
    case_type.statuses = [
        CaseStatus(name="New", meaning="open", position=1),
        CaseStatus(name="In progress", meaning="open", position=2),
        CaseStatus(name="Waiting on customer", meaning="waiting", position=3),
        CaseStatus(name="Closed", meaning="closed", position=4),
    ]
    session.add(case_type)
    session.flush()
    return case_type


@dataclass
class SlaWorld:
    support: BusinessCalendar
    back_office: BusinessCalendar
    finance: Queue
    agent: object  # the case's owner (a scheduler: the contact centre)
    lead: object
    member: object
    manager: object
    account: object
    contact: object


def build_sla_world(session) -> SlaWorld:
    support = make_calendar(session, "Support hours")
    back_office = make_calendar(session, "Back office", spans=((540, 750), (810, 1020)))
    lead = create_user(session, role="backoffice", full_name="Fin Lead")
    member = create_user(session, role="backoffice", full_name="Fin Member")
    finance = Queue(slug="finance-sla", name="Finance (SLA)", lead=lead, calendar=back_office)
    finance.members = [QueueMember(user=member), QueueMember(user=lead)]
    session.add(finance)
    _, account, contact = create_customer(session, email="ada@example.com")
    world = SlaWorld(
        support=support,
        back_office=back_office,
        finance=finance,
        agent=create_user(session, role="scheduler", full_name="Sam Scheduler"),
        lead=lead,
        member=member,
        manager=create_user(session, role="manager", full_name="Mia Manager"),
        account=account,
        contact=contact,
    )
    session.flush()
    return world


def open_case(session, world: SlaWorld, at: datetime, *, priority="medium", owner=None) -> Case:
    """A case made at `at` (the clock pinned there), and its "created" event heard."""
    freeze(at)
    case = Case(
        case_type=support_type(session),
        account=world.account,
        contact=world.contact,
        subject="Invoice is wrong",
        origin="Phone",
        priority=priority,
        status="New",
        owner_user=owner if owner is not None else world.agent,
        created_at=at,
    )
    session.add(case)
    session.flush()
    hear(session, case, "created", at, new="New", meaning="open")
    return case


def hear(session, case: Case, kind: str, at: datetime, **fields) -> None:
    """The clocks hear a case event at `at` (the clock pinned there), as the case
    services would tell them."""
    freeze(at)
    case_moved(session, CaseEvent(case, kind, at, **fields))
    session.flush()


def hand_off(session, world: SlaWorld, case: Case, at: datetime) -> WorkOrder:
    """A work order the case hands to Finance at `at`, its task in the queue."""
    freeze(at)
    work_order = WorkOrder(
        account_id=case.account_id,
        contact_id=case.contact_id,
        status="new",
        owner_kind="case",
        summary="Refund the overcharge",
        created_at=at,
    )
    session.add(work_order)
    session.flush()
    session.add(WorkOrderTask(work_order=work_order, queue=world.finance, title="Refund"))
    session.add(CaseWorkOrder(case=case, work_order=work_order, queue=world.finance, created_at=at))
    session.flush()
    hear(session, case, "handed_off", at, new=str(work_order.id))
    return work_order


def milestone(session, case: Case | None = None, kind: str = "resolution", *, work_order=None):
    subject = (
        Milestone.case_id == case.id
        if work_order is None
        else Milestone.work_order_id == work_order.id
    )
    return session.scalar(sa.select(Milestone).where(subject, Milestone.kind == kind))


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
