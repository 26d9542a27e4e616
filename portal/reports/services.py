"""Report runs: asked for on the reports page, made at once or by the scheduler process,
kept for a week and listed; weekly e-mails to the managers who subscribed.

A run over at most INLINE_MAX_DAYS days is made inside the request that asks for it (a
second or two at most); a longer one is queued, and the scheduler process makes it while
the page shows its progress. Files live in the database, so every web worker serves them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.errors import Invalid, NotAllowed, NotFound
from portal.notifications.models import OutboxMessage
from portal.notifications.services import notify_user, queue_email
from portal.pagination import Page, paginate
from portal.reports import render
from portal.reports.figures import ReportParams, check_params
from portal.reports.models import REPORT_FORMATS, REPORT_KINDS, ReportRun, ReportSubscription
from portal.timeutil import now_utc

log = logging.getLogger(__name__)

INLINE_MAX_DAYS = 31
KEEP_FOR = timedelta(days=7)
MANAGER_ROLES = ("manager", "admin")
MIME = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}


def _require_manager(user: User) -> None:
    if not user.has_role("manager"):
        raise NotAllowed("Reports are for managers.")


def params_of(run: ReportRun, zone: str) -> ReportParams:
    return ReportParams(
        kind=run.kind,
        date_from=run.date_from,
        date_to=run.date_to,
        zone=zone,
        service_id=run.service_id,
        agent_id=run.agent_id,
    )


def file_name(params: ReportParams, fmt: str) -> str:
    return f"{params.kind}-{params.date_from.isoformat()}-to-{params.date_to.isoformat()}.{fmt}"


def request_report(
    session: so.Session, user: User, params: ReportParams, fmt: str, *, origin: str = "manual"
) -> ReportRun:
    """Check the request, store the run; make it now when the range is short, else queue it."""
    _require_manager(user)
    if fmt not in REPORT_FORMATS:
        raise Invalid("Choose PDF or CSV.", field="fmt")
    check_params(session, params)
    run = ReportRun(
        kind=params.kind,
        fmt=fmt,
        date_from=params.date_from,
        date_to=params.date_to,
        service_id=params.service_id,
        agent_id=params.agent_id,
        requested_by_id=user.id,
        origin=origin,
        status="queued",
        progress=0,
    )
    session.add(run)
    session.flush()
    if params.days <= INLINE_MAX_DAYS:
        generate(session, run, params)
    return run


def generate(
    session: so.Session,
    run: ReportRun,
    params: ReportParams,
    progress: Callable[[int], None] = lambda _p: None,
) -> None:
    """Make the run's file and mark it done (the caller commits)."""
    if run.status == "queued":
        run.status, run.started_at = "running", now_utc()
    if run.fmt == "pdf":
        content = render.pdf(session, params, progress)
    else:
        content = render.csv_bytes(session, params)
    run.content = content
    run.size = len(content)
    run.file_name = file_name(params, run.fmt)
    run.status, run.progress = "done", 100
    run.finished_at = now_utc()
    run.expires_at = run.finished_at + KEEP_FOR
    session.flush()


def claim_next(session: so.Session) -> int | None:
    """Take the oldest queued run for this process (a conditional UPDATE, so two
    schedulers never make the same run); commits the claim. Returns its id or None."""
    while True:
        run_id = session.scalar(
            sa.select(ReportRun.id)
            .where(ReportRun.status == "queued")
            .order_by(ReportRun.created_at, ReportRun.id)
            .limit(1)
        )
        if run_id is None:
            session.rollback()
            return None
        claimed = session.execute(
            sa.update(ReportRun)
            .where(ReportRun.id == run_id, ReportRun.status == "queued")
            .values(status="running", started_at=now_utc(), progress=5)
        ).rowcount
        session.commit()
        if claimed == 1:
            return run_id


def run_queued(session: so.Session, zone: str, *, limit: int = 5) -> int:
    """Make up to `limit` queued runs, committing progress as each goes; returns how many
    were made. A run that fails is marked failed with the reason, and the next one goes on."""
    made = 0
    while made < limit:
        run_id = claim_next(session)
        if run_id is None:
            break
        run = session.get(ReportRun, run_id)
        params = params_of(run, zone)

        def progress(percent: int, run=run) -> None:
            # Committed at once, so the page polling this run sees the bar move. The
            # figures are read-only work, so committing between the steps loses nothing.
            run.progress = percent
            session.commit()

        try:
            generate(session, run, params, progress)
            session.commit()
            made += 1
        except Exception as error:  # noqa: BLE001  (any failure is the run's, not the job's)
            session.rollback()
            log.exception("Report run %s failed", run_id)
            session.execute(
                sa.update(ReportRun)
                .where(ReportRun.id == run_id)
                .values(status="failed", error=str(error)[:500], finished_at=now_utc())
            )
            session.commit()
        else:
            if run.requested_by_id is not None and run.origin == "manual":
                notify_user(
                    session,
                    run.requested_by_id,
                    f"Your {render.TITLES[run.kind].lower()} is ready to download.",
                    link=f"/reports/runs/{run.id}",
                )
                session.commit()
    return made


def get_run(session: so.Session, user: User, run_id: int) -> ReportRun:
    _require_manager(user)
    run = session.get(ReportRun, run_id)
    if run is None:
        raise NotFound("There is no such report.")
    return run


def download(session: so.Session, user: User, run_id: int, now: datetime) -> ReportRun:
    """The finished run with its file, or NotFound when it is not ready or has expired."""
    run = get_run(session, user, run_id)
    if run.status != "done" or run.expires_at is None or run.expires_at <= now:
        raise NotFound("This report is not ready, or it has expired.")
    return run


def list_runs(session: so.Session, user: User, page: int) -> Page:
    _require_manager(user)
    query = (
        sa.select(ReportRun)
        .where(sa.or_(ReportRun.expires_at.is_(None), ReportRun.expires_at > now_utc()))
        .order_by(ReportRun.created_at.desc(), ReportRun.id.desc())
    )
    return paginate(session, query, page, per_page=10)


def purge_expired(session: so.Session, now: datetime) -> int:
    """Delete the runs whose files are past keeping; returns how many."""
    return session.execute(
        sa.delete(ReportRun).where(ReportRun.expires_at.is_not(None), ReportRun.expires_at <= now)
    ).rowcount


# --- weekly e-mails ----------------------------------------------------------------------------


def subscribed_kinds(session: so.Session, user: User) -> set[str]:
    return set(
        session.scalars(
            sa.select(ReportSubscription.kind).where(ReportSubscription.user_id == user.id)
        )
    )


def set_subscription(session: so.Session, user: User, kind: str, wanted: bool) -> None:
    _require_manager(user)
    if kind not in REPORT_KINDS:
        raise Invalid("Choose one of the reports.", field="kind")
    existing = session.scalar(
        sa.select(ReportSubscription).where(
            ReportSubscription.user_id == user.id, ReportSubscription.kind == kind
        )
    )
    if wanted and existing is None:
        session.add(ReportSubscription(user_id=user.id, kind=kind))
    elif not wanted and existing is not None:
        session.delete(existing)
    session.flush()


def previous_week(now: datetime, zone: str) -> tuple[date, date]:
    """Monday to Sunday of the local week before the one `now` falls in."""
    today = now.astimezone(ZoneInfo(zone)).date()
    monday = today - timedelta(days=today.weekday() + 7)
    return monday, monday + timedelta(days=6)


@dataclass(frozen=True)
class WeeklyOutcome:
    sent: int
    skipped: int
    failed: int = 0


def email_weekly(session: so.Session, now: datetime, zone: str, base_url: str) -> WeeklyOutcome:
    """Make last week's report for each subscription and e-mail its link, once per week:
    a repeated run finds the week's e-mail queued already (its dedupe key) and skips it."""
    first, last = previous_week(now, zone)
    sent = skipped = failed = 0
    rows = session.execute(
        sa.select(ReportSubscription, User)
        .join(User, User.id == ReportSubscription.user_id)
        .where(User.active, User.role.in_(MANAGER_ROLES))
        .order_by(ReportSubscription.id)
    ).all()
    for subscription, user in rows:
        key = f"weekly-report:{user.id}:{subscription.kind}:{first.isoformat()}"
        if session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
            skipped += 1  # this week's e-mail is queued already
            continue
        params = ReportParams(kind=subscription.kind, date_from=first, date_to=last, zone=zone)
        try:
            with session.begin_nested():
                run = request_report(session, user, params, "pdf", origin="weekly")
        except Exception:  # noqa: BLE001  (one failing report must not stop the others)
            log.exception("Weekly %s report for user %s failed", subscription.kind, user.id)
            failed += 1
            continue
        title = render.TITLES[subscription.kind]
        link = f"{base_url}/reports/runs/{run.id}"
        queue_email(
            session,
            to=user.email,
            subject=f"{title}, week of {first:%-d %b %Y}",
            text=(
                f"Hello {user.full_name},\n\n"
                f"Your weekly {title.lower()} for {first:%A %-d %B} to {last:%A %-d %B %Y} "
                f"is ready. Log in to download it (kept for {KEEP_FOR.days} days):\n\n"
                f"{link}\n\n"
                "You receive this because you asked for it on the reports page, where you "
                "can also stop it.\n"
            ),
            dedupe_key=key,
            subject_type="ReportRun",
            subject_id=run.id,
        )
        sent += 1
    return WeeklyOutcome(sent=sent, skipped=skipped, failed=failed)
