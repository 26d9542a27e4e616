"""The scheduler's job specs: interval and cron kinds, cron times in the organisation's
zone (07:00 stays 07:00 local across daylight saving), mistakes caught at import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.util import ref_to_obj

from portal.scheduler import JOBS, JobSpec

WEEKLY = JobSpec.cron(
    "weekly", "portal.reports.jobs:email_weekly_reports", day_of_week="mon", hour=7
)


def next_fire(spec: JobSpec, zone: str, after: datetime) -> datetime:
    return spec.trigger(zone).get_next_fire_time(None, after).astimezone(UTC)


def test_a_monday_0700_job_fires_at_0700_london_time_in_winter():
    friday = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)

    assert next_fire(WEEKLY, "Europe/London", friday) == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


def test_a_monday_0700_job_fires_at_0700_london_time_in_summer():
    friday = datetime(2026, 7, 3, 12, 0, tzinfo=UTC)

    assert next_fire(WEEKLY, "Europe/London", friday) == datetime(2026, 7, 6, 6, 0, tzinfo=UTC)


def test_a_cron_job_keeps_its_local_time_across_the_clock_change():
    # The clocks go back on Sunday 25 Oct 2026: Monday 26 Oct 07:00 is GMT again.
    monday_after_bst = datetime(2026, 10, 19, 7, 0, tzinfo=UTC)

    assert next_fire(WEEKLY, "Europe/London", monday_after_bst) == datetime(
        2026, 10, 26, 7, 0, tzinfo=UTC
    )


def test_a_cron_job_follows_the_zone_it_is_given():
    friday = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)

    assert next_fire(WEEKLY, "America/New_York", friday) == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_an_interval_job_ignores_the_zone():
    spec = JobSpec.every("queued", "portal.reports.jobs:run_queued_reports", seconds=5)
    start = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    trigger = spec.trigger("America/New_York")

    assert trigger.get_next_fire_time(start, start) == start + timedelta(seconds=5)


def test_the_positional_form_is_an_interval_job():
    spec = JobSpec("hourly", "portal.reports.jobs:purge_expired_reports", {"hours": 1})

    assert spec.kind == "interval"
    assert spec.trigger("UTC").interval == timedelta(hours=1)


@pytest.mark.parametrize(
    ("fields", "error"),
    [({"hours": 7}, TypeError), ({"hour": 25}, ValueError)],
    ids=["misspelt-field", "impossible-hour"],
)
def test_a_wrong_cron_field_fails_when_the_spec_is_made(fields, error):
    with pytest.raises(error):
        JobSpec.cron("weekly", "portal.reports.jobs:email_weekly_reports", **fields)


def test_an_interval_job_without_an_interval_is_refused():
    with pytest.raises(ValueError, match="needs an interval"):
        JobSpec("x", "portal.booking.jobs:expire_confirmations")


def test_an_unknown_kind_of_job_is_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        JobSpec("x", "portal.booking.jobs:expire_confirmations", {"days": 1}, kind="weekly")


@pytest.mark.parametrize("spec", JOBS, ids=[spec.id for spec in JOBS])
def test_every_registered_job_names_a_function_that_exists(spec):
    assert callable(ref_to_obj(spec.func))
