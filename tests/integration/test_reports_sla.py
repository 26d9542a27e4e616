"""The SLA report: figures counted by hand in tests/sla_factories.py, its CSV, its PDF
(pages, the charts, the empty period), and who may ask for it."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from portal.errors import Invalid, NotAllowed
from portal.reports import render, services
from portal.reports.models import ReportRun, ReportSubscription
from portal.reports.sla import sla_report
from portal.sla.models import MilestoneEvent
from tests.factories import create_service, create_user
from tests.sla_factories import REPORT_NOW, at, build_sla_world, create_calendar, create_milestone


@pytest.fixture
def world(session, frozen_now):
    frozen_now(REPORT_NOW)
    return build_sla_world(session)


@pytest.fixture
def manager(session):
    return create_user(session, role="manager", full_name="Mina Manager")


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def csv_values(content: bytes) -> dict[tuple[str, str, str, str], str]:
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["section", "side", "group", "item", "value"]
    return {tuple(row[:4]): row[4] for row in rows[1:]}


def test_compliance_counts_on_time_over_everything_decided_on_each_side(session, world):
    report = sla_report(session, world.params())

    external, internal = report.totals.external, report.totals.internal
    assert (external.on_time, external.late, external.violated, external.open) == (2, 2, 1, 1)
    assert external.compliance == pytest.approx(2 / 5)
    assert (internal.on_time, internal.late, internal.violated, internal.open) == (2, 0, 1, 0)
    assert internal.compliance == pytest.approx(2 / 3)


def test_milestones_settled_outside_the_range_are_left_out(session, world):
    report = sla_report(
        session, world.params(date_from=date(2026, 11, 16), date_to=date(2026, 11, 22))
    )

    # x1 completed on Monday 16th; x3 is due then (still open); x2 is paused with no due time.
    assert (report.totals.external.on_time, report.totals.external.total) == (1, 1)
    assert (report.totals.internal.open, report.totals.internal.total) == (1, 1)


def test_a_case_counts_under_its_owning_queue_and_a_work_order_under_the_queue_it_was_sent_to(
    session, world
):
    rows = {row.key: row for row in sla_report(session, world.params()).by_queue}

    assert list(rows) == ["Finance", "Orders", "No queue"]
    finance, orders, nobody = rows["Finance"], rows["Orders"], rows["No queue"]
    assert (finance.external.on_time, finance.external.late, finance.internal.on_time) == (1, 1, 2)
    assert finance.external.compliance == 0.5 and finance.internal.compliance == 1.0
    assert (orders.external.late, orders.external.open, orders.internal.violated) == (1, 1, 1)
    assert orders.external.compliance == 0.0 and orders.internal.compliance == 0.0
    assert (nobody.external.on_time, nobody.external.violated, nobody.internal.total) == (1, 1, 0)


def test_both_sides_are_grouped_by_the_cases_priority(session, world):
    rows = {row.key: row for row in sla_report(session, world.params()).by_priority}

    assert list(rows) == ["low", "medium", "high", "urgent"]
    assert rows["low"].external.total == rows["low"].internal.total == 0
    assert (rows["high"].external.on_time, rows["high"].external.late) == (1, 1)
    assert rows["high"].internal.on_time == 1  # WO1, sent by the high-priority case c1
    assert rows["medium"].external.compliance == 0.5 and rows["medium"].internal.compliance == 1.0
    assert rows["urgent"].external.compliance == 0.0 and rows["urgent"].internal.violated == 1


def test_each_milestone_falls_in_the_iso_week_it_completed_or_is_due_in(session, world):
    weeks = sla_report(session, world.params()).by_week

    assert [(w.key, w.label) for w in weeks] == [
        ("2026-W45", "W45 (2 Nov)"),
        ("2026-W46", "W46 (9 Nov)"),
    ]
    w45, w46 = weeks
    assert (w45.external.on_time, w45.external.late, w45.internal.on_time) == (1, 2, 1)
    assert (w46.external.on_time, w46.external.violated, w46.external.open) == (1, 1, 1)
    assert (w46.internal.on_time, w46.internal.violated) == (1, 1)


def test_weeks_are_local_to_the_organisations_zone(session, world):
    # Monday 9 November 09:00 UTC is still Sunday 8th, 23:00 in Honolulu (UTC-10): week 45
    # there, week 46 in London.
    create_milestone(
        session, case=world.cases["c1"], kind="first_response", state="completed_on_time",
        target=60, completed_at=at(9, 9), due_at=at(9, 10), name="Reply late on Sunday",
    )  # fmt: skip

    honolulu = sla_report(session, world.params(zone="Pacific/Honolulu")).by_week
    london = sla_report(session, world.params()).by_week

    assert honolulu[0].external.on_time == london[0].external.on_time + 1
    assert honolulu[1].external.on_time == london[1].external.on_time - 1


def test_business_hours_to_first_response_and_resolution_come_from_the_clocks_time_used(
    session, world
):
    times = {(t.kind, t.priority): t for t in sla_report(session, world.params()).times}

    first = times["first_response", None]
    assert first.external.count == 3
    assert first.external.average_hours == pytest.approx((0.5 + 1 + 0.75) / 3)
    assert first.external.longest_hours == pytest.approx(1.0)
    assert first.internal.count == 0 and first.internal.average_hours is None
    assert times["resolution", None].external.average_hours == pytest.approx(10.0)
    assert times["resolution", None].internal.average_hours == pytest.approx(3.0)
    assert times["first_response", "urgent"].external.average_hours == pytest.approx(0.75)


def test_the_worst_breaches_are_ordered_by_business_time_over_target(session, world):
    breaches = sla_report(session, world.params()).breaches

    assert [(b.case_number, round(b.overrun_hours, 2)) for b in breaches] == [
        (world.cases["c3"].number, 8.0),
        (world.cases["c2"].number, 5.0),
        (world.cases["c1"].number, 2.0),
        (world.cases["c3"].number, 0.25),
    ]
    worst = breaches[0]
    assert (worst.side, worst.queue, worst.subject) == ("internal", "Orders", "Parts never arrived")
    assert worst.work_order_number == world.work_orders["wo2"].number
    assert breaches[1].queue == "No queue" and breaches[1].state == "violated"


def test_the_csv_holds_the_same_figures_one_per_line(session, world):
    values = csv_values(render.csv_bytes(session, world.params()))

    assert values["report", "", "", "first_day"] == "2026-11-02"
    assert values["all", "external", "all", "on_time"] == "2"
    assert values["all", "external", "all", "compliance_percent"] == "40.0"
    assert values["all", "internal", "all", "compliance_percent"] == "66.7"
    assert values["by_queue", "internal", "Finance", "on_time"] == "2"
    assert values["by_priority", "external", "urgent", "late"] == "1"
    assert values["by_week", "external", "2026-W45", "late"] == "2"
    assert values["business_hours_to_first_response", "external", "all", "average"] == "0.75"
    assert values["business_hours_to_resolution", "internal", "all", "longest"] == "4.00"
    assert values["worst_breach", "internal", "1", "case"] == world.cases["c3"].number
    assert values["worst_breach", "internal", "1", "overrun_business_hours"] == "8.00"
    assert values["worst_breach", "external", "2", "queue"] == "No queue"


def test_a_subject_that_looks_like_a_formula_is_quoted_in_the_csv(session, world):
    world.cases["c3"].subject = "=HYPERLINK(evil)"
    session.flush()

    values = csv_values(render.csv_bytes(session, world.params()))

    assert values["worst_breach", "internal", "1", "subject"] == "'=HYPERLINK(evil)"


def test_the_pdf_shows_both_sides_the_charts_and_the_worst_breaches(session, world):
    content = render.pdf(session, world.params())
    reader = PdfReader(io.BytesIO(content))
    text = pdf_text(content)

    assert len(reader.pages) >= 2
    assert "SLA report" in text and "Page 1 of" in text
    assert "40.0 % External (cases): 2 of 5 met" in text
    assert "66.7 % Internal (back office): 2 of 3 met" in text
    assert "W45 (2 Nov) 1 2 0 33.3 % 1 0 0 100.0 %" in text
    assert "Finance 1 1 0 50.0 % 2 0 0 100.0 %" in text
    assert "Parts never arrived" in text and "Orders 8 h 8 h" in text
    assert "45 min Average business time to first response, cases (3)" in text
    # The two charts are images; their axis text stays text.
    html = render.render_html(session, sla_report(session, world.params()))
    assert html.count('class="chart"') == 2
    assert "Met per week" in text and "By queue" in text


def test_an_empty_period_says_so_instead_of_drawing_empty_charts(session, world):
    params = world.params(date_from=date(2025, 1, 6), date_to=date(2025, 1, 12))

    text = pdf_text(render.pdf(session, params))
    csv_content = csv_values(render.csv_bytes(session, params))

    assert "No milestones in this period" in text
    assert "Met per week" not in text
    assert csv_content["all", "external", "all", "compliance_percent"] == ""


def test_a_manager_asks_for_the_sla_report_like_the_others(session, world, manager):
    run = services.request_report(session, manager, world.params(), "pdf")

    assert (run.kind, run.status, run.file_name) == (
        "sla",
        "done",
        "sla-2026-11-02-to-2026-11-15.pdf",
    )
    assert run.content.startswith(b"%PDF")


def test_the_sla_report_refuses_a_service_or_agent_filter(session, world, manager):
    service = create_service(session)

    with pytest.raises(Invalid, match="covers every queue"):
        services.request_report(session, manager, world.params(service_id=service.id), "csv")


@pytest.mark.parametrize("role", ["agent", "scheduler", "backoffice"])
def test_only_managers_make_the_sla_report(session, world, role):
    with pytest.raises(NotAllowed):
        services.request_report(session, create_user(session, role=role), world.params(), "csv")


def test_a_manager_gets_the_sla_report_by_e_mail_every_monday(session, world, manager):
    services.set_subscription(session, manager, "sla", True)

    outcome = services.email_weekly(session, REPORT_NOW, "Europe/London", "https://portal.test")

    assert outcome.sent == 1
    run = session.scalar(sa.select(ReportRun).where(ReportRun.kind == "sla"))
    assert (run.date_from, run.date_to, run.origin) == (
        date(2026, 11, 16),
        date(2026, 11, 22),
        "weekly",
    )
    assert session.scalar(sa.select(ReportSubscription.kind)) == "sla"


# --- over HTTP ---------------------------------------------------------------------------------

FORM = {
    "kind": "sla",
    "date_from": "2026-11-02",
    "date_to": "2026-11-15",
    "service_id": "",
    "agent_id": "",
    "fmt": "csv",
}


def test_a_manager_downloads_the_sla_csv_from_the_reports_page(client, session, auth, world):
    create_user(session, role="manager", email="mina@example.com")
    auth.login("mina@example.com")

    assert "SLA: milestones met" in client.get("/reports/").get_data(as_text=True)
    response = client.post_form("/reports/", FORM, form_url="/reports/")

    assert response.status_code == 302
    run = session.scalar(sa.select(ReportRun))
    download = client.get(f"/reports/runs/{run.id}/download")
    assert download.mimetype == "text/csv"
    assert 'filename="sla-2026-11-02-to-2026-11-15.csv"' in download.headers["Content-Disposition"]
    assert "all,external,all,compliance_percent,40.0" in download.get_data(as_text=True)


@pytest.mark.parametrize("role", ["scheduler", "backoffice"])
def test_a_lead_who_is_not_a_manager_cannot_ask_for_the_sla_report(
    client, session, auth, world, role
):
    create_user(session, role=role, email="lead@example.com")
    auth.login("lead@example.com")

    assert client.get("/reports/").status_code == 403
    assert client.post_form("/reports/", FORM, form_url="/notifications").status_code == 403


def test_an_open_missed_milestone_counts_the_business_time_it_used_since_it_was_missed(
    session, world
):
    """The cache stops at the violation; the report reads the log up to the period's end
    (Mon-Fri 09:00-17:00 London: a 1 h target started Monday 2 Nov 09:00 and never met has
    used 8 h by the end of that day, and every working hour of the period after)."""
    case = world.cases["c1"]
    missed = create_milestone(
        session,
        case=case,
        kind="first_response",
        state="violated",
        target=60,
        used=timedelta(minutes=60),
        due_at=at(2, 10),
        started_at=at(2, 9),
        calendar_id=create_calendar(session).id,
    )
    session.add(MilestoneEvent(milestone_id=missed.id, at=at(2, 9), kind="start", minutes=60))
    session.flush()

    breaches = sla_report(
        session, world.params(date_from=date(2026, 11, 2), date_to=date(2026, 11, 2))
    ).breaches

    row = next(b for b in breaches if b.milestone == "First response" and b.state == "violated")
    assert round(row.overrun_hours, 2) == 7.0
