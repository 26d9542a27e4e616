"""The report files: the PDF's text and the CSV hold the figures counted by hand in
tests/reports_data.py; report runs are made at once or queued, kept, listed and purged;
weekly e-mails go out once a week."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from portal.errors import NotAllowed, NotFound
from portal.notifications.models import OutboxMessage
from portal.reports import render, services
from portal.reports.models import ReportRun
from tests.factories import create_user
from tests.reports_data import NOW, ZONE, build


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    return build(session)


@pytest.fixture
def manager(session):
    return create_user(session, role="manager", full_name="Mina Manager")


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def csv_table(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_operations_pdf_holds_the_figures(session, world):
    text = pdf_text(render.pdf(session, world.params("operations")))

    assert "Operations report" in text
    assert "Monday 2 November 2026 to Sunday 15 November 2026" in text
    for figure in ("7 Booked", "3 Completed (42.9 %)", "28.6 %", "(2 appointments, 3 moves)"):
        assert figure in text
    assert "14.3 % Cancelled (1)" in text
    assert "4.0 h Average from booking to confirmation (2 confirmed)" in text
    assert "Leak repair 4" in text and "Ann Archer 2" in text
    assert "Page 1 of" in text


def test_the_utilisation_pdf_holds_each_agents_hours(session, world):
    text = pdf_text(render.pdf(session, world.params("utilisation")))

    assert "Ann Archer 72.0 5.0 6.9 % 4" in text
    assert "Bob Baker 64.0 2.5 3.9 % 2" in text
    assert "All agents 136.0 7.5 5.5 % 6" in text


def test_the_sign_off_pdf_lists_who_signed_for_which_work_order(session, world):
    text = pdf_text(render.pdf(session, world.params("signoffs")))

    work_order = f"WO-{world.appointments[1].work_order_id:06d}"
    assert f"{work_order}" in text
    assert "Chloe Martin 3 Nov 2026, 10:00 Boiler service Ann Archer" in text


def test_the_operations_csv_holds_the_same_figures(session, world):
    rows = csv_table(render.csv_bytes(session, world.params("operations")))

    values = {(section, item): value for section, item, value in rows[1:]}
    assert rows[0] == ["section", "item", "value"]
    assert values["summary", "booked"] == "7"
    assert values["summary", "completed"] == "3"
    assert values["summary", "completion_rate_percent"] == "42.9"
    assert values["summary", "cancellation_rate_percent"] == "14.3"
    assert values["summary", "reschedule_rate_percent"] == "28.6"
    assert values["summary", "reschedules"] == "3"
    assert values["summary", "avg_hours_to_confirm"] == "4.0"
    assert values["status", "no_show"] == "1"
    assert values["booked_per_day", "2026-11-03"] == "2"
    assert values["completed_per_day", "2026-11-03"] == "2"
    assert values["top_service", "Leak repair"] == "4"


def test_the_utilisation_csv_has_a_row_per_agent_and_a_total(session, world):
    rows = csv_table(render.csv_bytes(session, world.params("utilisation")))

    assert rows[0][0] == "agent"
    assert ["Ann Archer", "72.0", "5.0", "6.9", "4"] in rows
    assert rows[-1] == ["All agents", "136.0", "7.5", "5.5", "6"]


def test_the_sign_off_csv_lists_every_sign_off_in_local_time(session, world):
    rows = csv_table(render.csv_bytes(session, world.params("signoffs")))

    assert len(rows) == 3
    assert rows[2][3:5] == ["Chloe Martin", "2026-11-03T10:00+00:00"]


def test_csv_cells_that_look_like_formulas_are_quoted(session, world):
    rows = csv_table(render.csv_bytes(session, world.params("signoffs")))

    assert rows[1][3] == "'=HYPERLINK(evil)"


def test_a_short_range_is_made_at_once(session, world, manager):
    run = services.request_report(session, manager, world.params("operations"), "pdf")

    assert (run.status, run.progress) == ("done", 100)
    assert run.content.startswith(b"%PDF")
    assert run.file_name == "operations-2026-11-02-to-2026-11-15.pdf"
    assert run.expires_at == NOW + timedelta(days=7)


def test_a_long_range_is_queued_then_made_by_the_job(session, world, manager):
    params = world.params("operations", date_from=date(2026, 9, 1))
    run = services.request_report(session, manager, params, "csv")
    session.commit()
    assert (run.status, run.content) == ("queued", None)

    assert services.run_queued(session, ZONE) == 1

    session.refresh(run)
    assert (run.status, run.progress) == ("done", 100)
    assert b"summary,booked,8" in run.content  # the 30 October one too


def test_a_queued_run_is_claimed_once(session, world, manager):
    params = world.params("utilisation", date_from=date(2026, 9, 1))
    run = services.request_report(session, manager, params, "pdf")
    session.commit()

    assert services.claim_next(session) == run.id
    assert services.claim_next(session) is None


def test_the_requester_is_told_when_a_queued_report_is_ready(session, world, manager):
    params = world.params("signoffs", date_from=date(2026, 9, 1))
    services.request_report(session, manager, params, "pdf")
    session.commit()

    services.run_queued(session, ZONE)

    messages = session.scalars(sa.text("SELECT message FROM notifications")).all()
    assert messages == ["Your completion sign-offs is ready to download."]


def test_a_run_that_fails_is_marked_failed_and_the_next_goes_on(
    session, world, manager, monkeypatch
):
    first = services.request_report(
        session, manager, world.params("operations", date_from=date(2026, 9, 1)), "pdf"
    )
    second = services.request_report(
        session, manager, world.params("operations", date_from=date(2026, 9, 2)), "csv"
    )
    session.commit()
    monkeypatch.setattr(render, "render_pdf", lambda _html: 1 / 0)

    assert services.run_queued(session, ZONE) == 1

    session.refresh(first)
    session.refresh(second)
    assert (first.status, first.error) == ("failed", "division by zero")
    assert second.status == "done"


def test_an_expired_report_cannot_be_downloaded_and_is_purged(session, world, manager):
    run = services.request_report(session, manager, world.params("operations"), "csv")
    later = NOW + timedelta(days=8)

    with pytest.raises(NotFound):
        services.download(session, manager, run.id, later)
    assert services.purge_expired(session, later) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(ReportRun)) == 0


@pytest.mark.parametrize("role", ["customer", "agent", "scheduler"])
def test_only_managers_ask_for_reports(session, world, role):
    user = create_user(session, role=role)

    with pytest.raises(NotAllowed):
        services.request_report(session, user, world.params("operations"), "pdf")


def test_weekly_reports_are_emailed_once_a_week(session, world, manager):
    services.set_subscription(session, manager, "operations", True)
    monday = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)

    first = services.email_weekly(session, monday, ZONE, "https://portal.example")
    again = services.email_weekly(session, monday + timedelta(hours=1), ZONE, "https://x")

    assert (first.sent, again.sent, again.skipped) == (1, 0, 1)
    (mail,) = session.scalars(sa.select(OutboxMessage)).all()
    assert mail.recipient == manager.email
    assert mail.subject == "Operations report, week of 9 Nov 2026"
    run = session.scalar(sa.select(ReportRun).where(ReportRun.origin == "weekly"))
    assert (run.date_from, run.date_to, run.status) == (
        date(2026, 11, 9),
        date(2026, 11, 15),
        "done",
    )
    assert f"https://portal.example/reports/runs/{run.id}" in mail.body_text


def test_no_weekly_e_mail_after_unsubscribing(session, world, manager):
    services.set_subscription(session, manager, "operations", True)
    services.set_subscription(session, manager, "operations", False)

    outcome = services.email_weekly(session, NOW, ZONE, "https://portal.example")

    assert outcome.sent == 0


def test_a_deactivated_manager_gets_no_weekly_e_mail(session, world, manager):
    services.set_subscription(session, manager, "utilisation", True)
    manager.active = False

    assert services.email_weekly(session, NOW, ZONE, "https://portal.example").sent == 0


def test_the_scheduler_jobs_make_queued_reports_and_purge_old_ones(
    app, session, world, manager, monkeypatch
):
    from portal.reports import jobs

    params = world.params("operations", date_from=date(2026, 9, 1))
    run = services.request_report(session, manager, params, "pdf")
    session.commit()

    jobs.run_queued_reports(app)
    session.expire_all()
    assert session.get(ReportRun, run.id).status == "done"

    session.get(ReportRun, run.id).expires_at = NOW - timedelta(seconds=1)
    session.commit()
    jobs.purge_expired_reports(app)
    assert session.scalar(sa.select(sa.func.count()).select_from(ReportRun)) == 0


def test_an_agent_name_with_dollar_signs_is_drawn_as_text(session, world, manager):
    world.ann.user.full_name = r"Bo $\frac{$"

    run = services.request_report(session, manager, world.params("utilisation"), "pdf")

    assert run.status == "done"
    assert r"Bo $\frac{$" in pdf_text(run.content)


def test_one_failing_weekly_report_does_not_stop_the_others(session, world, manager, monkeypatch):
    other = create_user(session, role="manager", full_name="Otto Other")
    services.set_subscription(session, manager, "operations", True)
    services.set_subscription(session, other, "utilisation", True)
    real = render.compute

    def compute(session, params):
        if params.kind == "operations":
            raise RuntimeError("boom")
        return real(session, params)

    monkeypatch.setattr(render, "compute", compute)
    outcome = services.email_weekly(session, NOW, ZONE, "https://portal.example")

    assert (outcome.sent, outcome.failed) == (1, 1)
    (mail,) = session.scalars(sa.select(OutboxMessage)).all()
    assert mail.recipient == other.email
