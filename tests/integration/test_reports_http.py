"""The reports pages over HTTP: managers ask, watch and download; nobody else gets in."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.reports import services
from portal.reports.models import ReportRun, ReportSubscription
from tests.factories import create_user
from tests.reports_data import NOW, build

FORM = {
    "kind": "operations",
    "date_from": "2026-11-02",
    "date_to": "2026-11-15",
    "service_id": "",
    "agent_id": "",
    "fmt": "pdf",
}


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    return build(session)


@pytest.fixture
def manager(session, auth):
    user = create_user(session, role="manager", email="mina@example.com")
    auth.login("mina@example.com")
    return user


def test_the_reports_page_offers_the_three_reports(client, world, manager):
    page = client.get("/reports/").get_data(as_text=True)

    assert "Operations" in page and "Agent utilisation" in page and "sign-offs" in page
    assert 'value="2026-11-01"' in page  # the month so far, by default


def test_a_short_report_is_ready_at_once_and_downloads_as_pdf(client, world, manager):
    response = client.post_form("/reports/", FORM, form_url="/reports/")

    assert response.status_code == 302
    run_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ready: operations-2026-11-02-to-2026-11-15.pdf" in run_page
    (run_id,) = [
        r.id for r in client.application.extensions["tests.session"].scalars(sa.select(ReportRun))
    ]
    download = client.get(f"/reports/runs/{run_id}/download")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF")
    assert (
        'attachment; filename="operations-2026-11-02-to-2026-11-15.pdf"'
        in (download.headers["Content-Disposition"])
    )
    assert download.headers["Cache-Control"] == "private, no-store"


def test_a_csv_report_downloads_as_csv(client, session, world, manager):
    client.post_form("/reports/", {**FORM, "fmt": "csv"}, form_url="/reports/")

    run = session.scalar(sa.select(ReportRun))
    download = client.get(f"/reports/runs/{run.id}/download")
    assert download.mimetype == "text/csv"
    assert "summary,booked,7" in download.get_data(as_text=True)


def test_a_long_report_shows_its_progress_until_the_job_has_made_it(
    client, session, world, manager
):
    client.post_form("/reports/", {**FORM, "date_from": "2026-09-01"}, form_url="/reports/")
    run = session.scalar(sa.select(ReportRun))

    waiting = client.get(f"/reports/runs/{run.id}", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in waiting.get_data(as_text=True)
    assert '<progress id="run-progress" max="100" value="0">' in waiting.get_data(as_text=True)

    services.run_queued(session, "Europe/London")

    ready = client.get(f"/reports/runs/{run.id}", headers={"HX-Request": "true"})
    assert "hx-trigger" not in ready.get_data(as_text=True)
    assert "Download PDF" in ready.get_data(as_text=True)


def test_a_backwards_range_is_refused_naming_the_field(client, world, manager):
    response = client.post_form(
        "/reports/", {**FORM, "date_to": "2026-10-01"}, form_url="/reports/"
    )

    assert response.status_code == 422
    assert "The last day must not come before the first." in response.get_data(as_text=True)


def test_a_missing_day_is_refused(client, world, manager):
    response = client.post_form("/reports/", {**FORM, "date_from": ""}, form_url="/reports/")

    assert response.status_code == 422
    assert "Enter the first day." in response.get_data(as_text=True)


def test_a_manager_subscribes_to_the_weekly_e_mail(client, session, world, manager):
    response = client.post_form(
        "/reports/subscriptions", {"kind": "utilisation", "wanted": "1"}, form_url="/reports/"
    )

    assert response.status_code == 302
    assert session.scalars(sa.select(ReportSubscription.kind)).all() == ["utilisation"]


def test_an_unknown_report_is_404(client, world, manager):
    assert client.get("/reports/runs/424242").status_code == 404
    assert client.get("/reports/runs/424242/download").status_code == 404


@pytest.mark.parametrize("role", ["customer", "agent", "scheduler"])
def test_only_managers_reach_the_reports(client, session, auth, world, role):
    owner = create_user(session, role="manager")
    run = services.request_report(session, owner, world.params("operations"), "pdf")
    create_user(session, role=role, email=f"{role}@example.com")
    auth.login(f"{role}@example.com")

    for url in ("/reports/", f"/reports/runs/{run.id}", f"/reports/runs/{run.id}/download"):
        assert client.get(url).status_code == 403
    assert client.post("/reports/", data=FORM).status_code in (400, 403)


def test_a_visitor_is_sent_to_log_in(client, world):
    response = client.get("/reports/")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
