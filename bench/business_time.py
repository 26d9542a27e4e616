"""Business-time benchmark: prints name=value lines. No database.

Scenario (issue #14): a back office open Monday to Friday 09:00-12:30 and 13:30-17:30 in
London, with a dozen holidays in the year; an SLA of 40 business hours (a week and more of
days, across weekends, holidays and both clock changes) added from starts spread over 2026
at any minute, night and weekend included.

  business_add_us / business_add_us_p95   one add_business_time of 40 hours (target: < 200)
  business_between_us                     business_time_between over two weeks
  calendar_compile_us                     building (checking and compiling) the Calendar
  business_add_cold_zone_us               the first add in a zone not seen before (its
                                          offsets for the quarter are found then cached)
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.calendars import business  # noqa: E402
from portal.calendars.business import (  # noqa: E402
    Calendar,
    Holiday,
    Interval,
    add_business_time,
    business_time_between,
)

ADDS = 20_000
BETWEENS = 5_000
SLA = timedelta(hours=40)
HOLIDAYS = (  # England's 2026 bank holidays, the office's Christmas closure, a training day
    Holiday(date(2026, 1, 1), name="New Year's Day"),
    Holiday(date(2026, 4, 3), name="Good Friday"),
    Holiday(date(2026, 4, 6), name="Easter Monday"),
    Holiday(date(2026, 5, 4), name="Early May bank holiday"),
    Holiday(date(2026, 5, 25), name="Spring bank holiday"),
    Holiday(date(2026, 8, 31), name="Summer bank holiday"),
    Holiday(date(2026, 12, 24), 13 * 60, 24 * 60, "Christmas Eve afternoon"),
    Holiday(date(2026, 12, 25), name="Christmas Day"),
    Holiday(date(2026, 12, 28), name="Boxing Day (substitute)"),
    Holiday(date(2026, 12, 29), name="Office closed"),
    Holiday(date(2026, 12, 30), name="Office closed"),
    Holiday(date(2026, 12, 31), 12 * 60, 24 * 60, "New Year's Eve afternoon"),
    Holiday(date(2026, 6, 19), 13 * 60 + 30, 17 * 60 + 30, "Training"),
)


def office_hours() -> tuple[Interval, ...]:
    return tuple(
        Interval(day, start, end)
        for day in range(5)
        for start, end in ((9 * 60, 12 * 60 + 30), (13 * 60 + 30, 17 * 60 + 30))
    )


def pct(samples: list[float], q: float) -> float:
    """The q-quantile (0..1) of `samples`, nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def starts(count: int, seed: int) -> list[datetime]:
    """Instants at any minute of 2026, nights and weekends included."""
    rng = random.Random(seed)
    year = datetime(2026, 1, 1, tzinfo=UTC)
    return [year + timedelta(minutes=rng.randrange(365 * 1440)) for _ in range(count)]


def timed_us(call, *args) -> float:
    t0 = time.perf_counter_ns()
    call(*args)
    return (time.perf_counter_ns() - t0) / 1000


def main() -> None:
    compile_samples = [
        timed_us(Calendar, "Europe/London", office_hours(), HOLIDAYS) for _ in range(2000)
    ]
    cal = Calendar("Europe/London", office_hours(), HOLIDAYS)

    for start in starts(500, seed=1):  # warm up: the zone's offsets for the year are cached
        add_business_time(cal, start, SLA)
    adds = [timed_us(add_business_time, cal, start, SLA) for start in starts(ADDS, seed=2)]

    two_weeks = timedelta(days=14)
    betweens = [
        timed_us(business_time_between, cal, start, start + two_weeks)
        for start in starts(BETWEENS, seed=3)
    ]

    cold = []
    for zone in ("America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/Paris"):
        business._zone_table.cache_clear()
        other = Calendar(zone, office_hours(), HOLIDAYS)
        cold.append(timed_us(add_business_time, other, datetime(2026, 3, 6, 12, tzinfo=UTC), SLA))

    print(f"business_add_us={statistics.median(adds):.1f}")
    print(f"business_add_us_p95={pct(adds, 0.95):.1f}")
    print(f"business_between_us={statistics.median(betweens):.1f}")
    print(f"calendar_compile_us={statistics.median(compile_samples):.1f}")
    print(f"business_add_cold_zone_us={statistics.median(cold):.0f}")


if __name__ == "__main__":
    main()
