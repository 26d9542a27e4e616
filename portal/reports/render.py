"""Reports turned into files: PDF (WeasyPrint, from HTML templates with a print stylesheet)
and CSV (the same numbers, plus the row-level detail a PDF should not hold)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import render_template

from portal.accounts.models import User
from portal.booking.models import Service
from portal.reports import charts, figures
from portal.reports.figures import Operations, ReportParams
from portal.reports.sign_offs import SignOffs, sign_off_rows, sign_offs
from portal.reports.sla import SIDE_NAMES, SIDES, SlaReport, sla_report
from portal.reports.utilisation import Utilisation, utilisation
from portal.timeutil import now_utc
from portal.workforce.models import Agent

TITLES = {
    "operations": "Operations report",
    "utilisation": "Agent utilisation",
    "signoffs": "Completion sign-offs",
    "sla": "SLA report",
}
Report = Operations | Utilisation | SignOffs | SlaReport
Progress = Callable[[int], None]


def compute(session: so.Session, params: ReportParams) -> Report:
    if params.kind == "operations":
        return figures.operations(session, params)
    if params.kind == "utilisation":
        return utilisation(session, params)
    if params.kind == "sla":
        return sla_report(session, params)
    return sign_offs(session, params)


def percent(rate: float | None) -> str:
    """A rate as the report prints it: one decimal, or a dash when there is nothing to rate."""
    return "–" if rate is None else f"{rate * 100:.1f}\u00a0%"


def hours(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def span(hours_value: float | None) -> str:
    """Business time as a person reads it: "45 min", "2 h 15 min", "16 h"; a dash for none."""
    if hours_value is None:
        return "–"
    minutes = round(hours_value * 60)
    if abs(minutes) < 60:
        return f"{minutes} min"
    whole, rest = divmod(minutes, 60)
    return f"{whole} h" if rest == 0 else f"{whole} h {rest} min"


def scope(session: so.Session, params: ReportParams) -> str:
    """What the report is restricted to, in words."""
    if params.kind == "sla":
        return "all queues, cases and back-office work orders"
    parts = []
    if params.service_id is not None:
        parts.append(f"service {session.get(Service, params.service_id).name}")
    if params.agent_id is not None:
        name = session.scalar(
            sa.select(User.full_name)
            .join(Agent, Agent.user_id == User.id)
            .where(Agent.id == params.agent_id)
        )
        parts.append(f"agent {name}")
    return ", ".join(parts) or "all services and agents"


def _charts(report: Report) -> dict[str, str]:
    if isinstance(report, Operations):
        labels = [c.period.label for c in report.series]
        return {
            "per_period": charts.bars(
                labels,
                [
                    charts.Series("Booked", [c.booked for c in report.series], charts.BLUE),
                    charts.Series("Completed", [c.completed for c in report.series], charts.GREEN),
                ],
            )
        }
    if isinstance(report, SlaReport):
        return _sla_charts(report)
    if isinstance(report, Utilisation):
        shown = sorted(report.agents, key=lambda a: -(a.utilisation or 0))[:30]
        return {
            "utilisation": charts.bars(
                [a.name for a in shown],
                [charts.Series("Utilisation", [a.utilisation or 0 for a in shown])],
                horizontal=True,
                percent=True,
                height_in=max(1.6, 0.22 * len(shown) + 0.6),
            )
        }
    return {
        "per_period": charts.bars(
            [p.label for p, _n in report.series],
            [charts.Series("Sign-offs", [n for _p, n in report.series], charts.GREEN)],
        )
    }


SIDE_COLOURS = {"external": charts.BLUE, "internal": charts.GREEN}


def _compliance(rows, side: str) -> list[float | None]:
    """Compliance per group; None where nothing was decided: no bar, not a 0 % one."""
    return [row.side(side).compliance for row in rows]


def _sla_charts(report: SlaReport) -> dict[str, str]:
    if report.empty:
        return {}
    per_side = [
        charts.Series(SIDE_NAMES[side], _compliance(report.by_week, side), SIDE_COLOURS[side])
        for side in SIDES
    ]
    queues = [row for row in report.by_queue if row.external.decided + row.internal.decided]
    by_queue = [
        charts.Series(SIDE_NAMES[side], _compliance(queues, side), SIDE_COLOURS[side])
        for side in SIDES
    ]
    result = {
        "per_week": charts.bars(
            [row.label for row in report.by_week],
            per_side,
            percent=True,
            height_in=2.4,
            value_labels=len(report.by_week) <= 12,
        )
    }
    if queues:
        result["per_queue"] = charts.bars(
            [row.label for row in queues],
            by_queue,
            horizontal=True,
            percent=True,
            height_in=max(1.6, 0.4 * len(queues) + 0.8),
            value_labels=True,
        )
    return result


def render_html(session: so.Session, report: Report) -> str:
    params = report.params
    return render_template(
        f"reports/pdf/{params.kind}.html",
        report=report,
        params=params,
        title=TITLES[params.kind],
        scope=scope(session, params),
        charts=_charts(report),
        generated=now_utc().astimezone(ZoneInfo(params.zone)),
        percent=percent,
        hours=hours,
        zone=ZoneInfo(params.zone),
        sides=SIDE_NAMES,
        span=span,
    )


def render_pdf(html: str) -> bytes:
    import weasyprint  # loaded on first report, not by every web worker at start

    return weasyprint.HTML(string=html, base_url=None).write_pdf()


def pdf(session: so.Session, params: ReportParams, progress: Progress = lambda _p: None) -> bytes:
    """The report as PDF; `progress` hears the percentage done after each step."""
    report = compute(session, params)
    progress(40)
    html = render_html(session, report)
    progress(70)
    return render_pdf(html)


# --- CSV ---------------------------------------------------------------------------------------


def _safe(cell) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ gets a leading quote."""
    text = "" if cell is None else str(cell)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _rate_cell(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}"


def _operations_rows(session: so.Session, report: Operations) -> Iterator[tuple]:
    params = report.params
    yield ("section", "item", "value")
    yield ("report", "first_day", params.date_from.isoformat())
    yield ("report", "last_day", params.date_to.isoformat())
    yield ("report", "time_zone", params.zone)
    yield ("report", "scope", scope(session, params))
    yield ("summary", "booked", report.booked)
    yield ("summary", "completed", report.completed)
    yield ("summary", "cancelled", report.cancelled)
    yield ("summary", "no_shows", report.no_shows)
    yield ("summary", "rescheduled_appointments", report.rescheduled)
    yield ("summary", "reschedules", report.reschedules)
    yield ("summary", "confirmed", report.confirmed)
    average = report.avg_hours_to_confirm
    yield ("summary", "avg_hours_to_confirm", "" if average is None else f"{average:.1f}")
    yield ("summary", "completion_rate_percent", _rate_cell(report.completion_rate))
    yield ("summary", "cancellation_rate_percent", _rate_cell(report.cancellation_rate))
    yield ("summary", "reschedule_rate_percent", _rate_cell(report.reschedule_rate))
    yield ("summary", "no_show_rate_percent", _rate_cell(report.no_show_rate))
    for status, count in report.by_status.items():
        yield ("status", status, count)
    unit = report.series[0].period.unit if report.series else "day"
    for row in report.series:
        yield (f"booked_per_{unit}", row.period.first_day.isoformat(), row.booked)
    for row in report.series:
        yield (f"completed_per_{unit}", row.period.first_day.isoformat(), row.completed)
    for name, count in report.top_services:
        yield ("top_service", name, count)
    for name, count in report.top_agents:
        yield ("top_agent_completed", name, count)


def _utilisation_rows(report: Utilisation) -> Iterator[tuple]:
    yield ("agent", "working_hours", "booked_hours", "utilisation_percent", "appointments")
    for row in [*report.agents, report.total]:
        yield (
            row.name,
            hours(row.working_hours),
            hours(row.booked_hours),
            _rate_cell(row.utilisation),
            row.appointments,
        )


def _sign_off_rows(session: so.Session, params: ReportParams) -> Iterator[tuple]:
    zone = ZoneInfo(params.zone)
    yield ("work_order", "appointment", "account", "signed_by", "signed_at", "service", "agents")
    for row in sign_off_rows(session, params):
        yield (
            row.work_order,
            row.appointment_id,
            row.account,
            row.signed_by,
            row.signed_at.astimezone(zone).isoformat(timespec="minutes"),
            row.service,
            row.agents,
        )


def _hours_cell(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _sla_rows(report: SlaReport) -> Iterator[tuple]:
    """Long form: one figure a line (section, side, group, item, value), so a spreadsheet
    pivots it; the worst breaches take one line per field, grouped by their rank."""
    params = report.params
    yield ("section", "side", "group", "item", "value")
    yield ("report", "", "", "first_day", params.date_from.isoformat())
    yield ("report", "", "", "last_day", params.date_to.isoformat())
    yield ("report", "", "", "time_zone", params.zone)
    sections = [
        ("all", [report.totals]),
        ("by_milestone", report.by_kind),
        ("by_queue", report.by_queue),
        ("by_priority", report.by_priority),
        ("by_week", report.by_week),
    ]
    for section, rows in sections:
        for row in rows:
            for side in SIDES:
                tally = row.side(side)
                yield (section, side, row.key, "on_time", tally.on_time)
                yield (section, side, row.key, "late", tally.late)
                yield (section, side, row.key, "violated", tally.violated)
                yield (section, side, row.key, "open", tally.open)
                yield (section, side, row.key, "compliance_percent", _rate_cell(tally.compliance))
    for time_row in report.times:
        for side in SIDES:
            duration = time_row.side(side)
            group = time_row.priority or "all"
            section = f"business_hours_to_{time_row.kind}"
            yield (section, side, group, "completed", duration.count)
            yield (section, side, group, "average", _hours_cell(duration.average_hours))
            yield (section, side, group, "longest", _hours_cell(duration.longest_hours))
    for rank, breach in enumerate(report.breaches, start=1):
        for item, value in (
            ("case", breach.case_number),
            ("subject", breach.subject),
            ("work_order", breach.work_order_number),
            ("milestone", breach.milestone),
            ("queue", breach.queue),
            ("state", breach.state),
            ("target_business_hours", _hours_cell(breach.target_hours)),
            ("overrun_business_hours", _hours_cell(breach.overrun_hours)),
        ):
            yield ("worst_breach", breach.side, rank, item, value)


def csv_rows(session: so.Session, params: ReportParams) -> Iterable[tuple]:
    if params.kind == "sla":
        return _sla_rows(sla_report(session, params))
    if params.kind == "operations":
        return _operations_rows(session, figures.operations(session, params))
    if params.kind == "utilisation":
        return _utilisation_rows(utilisation(session, params))
    return _sign_off_rows(session, params)


def csv_bytes(session: so.Session, params: ReportParams) -> bytes:
    """The report as CSV, UTF-8 with a byte-order mark so spreadsheets read names right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in csv_rows(session, params):
        writer.writerow([_safe(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
