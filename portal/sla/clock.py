"""The SLA clock: a milestone's state, derived from its append-only log of events.

A milestone (first response, resolution) never stores "time left" as a number that jobs
count down. It keeps a log (start, pause, resume, target change, complete) and everything
shown or acted on is derived from that log by :func:`derive`, as of a given instant:

* Only business time while the clock runs counts. Time paused is never counted, neither in
  wall-clock time nor otherwise (ERPNext adds hold time back in wall-clock seconds, which
  puts deadlines at night and at weekends: frappe/erpnext #47029).
* A target change (the case's priority moved) keeps the business time used so far and
  recomputes the due time from the log: the due instant is the earliest one at which the time used
  reached (or will reach) the new target, which may lie in the past. Never "now + new target".
* The calendar's arithmetic is injected as a :class:`Clock` (``add`` and ``between``), so this
  module stays standard-library only and is tested with a 24/7 clock and a fake office one;
  the app passes ``portal.calendars.business``'s functions bound to the milestone's calendar.

Decisions the log's shape forces, all tested in tests/unit/test_sla_clock.py:

* The log must be in time order (equal instants keep their log order); a log out of order,
  an unknown kind, a naive instant, a log that does not begin with one "start", or a target
  that is not a positive whole number of minutes is a bug in the caller: ``ValueError``.
* Redundant events are harmless: a "pause" while paused and a "resume" while running change
  nothing, so two watchers reacting to the same status change cannot corrupt a milestone.
* "complete" is final: events after it are ignored (a priority change on a case whose
  response was already given does not rewrite history). They must still be in time order.
* Events later than ``now`` have not happened yet as of ``now`` and are ignored, so derive
  also answers "what was the state at t" for reports.
* The due instant is "due by": reaching it while open is a violation (``used >= target``),
  completing exactly at it is on time (late means ``used > target``).
* A violated milestone stays violated while paused, and a lower target that the time already
  used exceeds violates at once, paused or not; time passing while paused never violates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "CLOSED_STATES",
    "DEFAULT_WARN_SHARE",
    "EVENT_KINDS",
    "OPEN_STATES",
    "STATES",
    "Clock",
    "Event",
    "MilestoneState",
    "derive",
]

EVENT_KINDS = ("start", "pause", "resume", "complete", "target")
OPEN_STATES = ("pending", "warning", "violated")
CLOSED_STATES = ("completed_on_time", "completed_late")
STATES = OPEN_STATES + CLOSED_STATES
DEFAULT_WARN_SHARE = 0.75

_KINDS_WITH_MINUTES = frozenset({"start", "target"})
_ZERO = timedelta(0)


@dataclass(frozen=True)
class Event:
    """One entry of a milestone's log; ``minutes`` is the target for start and target."""

    at: datetime
    kind: str
    minutes: int | None = None


@dataclass(frozen=True)
class Clock:
    """A calendar's business-time arithmetic, bound to one calendar."""

    add: Callable[[datetime, timedelta], datetime]
    between: Callable[[datetime, datetime], timedelta]


@dataclass(frozen=True)
class MilestoneState:
    """What the log says as of one instant."""

    state: str
    paused: bool
    target: timedelta
    used: timedelta
    due_at: datetime | None
    warn_at: datetime | None
    completed_at: datetime | None
    next_check_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def remaining(self) -> timedelta:
        """Business time left before the target; negative once it is exceeded."""
        return self.target - self.used


def derive(
    events: Sequence[Event],
    now: datetime,
    clock: Clock,
    warn_share: float = DEFAULT_WARN_SHARE,
) -> MilestoneState:
    """The milestone's state as of ``now``, derived from its log alone."""
    _check_instant(now, "now")
    if isinstance(warn_share, bool) or not 0 < warn_share <= 1:
        raise ValueError(f"The warning share must be above 0 and at most 1, not {warn_share!r}.")
    _check_log(events)
    if events[0].at > now:
        raise ValueError("The milestone starts after the moment asked about.")

    start = events[0]
    target = timedelta(minutes=start.minutes)  # type: ignore[arg-type]  # checked above
    # Business time of the closed running segments, and the segments themselves: a lowered
    # target may have been reached in one of them, and the due instant lies there.
    segments: list[tuple[datetime, datetime, timedelta]] = []
    used = _ZERO
    running_since: datetime | None = start.at
    completed_at: datetime | None = None

    for event in events[1:]:
        if event.at > now:
            break
        if event.kind in ("pause", "complete") and running_since is not None:
            length = clock.between(running_since, event.at)
            segments.append((running_since, event.at, length))
            used += length
            running_since = None
        if event.kind == "resume" and running_since is None:
            running_since = event.at
        elif event.kind == "target":
            target = timedelta(minutes=event.minutes)  # type: ignore[arg-type]
        elif event.kind == "complete":
            completed_at = event.at
            break

    if completed_at is not None:
        state = "completed_late" if used > target else "completed_on_time"
        return MilestoneState(state, False, target, used, None, None, completed_at, None)

    if running_since is None:
        state = _open_state(used, target, warn_share)
        return MilestoneState(state, True, target, used, None, None, None, None)

    used_now = used + clock.between(running_since, now)
    state = _open_state(used_now, target, warn_share)
    if used < target:
        due_at = clock.add(running_since, target - used)
    else:
        due_at = _reached_in(segments, target, clock)
    warn_at = None
    threshold = target * warn_share
    if used_now < threshold:
        # used <= used_now < threshold, so the threshold lies ahead on the running segment.
        warn_at = clock.add(running_since, threshold - used)
    if warn_at is not None:
        next_check_at = warn_at
    elif state != "violated":
        next_check_at = due_at
    else:
        next_check_at = None
    return MilestoneState(state, False, target, used_now, due_at, warn_at, None, next_check_at)


def _open_state(used: timedelta, target: timedelta, warn_share: float) -> str:
    if used >= target:
        return "violated"
    if used >= target * warn_share:
        return "warning"
    return "pending"


def _reached_in(
    segments: Sequence[tuple[datetime, datetime, timedelta]], amount: timedelta, clock: Clock
) -> datetime:
    """The instant in the closed segments at which the business time used reached ``amount``."""
    before = _ZERO
    for since, until, length in segments:
        if before + length >= amount:
            return min(clock.add(since, amount - before), until)
        before += length
    raise AssertionError("the closed segments add up to less than the amount")  # pragma: no cover


def _check_instant(value: object, what: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, not {value!r}.")


def _check_log(events: Sequence[Event]) -> None:
    if not events:
        raise ValueError("A milestone's log cannot be empty: it begins with 'start'.")
    previous: datetime | None = None
    for position, event in enumerate(events):
        _check_instant(event.at, f"Event {position} ({event.kind!r}) time")
        if event.kind not in EVENT_KINDS:
            raise ValueError(f"Event {position} has an unknown kind {event.kind!r}.")
        if (position == 0) != (event.kind == "start"):
            raise ValueError(
                "A milestone's log begins with 'start' and starts only once "
                f"(event {position} is {event.kind!r})."
            )
        if event.kind in _KINDS_WITH_MINUTES:
            minutes = event.minutes
            if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
                raise ValueError(
                    f"Event {position} ({event.kind!r}) needs a target of a positive whole "
                    f"number of minutes, not {minutes!r}."
                )
        elif event.minutes is not None:
            raise ValueError(f"Event {position} ({event.kind!r}) carries no minutes.")
        if previous is not None and event.at < previous:
            raise ValueError(
                f"The log is out of time order: event {position} ({event.kind!r}) at "
                f"{event.at.isoformat()} comes before {previous.isoformat()}."
            )
        previous = event.at
