"""Window suggestions for moving an appointment: ranked to suit both the customer's
stated preferences and the agents, and explained in a few words.

Every suggestion is a window that live availability offers right now (the
appointment's own holds count as free, since it is the one moving), so picking one and
rescheduling through the state machine books it unless someone takes it in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy.orm as so

from portal.availability.engine import Window
from portal.booking.models import Appointment
from portal.booking.windows import get_availability, location_zone
from portal.timeutil import local_day_bounds, to_local

PARTS_OF_DAY = {"morning": (0, 12), "afternoon": (12, 17), "evening": (17, 24)}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Preferences:
    """What the customer said suits it; empty means anything goes."""

    weekdays: frozenset[int] = frozenset()
    part_of_day: str = "any"  # morning, afternoon, evening or any (by local arrival time)
    earliest: date | None = None
    agent_id: int | None = None

    def __post_init__(self) -> None:
        if self.part_of_day != "any" and self.part_of_day not in PARTS_OF_DAY:
            raise ValueError(f"unknown part of day {self.part_of_day!r}")
        if any(not 0 <= d <= 6 for d in self.weekdays):
            raise ValueError("weekdays run from 0 (Monday) to 6 (Sunday)")


@dataclass(frozen=True)
class Suggestion:
    window: Window
    score: float
    reasons: tuple[str, ...] = field(default=())
    keeps_agents: bool = False

    @property
    def explanation(self) -> str:
        text = ", ".join(self.reasons) or "free"
        return text[:1].upper() + text[1:]


def suggest_windows(
    session: so.Session,
    appointment: Appointment,
    preferences: Preferences,
    *,
    now: datetime,
    days: int = 14,
    limit: int = 5,
    org_zone: str | None = None,
) -> list[Suggestion]:
    """The best windows to move `appointment` to, best first, each with its reasons."""
    zone = location_zone(appointment.location, org_zone)
    start = now
    if preferences.earliest is not None:
        start = max(now, local_day_bounds(preferences.earliest, zone)[0])
    found = get_availability(
        session,
        appointment.service,
        appointment.location,
        range_start=start,
        range_end=start + timedelta(days=days),
        now=now,
        org_zone=org_zone,
        explain=False,
        ignore_appointment=appointment.id,
    ).windows
    current = frozenset(h.agent_id for h in appointment.holds) or frozenset(
        t.agent_id
        for t in appointment.work_order.tasks
        if t.appointment_id == appointment.id
        and t.agent_id is not None
        and t.status not in ("declined",)
    )
    needed = appointment.service.agents_needed
    ranked = [
        _score(w, preferences, current, needed, zone, found[0].starts_at if found else now, days)
        for w in found
        if w.starts_at != appointment.window_start or not appointment.holds
    ]
    ranked.sort(key=lambda s: (-s.score, s.window.starts_at))
    return ranked[:limit]


def _score(
    window: Window,
    prefs: Preferences,
    current: frozenset[int],
    needed: int,
    zone: str,
    first: datetime,
    days: int,
) -> Suggestion:
    local = to_local(window.starts_at, zone)
    score, reasons = 0.0, []
    free = set(window.agent_ids)
    keeps = bool(current) and len(current & free) >= min(needed, len(current))
    if keeps:
        score += 4
        reasons.append("same technician" if needed == 1 else "same technicians")
    elif current & free:
        score += 2
        reasons.append("one of the same technicians")
    if prefs.agent_id is not None and prefs.agent_id in free:
        score += 2
        reasons.append("preferred technician")
    day_ok = not prefs.weekdays or local.weekday() in prefs.weekdays
    part_ok = prefs.part_of_day == "any" or _in_part(local.hour, prefs.part_of_day)
    if prefs.weekdays and day_ok:
        score += 2
    if prefs.part_of_day != "any" and part_ok:
        score += 2
    if (prefs.weekdays and day_ok) or (prefs.part_of_day != "any" and part_ok):
        words = []
        if prefs.weekdays and day_ok:
            words.append(WEEKDAY_NAMES[local.weekday()])
        if prefs.part_of_day != "any" and part_ok:
            words.append(prefs.part_of_day)
        reasons.append(" ".join(words) + " as preferred")
    # Sooner is better, linearly over the search span; the very first gets a word.
    elapsed = (window.starts_at - first).total_seconds() / (days * 86400)
    score += 1.5 * max(0.0, 1 - elapsed)
    if window.starts_at == first:
        reasons.append("soonest")
    # More free agents means the load can be spread fairly.
    score += 0.5 * min(window.capacity, 3) / 3
    return Suggestion(
        window=window, score=round(score, 3), reasons=tuple(reasons), keeps_agents=keeps
    )


def _in_part(hour: int, part: str) -> bool:
    lo, hi = PARTS_OF_DAY[part]
    return lo <= hour < hi


def preferences_of(appointment: Appointment) -> Preferences:
    """The preferences the customer stated when booking."""
    return Preferences(
        weekdays=frozenset(int(d) for d in appointment.pref_weekdays if d.isdigit()),
        part_of_day=appointment.pref_part_of_day or "any",
        earliest=appointment.pref_earliest,
        agent_id=appointment.pref_agent_id,
    )
