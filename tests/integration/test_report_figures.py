"""Each report figure computed on a known data set (tests/reports_data.py) and compared
with the values counted by hand there."""

from __future__ import annotations

from datetime import date

import pytest

from portal.errors import Invalid
from portal.reports import figures
from portal.reports.figures import ReportParams, check_params, periods
from portal.reports.sign_offs import sign_off_rows, sign_offs
from portal.reports.utilisation import utilisation
from tests.reports_data import ZONE, build


@pytest.fixture
def world(session):
    return build(session)


def test_operations_counts_appointments_by_status(session, world):
    report = figures.operations(session, world.params("operations"))

    assert report.booked == 7
    assert {k: v for k, v in report.by_status.items() if v} == {
        "signed_off": 1,
        "completed": 2,
        "cancelled": 1,
        "no_show": 1,
        "confirmed": 1,
        "requested": 1,
    }
    assert (report.completed, report.cancelled, report.no_shows) == (3, 1, 1)


def test_operations_rates_are_shares_of_the_booked(session, world):
    report = figures.operations(session, world.params("operations"))

    assert report.completion_rate == pytest.approx(3 / 7)
    assert report.cancellation_rate == pytest.approx(1 / 7)
    assert report.no_show_rate == pytest.approx(1 / 7)
    assert (report.rescheduled, report.reschedules) == (2, 3)
    assert report.reschedule_rate == pytest.approx(2 / 7)


def test_operations_averages_the_time_from_booking_to_confirmation(session, world):
    report = figures.operations(session, world.params("operations"))

    assert report.confirmed == 2
    assert report.avg_hours_to_confirm == pytest.approx(4.0)


def test_operations_counts_booked_and_completed_per_day(session, world):
    report = figures.operations(session, world.params("operations"))

    busy = {c.period.first_day.day: (c.booked, c.completed) for c in report.series if c.booked}
    assert busy == {2: (1, 1), 3: (2, 2), 5: (1, 0), 6: (1, 0), 10: (1, 0), 11: (1, 0)}
    assert len(report.series) == 14


def test_operations_ranks_services_and_agents(session, world):
    report = figures.operations(session, world.params("operations"))

    assert report.top_services == [("Leak repair", 4), ("Boiler service", 3)]
    assert report.top_agents == [("Ann Archer", 2), ("Bob Baker", 1)]


def test_operations_for_one_service(session, world):
    report = figures.operations(session, world.params("operations", service_id=world.service_b_id))

    assert (report.booked, report.completed, report.cancelled) == (4, 1, 1)


def test_operations_for_one_agent(session, world):
    report = figures.operations(session, world.params("operations", agent_id=world.bob.id))

    assert report.booked == 3
    assert (report.reschedules, report.confirmed) == (2, 1)


def test_an_empty_range_has_no_rates(session, world):
    report = figures.operations(
        session, world.params("operations", date_from=date(2027, 1, 4), date_to=date(2027, 1, 4))
    )

    assert report.booked == 0
    assert report.completion_rate is None
    assert report.avg_hours_to_confirm is None


def test_utilisation_divides_booked_hours_by_working_hours(session, world):
    report = utilisation(session, world.params("utilisation"))

    rows = {row.name: row for row in report.agents}
    ann, bob = rows["Ann Archer"], rows["Bob Baker"]
    # Nine working days (the holiday closes Monday 9th); Bob is off on the 4th.
    assert (ann.working_hours, bob.working_hours) == (72, 64)
    # Ann holds 90 + 90 + 60 + 60 minutes, Bob 60 + 90 (the cancelled one holds nobody).
    assert (ann.booked_minutes, bob.booked_minutes) == (300, 150)
    assert (ann.appointments, bob.appointments) == (4, 2)
    assert ann.utilisation == pytest.approx(5 / 72)
    assert report.total.booked_hours == 7.5
    assert report.total.utilisation == pytest.approx(7.5 / 136)


def test_utilisation_for_one_service_counts_only_its_bookings(session, world):
    report = utilisation(session, world.params("utilisation", service_id=world.service_a_id))

    rows = {row.name: row.booked_minutes for row in report.agents}
    assert rows["Ann Archer"] == 180
    assert rows["Bob Baker"] == 90


def test_utilisation_for_one_agent_lists_only_it(session, world):
    report = utilisation(session, world.params("utilisation", agent_id=world.ann.id))

    assert [row.name for row in report.agents] == ["Ann Archer"]


def test_sign_offs_are_counted_by_when_they_were_signed(session, world):
    report = sign_offs(session, world.params("signoffs"))

    assert report.count == 2
    assert report.by_service == [("Boiler service", 1), ("Leak repair", 1)]
    newest = report.latest[0]
    assert (newest.signed_by, newest.account != "", newest.agents) == (
        "Chloe Martin",
        True,
        "Ann Archer",
    )
    assert newest.work_order == f"WO-{world.appointments[1].work_order_id:06d}"


def test_sign_off_rows_stream_every_sign_off_oldest_first(session, world):
    rows = list(sign_off_rows(session, world.params("signoffs"), batch=1))

    assert [r.appointment_id for r in rows] == [
        world.appointments[9].id,
        world.appointments[1].id,
    ]


def test_a_long_range_is_counted_week_by_week():
    spans = periods(ReportParams("operations", date(2026, 9, 2), date(2026, 11, 30), ZONE))

    assert spans[0].unit == "week"
    assert spans[0].first_day == date(2026, 8, 31)
    assert spans[-1].first_day == date(2026, 11, 30)
    assert len(spans) == 14


def test_a_week_with_a_clock_change_is_counted_in_local_days():
    (week,) = [
        p
        for p in periods(ReportParams("operations", date(2026, 10, 1), date(2026, 11, 30), ZONE))
        if p.first_day == date(2026, 10, 19)  # the clocks go back on Sunday 25th
    ]

    assert (week.end - week.start).total_seconds() == (7 * 24 + 1) * 3600


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date_to": date(2026, 11, 1)}, "date_to"),
        ({"date_to": date(2027, 12, 1)}, "date_to"),
        ({"kind": "gossip"}, "kind"),
        ({"service_id": 999_999}, "service_id"),
        ({"agent_id": 999_999}, "agent_id"),
    ],
)
def test_a_report_that_cannot_be_made_names_the_field(session, world, change, field):
    with pytest.raises(Invalid) as refused:
        check_params(session, world.params(**{"kind": "operations", **change}))

    assert refused.value.field == field
