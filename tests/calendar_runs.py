"""`make test-calendar`: the suite at other moments of the year, on a moved clock.

No test may depend on the weekday, the hour, the month or the year it runs in. This
proves it: pytest runs with PORTAL_CLOCK_OFFSET moving the portal's clock (timeutil's
now_utc, which every decision reads, and the signing time of links) to

* the whole suite: a Saturday 10:00 and 31 December 23:50;
* every test marked `clock`: a Sunday 23:30, a Friday 17:55, and the evenings before the
  clocks change in Europe/London (last Saturday of March and of October) and in
  America/New_York (the Saturdays before the second Sunday of March and the first
  Sunday of November).

Each moment is the next one after today, in Europe/London (New York's in New York).
The offset reaches every process the run starts: the xdist workers and the live server
in them inherit it, and the tests hand it to each `portal scheduler` they start.
PostgreSQL keeps its own clock, so no query may decide on the database's now().

Why not Debian's faketime over the whole run: libfaketime 0.9.10 breaks Python's
waits. With the monotonic clock faked, `threading.Event.wait(0.1)` never returns; with
it real (FAKETIME_DONT_FAKE_MONOTONIC=1), every `time.sleep()` fails with EINVAL. The
portal's own clock setting is the one the issue allows beside it.

Every process notes the instant it read (`PORTAL_TEST_CLOCK_REPORT`, see
tests/conftest.py): pytest and its workers, the live server (its /healthz) and each
scheduler process. A run passes only when its tests pass and every one of those
readings lies on the moved moment (a clock that never reached them cannot pass).

`python tests/calendar_runs.py --only "Saturday 10:00"` runs one moment; extra pytest
arguments follow `--`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
# What must report its clock in a run: the browser tests start the live server and the
# process tests start `portal scheduler`; both are `clock` tests, so every run has them.
MUST_REPORT = ("pytest", "live server", "scheduler process")


@dataclass(frozen=True)
class Moment:
    label: str
    at: datetime  # aware
    whole_suite: bool


def _next_weekday(today: date, weekday: int) -> date:
    """The next date after `today` on `weekday` (Monday 0)."""
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _last_weekday_of(year: int, month: int, weekday: int) -> date:
    last = (date(year, month + 1, 1) if month < 12 else date(year + 1, 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _nth_weekday_of(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _next_yearly(now: datetime, make) -> datetime:
    """The first of this year's and next year's `make(year)` that is still ahead."""
    for year in (now.year, now.year + 1):
        moment = make(year)
        if moment > now:
            return moment
    raise AssertionError("unreachable")


def _at(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, wall(hour, minute), tzinfo=zone)


def moments(now: datetime) -> list[Moment]:
    today = now.astimezone(LONDON).date()
    saturday, sunday = 5, 6
    return [
        Moment("Saturday 10:00", _at(_next_weekday(today, saturday), 10, 0, LONDON), True),
        Moment(
            "31 December 23:50",
            _next_yearly(now, lambda y: _at(date(y, 12, 31), 23, 50, LONDON)),
            True,
        ),
        Moment("Sunday 23:30", _at(_next_weekday(today, sunday), 23, 30, LONDON), False),
        Moment("Friday 17:55", _at(_next_weekday(today, 4), 17, 55, LONDON), False),
        Moment(
            "London, eve of the March change",
            _next_yearly(
                now,
                lambda y: _at(_last_weekday_of(y, 3, sunday) - timedelta(days=1), 23, 30, LONDON),
            ),
            False,
        ),
        Moment(
            "London, eve of the October change",
            _next_yearly(
                now,
                lambda y: _at(_last_weekday_of(y, 10, sunday) - timedelta(days=1), 23, 30, LONDON),
            ),
            False,
        ),
        Moment(
            "New York, eve of the March change",
            _next_yearly(
                now,
                lambda y: _at(
                    _nth_weekday_of(y, 3, sunday, 2) - timedelta(days=1), 23, 30, NEW_YORK
                ),
            ),
            False,
        ),
        Moment(
            "New York, eve of the November change",
            _next_yearly(
                now,
                lambda y: _at(
                    _nth_weekday_of(y, 11, sunday, 1) - timedelta(days=1), 23, 30, NEW_YORK
                ),
            ),
            False,
        ),
    ]


@dataclass
class Outcome:
    moment: Moment
    status: int
    seconds: float
    summary: str
    readings: list[tuple[str, str]]
    problems: list[str]

    @property
    def passed(self) -> bool:
        return self.status == 0 and not self.problems


def _summary(output: str) -> str:
    """pytest's closing line ('== 1387 passed in 250.1s ==')."""
    lines = [line.strip("= ") for line in output.splitlines() if line.startswith("==")]
    return lines[-1] if lines else "(pytest printed no summary)"


def _check(moment: Moment, readings: list[tuple[str, str]], seconds: float) -> list[str]:
    """Each process must have read a clock between the moment and the end of the run."""
    problems = []
    earliest = moment.at.astimezone(UTC) - timedelta(minutes=1)
    latest = moment.at.astimezone(UTC) + timedelta(seconds=seconds + 120)
    for who in MUST_REPORT:
        if not any(name.startswith(who) for name, _ in readings):
            problems.append(f"{who}: never reported its clock")
    for who, seen in readings:
        instant = datetime.fromisoformat(seen)
        if not earliest <= instant <= latest:
            problems.append(f"{who} read {seen}, not the faked {moment.at.isoformat()}")
    return problems


def run(moment: Moment, pytest_args: list[str]) -> Outcome:
    offset = round((moment.at - datetime.now(UTC)).total_seconds())
    with tempfile.TemporaryDirectory(prefix="portal-calendar-") as folder:
        report = Path(folder) / "clock.tsv"
        report.touch()
        env = {
            **os.environ,
            "PORTAL_TEST_CLOCK_REPORT": str(report),
            "PORTAL_CLOCK_OFFSET": str(offset),
        }
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-W",
            "error",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            *([] if moment.whole_suite else ["-m", "clock"]),
            *pytest_args,
        ]
        started = time.monotonic()
        done = subprocess.run(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        seconds = time.monotonic() - started
        readings = [
            tuple(line.split("\t", 1))
            for line in report.read_text(encoding="utf-8").splitlines()
            if "\t" in line
        ]
    status = 1 if done.returncode == 5 else done.returncode  # no test run is a failure
    if status:
        tail = "\n".join(done.stdout.splitlines()[-60:])
        print(f"--- the end of pytest's output at {moment.label} ---\n{tail}\n---", flush=True)
    return Outcome(
        moment,
        status,
        seconds,
        _summary(done.stdout),
        readings,
        _check(moment, readings, seconds),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="run only the moment with this label")
    parser.add_argument("pytest_args", nargs="*", help="after --: more pytest arguments")
    args = parser.parse_args()
    chosen = [m for m in moments(datetime.now(UTC)) if not args.only or m.label in args.only]
    if not chosen:
        parser.error("no moment has that label")
    outcomes = []
    for moment in chosen:
        scope = "the whole suite" if moment.whole_suite else "tests marked clock"
        local = moment.at.strftime("%a %d %b %Y %H:%M %Z")
        print(f"# {moment.label}: {local}, {scope}", flush=True)
        outcome = run(moment, args.pytest_args)
        outcomes.append(outcome)
        for who in MUST_REPORT:
            instants = sorted(seen for name, seen in outcome.readings if name.startswith(who))
            if instants:
                last = f" .. {instants[-1]}" if len(instants) > 1 else ""
                print(f"  {who} read {instants[0]}{last}")
        for problem in outcome.problems:
            print(f"  CLOCK: {problem}")
        verdict = "ok" if outcome.passed else "FAILED"
        print(f"  {verdict}: {outcome.summary} ({outcome.seconds:.0f} s)", flush=True)
    print("\n# make test-calendar")
    for outcome in outcomes:
        verdict = "ok    " if outcome.passed else "FAILED"
        print(
            f"{verdict} {outcome.moment.label:<38} "
            f"{outcome.moment.at:%Y-%m-%d %H:%M %Z}  {outcome.summary}"
        )
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
