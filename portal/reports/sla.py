"""The SLA report: how many milestones were met, external (a case's, the customer's clock)
and internal (a back-office work order's, the queue's clock) side by side, by queue,
priority and ISO week; the business time taken to first response and to resolution; the
worst breaches.

A milestone belongs to the report by the instant it was settled: when it completed, or
(still open) when it is due; a paused milestone with no due time and no completion is in
no period. Compliance is completed on time over everything decided (completed, on time
or late, plus violated and still open); milestones still pending or warning are counted
as "open" and left out of it.

Its queue is the case's owning queue (a case owned by a person has none) or, for a work
order, the queue the case handed it to (`CaseWorkOrder.queue_id`); its priority is the
case's. Business time is the milestone's own `used_seconds`, counted by the SLA clock on
the milestone's calendar, so nights, weekends and holidays are already left out.

Every count and sum comes from SQL aggregates grouped by side, queue, priority, week, kind
and state (a few dozen rows at most); Python only adds the groups up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.cases.models import PRIORITIES, Case, CaseWorkOrder
from portal.queues.models import Queue
from portal.reports.figures import Period, ReportParams, period_index, rate
from portal.sla.models import MILESTONE_KINDS, Milestone
from portal.sla.services import Lookup, derive_state
from portal.timeutil import local_day_bounds, now_utc, week_start

SIDES = ("external", "internal")
SIDE_NAMES = {"external": "External (cases)", "internal": "Internal (back office)"}
KIND_NAMES = {"first_response": "First response", "resolution": "Resolution"}
NO_QUEUE = "No queue"
WORST = 10
COMPLETED = ("completed_on_time", "completed_late")
BREACHED = ("completed_late", "violated")


@dataclass
class Tally:
    """Milestones of one group by outcome."""

    on_time: int = 0
    late: int = 0
    violated: int = 0
    open: int = 0  # pending or warning: not decided yet

    def add(self, state: str, count: int) -> None:
        if state == "completed_on_time":
            self.on_time += count
        elif state == "completed_late":
            self.late += count
        elif state == "violated":
            self.violated += count
        else:
            self.open += count

    @property
    def completed(self) -> int:
        return self.on_time + self.late

    @property
    def missed(self) -> int:
        return self.late + self.violated

    @property
    def decided(self) -> int:
        return self.completed + self.violated

    @property
    def total(self) -> int:
        return self.decided + self.open

    @property
    def compliance(self) -> float | None:
        return rate(self.on_time, self.decided)


@dataclass
class GroupRow:
    """One line of a side-by-side table: a queue, a priority or a week."""

    key: str  # the queue's name, the priority, the ISO week ("2026-W45")
    label: str
    external: Tally = field(default_factory=Tally)
    internal: Tally = field(default_factory=Tally)

    def side(self, side: str) -> Tally:
        return self.external if side == "external" else self.internal


@dataclass
class Duration:
    """Business time taken by the completed milestones of one group."""

    count: int = 0
    total_seconds: int = 0
    longest_seconds: int = 0

    def add(self, count: int, total: int, longest: int) -> None:
        self.count += count
        self.total_seconds += total
        self.longest_seconds = max(self.longest_seconds, longest)

    @property
    def average_hours(self) -> float | None:
        return None if self.count == 0 else self.total_seconds / self.count / 3600

    @property
    def longest_hours(self) -> float | None:
        return None if self.count == 0 else self.longest_seconds / 3600


@dataclass
class TimeRow:
    """Time to one milestone kind, for all priorities (priority None) or one."""

    kind: str
    priority: str | None
    external: Duration = field(default_factory=Duration)
    internal: Duration = field(default_factory=Duration)

    @property
    def label(self) -> str:
        return "All priorities" if self.priority is None else self.priority.capitalize()

    def side(self, side: str) -> Duration:
        return self.external if side == "external" else self.internal


class Numbered:
    """A row about a case (and maybe one of its work orders): their numbers as people read
    them, from the ids the query gave."""

    case_id: int | None
    work_order_id: int | None

    @property
    def case_number(self) -> str:
        return "" if self.case_id is None else f"CS-{self.case_id:06d}"

    @property
    def work_order_number(self) -> str:
        return "" if self.work_order_id is None else f"WO-{self.work_order_id:06d}"


@dataclass(frozen=True)
class Breach(Numbered):
    """A milestone that went past its target, and by how much business time."""

    side: str
    case_id: int | None
    subject: str
    work_order_id: int | None
    milestone: str
    queue: str
    state: str
    target_minutes: int
    used_seconds: int

    @property
    def overrun_hours(self) -> float:
        return (self.used_seconds - self.target_minutes * 60) / 3600

    @property
    def target_hours(self) -> float:
        return self.target_minutes / 60


@dataclass(frozen=True)
class Week:
    period: Period

    @property
    def key(self) -> str:
        year, week, _day = self.period.first_day.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def label(self) -> str:
        return f"W{self.period.first_day.isocalendar()[1]:02d} ({self.period.first_day:%-d %b})"


@dataclass
class SlaReport:
    params: ReportParams
    totals: GroupRow
    by_kind: list[GroupRow]
    by_queue: list[GroupRow]
    by_priority: list[GroupRow]
    by_week: list[GroupRow]
    times: list[TimeRow]
    breaches: list[Breach]

    @property
    def empty(self) -> bool:
        return self.totals.external.total + self.totals.internal.total == 0


def weeks(params: ReportParams) -> list[Week]:
    """The ISO weeks (Monday to Sunday, local) the range touches, clipped to it."""
    result = []
    first = week_start(params.date_from)
    while first <= params.date_to:
        lo = max(first, params.date_from)
        hi = min(first + timedelta(days=6), params.date_to)
        start = local_day_bounds(lo, params.zone)[0]
        end = local_day_bounds(hi, params.zone)[1]
        result.append(Week(Period(first, start, end, "week")))
        first += timedelta(days=7)
    return result


# --- the columns every query shares ------------------------------------------------------------

# Literal text, not bound parameters: PostgreSQL matches a GROUP BY expression to the
# selected one by its text, and two parameters never match.
SIDE = sa.case(
    (Milestone.case_id.is_not(None), sa.literal_column("'external'")),
    else_=sa.literal_column("'internal'"),
)
QUEUE_ID = sa.case(
    (Milestone.case_id.is_not(None), Case.owner_queue_id), else_=CaseWorkOrder.queue_id
)
_settled_at = sa.func.coalesce(Milestone.completed_at, Milestone.due_at)


def with_case(query):
    """`query` over milestones, joined to their case: the milestone's own, or for a work
    order's milestone the case that handed the work order out (and that link, whose queue
    is the work order's). SIDE and QUEUE_ID need these joins."""
    return (
        query.select_from(Milestone)
        .outerjoin(CaseWorkOrder, CaseWorkOrder.work_order_id == Milestone.work_order_id)
        .outerjoin(Case, Case.id == sa.func.coalesce(Milestone.case_id, CaseWorkOrder.case_id))
    )


def _joined(query, params: ReportParams):
    """`query` with the case joined, kept to the milestones settled in the report's range."""
    return with_case(query).where(_settled_at >= params.start, _settled_at < params.end)


def queue_names(session: so.Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = [i for i in set(ids) if i is not None]
    if not wanted:
        return {}
    return dict(session.execute(sa.select(Queue.id, Queue.name).where(Queue.id.in_(wanted))).all())


def _rows_by(keys: list[tuple[str, str]]) -> dict[str, GroupRow]:
    return {key: GroupRow(key, label) for key, label in keys}


def sla_report(session: so.Session, params: ReportParams) -> SlaReport:
    spans = weeks(params)
    bucket = period_index(_settled_at, [w.period for w in spans]).label("bucket")
    counts = session.execute(
        _joined(
            sa.select(
                SIDE.label("side"),
                QUEUE_ID.label("queue_id"),
                Case.priority,
                bucket,
                Milestone.kind,
                Milestone.state,
                sa.func.count().label("n"),
            ),
            params,
        ).group_by(SIDE, QUEUE_ID, Case.priority, bucket, Milestone.kind, Milestone.state)
    ).all()

    names = queue_names(session, [row.queue_id for row in counts])
    totals = GroupRow("all", "All milestones")
    by_kind = _rows_by([(k, KIND_NAMES[k]) for k in MILESTONE_KINDS])
    by_priority = _rows_by([(p, p.capitalize()) for p in PRIORITIES])
    by_week = _rows_by([(w.key, w.label) for w in spans])
    queues: dict[str, GroupRow] = {}
    for row in counts:
        queue = names.get(row.queue_id, NO_QUEUE)
        groups = [totals, by_kind[row.kind], queues.setdefault(queue, GroupRow(queue, queue))]
        if row.priority in by_priority:
            groups.append(by_priority[row.priority])
        if row.bucket is not None:
            groups.append(by_week[spans[row.bucket].key])
        for group in groups:
            group.side(row.side).add(row.state, row.n)

    return SlaReport(
        params=params,
        totals=totals,
        by_kind=list(by_kind.values()),
        by_queue=sorted(queues.values(), key=lambda g: (g.key == NO_QUEUE, g.key.lower())),
        by_priority=list(by_priority.values()),
        by_week=list(by_week.values()),
        times=_times(session, params),
        breaches=_worst_breaches(session, params),
    )


def _times(session: so.Session, params: ReportParams) -> list[TimeRow]:
    """Business time to first response and to resolution, overall and by priority."""
    rows = {
        (kind, priority): TimeRow(kind, priority)
        for kind in MILESTONE_KINDS
        for priority in (None, *PRIORITIES)
    }
    for side, kind, priority, count, total, longest in session.execute(
        _joined(
            sa.select(
                SIDE.label("side"),
                Milestone.kind,
                Case.priority,
                sa.func.count(),
                sa.func.sum(Milestone.used_seconds),
                sa.func.max(Milestone.used_seconds),
            ),
            params,
        )
        .where(Milestone.state.in_(COMPLETED))
        .group_by(SIDE, Milestone.kind, Case.priority)
    ):
        for key in ((kind, None), (kind, priority)):
            if key in rows:
                rows[key].side(side).add(count, int(total or 0), int(longest or 0))
    return list(rows.values())


def _worst_breaches(session: so.Session, params: ReportParams, limit: int = WORST) -> list[Breach]:
    """The milestones furthest past their target (business time used less the target)."""
    overrun = (Milestone.used_seconds - Milestone.target_minutes * 60).label("overrun")
    queue_id = QUEUE_ID.label("queue_id")
    rows = session.execute(
        _joined(
            sa.select(
                SIDE.label("side"),
                Case.id.label("case_id"),
                Case.subject,
                Milestone.work_order_id,
                Milestone.name,
                Milestone.state,
                Milestone.target_minutes,
                Milestone.used_seconds,
                Milestone.id.label("milestone_id"),
                queue_id,
                overrun,
            ),
            params,
        )
        .where(Milestone.state.in_(BREACHED))
        .order_by(overrun.desc(), Milestone.id)
        # Every open missed one (its cached overrun is stale), then the worst of the rest.
        .limit(limit + _open_violations(session, params))
    ).all()
    # The cache stops counting once a milestone is missed: an open one has gone on using
    # business time since, which its log tells (as of the period's end, or now).
    open_ids = [row.milestone_id for row in rows if row.state == "violated"]
    used_now = _used_now(session, open_ids, min(now_utc(), params.end))
    names = queue_names(session, [row.queue_id for row in rows])
    breaches = [
        Breach(
            side=row.side,
            case_id=row.case_id,
            subject=row.subject or "",
            work_order_id=row.work_order_id,
            milestone=row.name,
            queue=names.get(row.queue_id, NO_QUEUE),
            state=row.state,
            target_minutes=row.target_minutes,
            used_seconds=used_now.get(row.milestone_id, row.used_seconds),
        )
        for row in rows
    ]
    breaches.sort(key=lambda b: b.used_seconds - b.target_minutes * 60, reverse=True)
    return breaches[:limit]


def _open_violations(session: so.Session, params: ReportParams) -> int:
    query = _joined(sa.select(sa.func.count()), params).where(Milestone.state == "violated")
    return session.scalar(query) or 0


def _used_now(session: so.Session, milestone_ids: list[int], as_of: datetime) -> dict[int, int]:
    """Business seconds each open milestone has used by `as_of`, from its log."""
    if not milestone_ids:
        return {}
    milestones = list(
        session.scalars(
            sa.select(Milestone)
            .where(Milestone.id.in_(milestone_ids))
            .options(so.selectinload(Milestone.events))
        )
    )
    lookup = Lookup(session)
    used = {}
    for milestone in milestones:
        try:
            state = derive_state(milestone, as_of, lookup)
        except ValueError:  # a log the clock refuses (the job logs it): keep the cache
            continue
        used[milestone.id] = int(state.used.total_seconds())
    return used
