"""Rows for the SLA report and panel tests, made directly with the models (the case and SLA
services are written elsewhere; these tests need milestones in every state, not the rules
that put them there), and a small known data set with its figures counted by hand.

The data set: Monday 2 to Sunday 15 November 2026 in Europe/London (GMT, so local equals
UTC), ISO weeks 45 (2-8 Nov) and 46 (9-15 Nov). Finance is led by Fay, Orders by Oscar.
Targets and time used are business minutes and seconds as the SLA clock stored them.

Settled: completed at, or (open) due at, UTC. Target and used: business time.

|id|case: priority, owner   |side|kind    |state            |settled         |target|used|
|--|------------------------|----|--------|-----------------|----------------|------|----|
|m1|c1: high, Finance       |ext |response|completed_on_time|Mon 2 Nov 10:00 |1 h   |30 m|
|m2|c1                      |ext |resol.  |completed_late   |Wed 4 Nov 12:00 |8 h   |10 h|
|m3|c2: medium, a person    |ext |response|completed_on_time|Tue 10 Nov 09:30|4 h   |1 h |
|m4|c2                      |ext |resol.  |violated         |Thu 12 Nov 10:00|16 h  |21 h|
|m5|c3: urgent, Orders      |ext |response|completed_late   |Tue 3 Nov 09:00 |30 m  |45 m|
|m6|c3                      |ext |resol.  |pending          |Fri 13 Nov 12:00|4 h   |1 h |
|m7|c1 -> WO1, Finance      |int |resol.  |completed_on_time|Thu 5 Nov 15:00 |8 h   |4 h |
|m8|c3 -> WO2, Orders       |int |resol.  |violated         |Mon 9 Nov 11:00 |8 h   |16 h|
|m9|c2 -> WO3, Finance      |int |resol.  |completed_on_time|Wed 11 Nov 16:00|8 h   |2 h |
|x1|c4: low, Finance        |ext |response|completed_on_time|Mon 16 Nov 10:00|1 h   |10 m|
|x2|c4                      |ext |resol.  |pending, paused  |(no due time)   |8 h   |1 h |
|x3|c4 -> WO4, Finance      |int |resol.  |warning          |Mon 16 Nov 10:00|8 h   |7 h |
|x4|c5: high, Orders, closed|ext |resol.  |violated         |Fri 30 Oct 12:00|1 h   |2 h |

x1 and x3 fall after the range, x4 before it, x2 in no period.

Figures: external 2 on time, 2 late, 1 violated, 1 open: 2 of 5 met, 40.0 %; internal 2 on
time, 1 violated: 2 of 3, 66.7 %. Worst breaches: m8 (8 h), m4 (5 h), m2 (2 h), m5 (0.25 h).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import CustomerAccount, User
from portal.calendars.models import BusinessCalendar, BusinessHours
from portal.cases.models import Case, CaseStatus, CaseType, CaseWorkOrder
from portal.queues.models import Queue
from portal.reports.figures import ReportParams
from portal.sla.models import Milestone
from portal.workorders.models import WorkOrder
from tests.factories import _next, create_account, create_user, create_work_order

FIRST, LAST = date(2026, 11, 2), date(2026, 11, 15)
ZONE = "Europe/London"
# The report's clock: a week after the range. The panel's: Friday 13 November, 09:00.
REPORT_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PANEL_NOW = datetime(2026, 11, 13, 9, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# --- helpers -------------------------------------------------------------------------------------


def create_calendar(session: so.Session, **overrides) -> BusinessCalendar:
    """Mon-Fri 09:00-17:00 in London, unless told otherwise."""
    values = {"name": f"Calendar {_next()}", "time_zone": ZONE, **overrides}
    calendar = BusinessCalendar(**values)
    calendar.hours = [BusinessHours(weekday=d, start_minute=540, end_minute=1020) for d in range(5)]
    session.add(calendar)
    session.flush()
    return calendar


def create_queue(session: so.Session, *, lead: User | None = None, **overrides) -> Queue:
    n = _next()
    values = {"slug": f"queue-{n}", "name": f"Queue {n}", **overrides}
    queue = Queue(lead_id=lead.id if lead else None, **values)
    session.add(queue)
    session.flush()
    return queue


def case_type(session: so.Session) -> CaseType:
    """A case type of the tests' own (get-or-create)."""
    found = session.scalar(sa.select(CaseType).where(CaseType.slug == "report-tests"))
    if found is not None:
        return found
    kind = CaseType(slug="report-tests", name="Report tests", initial_status="New")
    kind.statuses = [
        CaseStatus(name="New", meaning="open", position=1),
        CaseStatus(name="Waiting", meaning="waiting", position=2),
        CaseStatus(name="Closed", meaning="closed", position=3),
    ]
    session.add(kind)
    session.flush()
    return kind


def create_case(
    session: so.Session,
    *,
    account: CustomerAccount | None = None,
    queue: Queue | None = None,
    owner: User | None = None,
    closed: bool = False,
    **overrides,
) -> Case:
    """A case owned by `queue`, or by `owner` (a new scheduler when neither is given)."""
    if queue is None and owner is None:
        owner = create_user(session, role="scheduler")
    values = {
        "subject": f"Case {_next()}",
        "origin": "Phone",
        "priority": "medium",
        "status": "Closed" if closed else "New",
        "is_closed": closed,
        **overrides,
    }
    case = Case(
        case_type=case_type(session),
        account=account or create_account(session),
        owner_queue_id=queue.id if queue else None,
        owner_user_id=owner.id if owner else None,
        **values,
    )
    session.add(case)
    session.flush()
    return case


def send_to_queue(
    session: so.Session, case: Case, queue: Queue, *, status: str = "in_progress"
) -> WorkOrder:
    """A back-office work order the case handed to `queue`."""
    work_order = create_work_order(
        session, account=case.account, owner_kind="case", status=status, summary=case.subject
    )
    session.add(CaseWorkOrder(case_id=case.id, work_order_id=work_order.id, queue_id=queue.id))
    session.flush()
    return work_order


def create_milestone(
    session: so.Session,
    *,
    case: Case | None = None,
    work_order: WorkOrder | None = None,
    kind: str = "resolution",
    state: str = "pending",
    target: int = 480,
    used: timedelta = timedelta(0),
    due_at: datetime | None = None,
    completed_at: datetime | None = None,
    paused: bool = False,
    **overrides,
) -> Milestone:
    """A milestone of a case or of a work order, its cached state as given."""
    names = {"first_response": "First response", "resolution": "Resolution"}
    start = overrides.pop("started_at", (completed_at or due_at or at(1, 9)) - timedelta(days=2))
    milestone = Milestone(
        case_id=case.id if case else None,
        work_order_id=work_order.id if work_order else None,
        kind=kind,
        name=overrides.pop("name", names[kind]),
        state=state,
        paused=paused,
        target_minutes=target,
        used_seconds=int(used.total_seconds()),
        started_at=start,
        due_at=due_at,
        completed_at=completed_at,
        **overrides,
    )
    session.add(milestone)
    session.flush()
    return milestone


# --- the known data set --------------------------------------------------------------------------


@dataclass
class SlaWorld:
    fay: User  # leads Finance
    oscar: User  # leads Orders
    finance: Queue
    orders: Queue
    cases: dict[str, Case]
    work_orders: dict[str, WorkOrder]
    milestones: dict[str, Milestone]

    def params(self, **overrides) -> ReportParams:
        values = {"kind": "sla", "date_from": FIRST, "date_to": LAST, "zone": ZONE, **overrides}
        return ReportParams(**values)


def build_sla_world(session: so.Session, *, label: str = "") -> SlaWorld:
    """The known data set; `label` marks the queues' names and slugs, where a database
    (the browser tests' demo) has a Finance and an Orders queue already."""
    h, m = timedelta(hours=1), timedelta(minutes=1)
    fay = create_user(session, role="backoffice", full_name="Fay Finance", email="fay@example.com")
    oscar = create_user(session, role="backoffice", full_name="Oscar Orders")
    slug = label.strip(" ()").lower().replace(" ", "-")
    finance = create_queue(
        session, slug="-".join(filter(None, ["finance", slug])), name=f"Finance{label}", lead=fay
    )
    orders = create_queue(
        session, slug="-".join(filter(None, ["orders", slug])), name=f"Orders{label}", lead=oscar
    )
    c1 = create_case(session, queue=finance, priority="high", subject="Refund for a double charge")
    c2 = create_case(session, priority="medium", subject="Invoice address wrong")
    c3 = create_case(session, queue=orders, priority="urgent", subject="Parts never arrived")
    c4 = create_case(session, queue=finance, priority="low", subject="Statement copy")
    c5 = create_case(session, queue=orders, priority="high", subject="Old closed", closed=True)
    wo1, wo2 = send_to_queue(session, c1, finance), send_to_queue(session, c3, orders)
    wo3, wo4 = send_to_queue(session, c2, finance), send_to_queue(session, c4, finance)
    ms = {
        "m1": create_milestone(
            session, case=c1, kind="first_response", state="completed_on_time", target=60,
            used=30 * m, due_at=at(2, 10, 30), completed_at=at(2, 10),
        ),
        "m2": create_milestone(
            session, case=c1, state="completed_late", target=480, used=10 * h,
            due_at=at(4, 10), completed_at=at(4, 12),
        ),
        "m3": create_milestone(
            session, case=c2, kind="first_response", state="completed_on_time", target=240,
            used=1 * h, due_at=at(10, 12), completed_at=at(10, 9, 30),
        ),
        "m4": create_milestone(
            session, case=c2, state="violated", target=960, used=21 * h, due_at=at(12, 10)
        ),
        "m5": create_milestone(
            session, case=c3, kind="first_response", state="completed_late", target=30,
            used=45 * m, due_at=at(3, 8, 45), completed_at=at(3, 9),
        ),
        "m6": create_milestone(
            session, case=c3, state="pending", target=240, used=1 * h, due_at=at(13, 12)
        ),
        "m7": create_milestone(
            session, work_order=wo1, state="completed_on_time", target=480, used=4 * h,
            due_at=at(6, 9), completed_at=at(5, 15),
        ),
        "m8": create_milestone(
            session, work_order=wo2, state="violated", target=480, used=16 * h, due_at=at(9, 11)
        ),
        "m9": create_milestone(
            session, work_order=wo3, state="completed_on_time", target=480, used=2 * h,
            due_at=at(12, 16), completed_at=at(11, 16),
        ),
        "x1": create_milestone(
            session, case=c4, kind="first_response", state="completed_on_time", target=60,
            used=10 * m, due_at=at(16, 11), completed_at=at(16, 10),
        ),
        "x2": create_milestone(
            session, case=c4, state="pending", paused=True, target=480, used=1 * h, due_at=None
        ),
        "x3": create_milestone(
            session, work_order=wo4, state="warning", target=480, used=7 * h, due_at=at(16, 10)
        ),
        "x4": create_milestone(
            session, case=c5, state="violated", target=60, used=2 * h,
            due_at=at(30, 12, month=10),
        ),
    }  # fmt: skip
    return SlaWorld(
        fay=fay,
        oscar=oscar,
        finance=finance,
        orders=orders,
        cases={"c1": c1, "c2": c2, "c3": c3, "c4": c4, "c5": c5},
        work_orders={"wo1": wo1, "wo2": wo2, "wo3": wo3, "wo4": wo4},
        milestones=ms,
    )
