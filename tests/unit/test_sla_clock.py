"""The SLA clock: a milestone's state derived from its log, on a frozen clock.

Two calendars: around the clock (business time is wall time), and a fake office open Monday
to Friday 09:00-17:00 UTC written here, so these tests do not depend on the real calendar
module. At the end, a property test holds derive against a minute-by-minute simulation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.sla.clock import Clock, Event, MilestoneState, derive

MONDAY = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # 2026-06-01 is a Monday
START = MONDAY.replace(hour=9)
MINUTE = timedelta(minutes=1)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


ALWAYS = Clock(
    add=lambda start, amount: start + amount,
    between=lambda a, b: max(b - a, timedelta(0)),
)


def office_between(a: datetime, b: datetime) -> timedelta:
    total = timedelta(0)
    day = a.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < b:
        if day.weekday() < 5:
            opens, closes = day.replace(hour=9), day.replace(hour=17)
            total += max(min(b, closes) - max(a, opens), timedelta(0))
        day += timedelta(days=1)
    return total


def office_add(start: datetime, amount: timedelta) -> datetime:
    """The earliest instant at which ``amount`` of office time has passed since ``start``."""
    if amount <= timedelta(0):
        return start
    cursor = start
    while True:
        day = cursor.replace(hour=0, minute=0, second=0, microsecond=0)
        if day.weekday() < 5:
            opens, closes = max(cursor, day.replace(hour=9)), day.replace(hour=17)
            if opens < closes:
                if amount <= closes - opens:
                    return opens + amount
                amount -= closes - opens
        cursor = day + timedelta(days=1)


OFFICE = Clock(add=office_add, between=office_between)


def started(minutes: int = 240, at_: datetime = START) -> list[Event]:
    return [Event(at_, "start", minutes)]


# --- running, warning, violated -----------------------------------------------------------


def test_a_new_milestone_is_pending_and_due_one_target_later():
    result = derive(started(240), at(0), ALWAYS)
    assert result == MilestoneState(
        state="pending",
        paused=False,
        target=timedelta(minutes=240),
        used=timedelta(0),
        due_at=at(240),
        warn_at=at(180),
        completed_at=None,
        next_check_at=at(180),
    )


def test_the_milestone_warns_at_three_quarters_of_its_target_by_default():
    assert derive(started(240), at(179), ALWAYS).state == "pending"
    result = derive(started(240), at(180), ALWAYS)
    assert result.state == "warning"
    assert result.warn_at is None
    assert result.next_check_at == at(240)


def test_the_warning_share_is_configurable():
    result = derive(started(240), at(0), ALWAYS, warn_share=0.5)
    assert result.warn_at == at(120)
    assert derive(started(240), at(120), ALWAYS, warn_share=0.5).state == "warning"


def test_reaching_the_due_instant_while_open_is_a_violation_and_nothing_is_left_to_check():
    result = derive(started(240), at(240), ALWAYS)
    assert result.state == "violated"
    assert result.due_at == at(240)
    assert result.next_check_at is None
    assert result.remaining == timedelta(0)


def test_used_keeps_growing_past_the_target():
    assert derive(started(240), at(300), ALWAYS).used == timedelta(minutes=300)


# --- pause and resume ---------------------------------------------------------------------


def test_a_paused_milestone_has_no_due_time_and_nothing_to_check():
    events = [*started(240), Event(at(60), "pause")]
    result = derive(events, at(100), ALWAYS)
    assert result.paused
    assert result.used == timedelta(minutes=60)
    assert (result.due_at, result.warn_at, result.next_check_at) == (None, None, None)


def test_a_paused_milestone_never_violates_however_long_it_waits():
    events = [*started(240), Event(at(200), "pause")]
    result = derive(events, at(60 * 24 * 365), ALWAYS)
    assert result.state == "warning"
    assert result.used == timedelta(minutes=200)


def test_resuming_pushes_the_due_time_back_by_the_pause_and_no_more():
    events = [*started(240), Event(at(60), "pause"), Event(at(90), "resume")]
    result = derive(events, at(100), ALWAYS)
    assert not result.paused
    assert result.used == timedelta(minutes=70)
    assert result.due_at == at(270)
    assert result.warn_at == at(210)


def test_a_violated_milestone_stays_violated_while_paused():
    events = [*started(60), Event(at(90), "pause")]
    result = derive(events, at(120), ALWAYS)
    assert (result.state, result.paused) == ("violated", True)


def test_a_pause_while_paused_and_a_resume_while_running_change_nothing():
    plain = [*started(240), Event(at(60), "pause"), Event(at(90), "resume")]
    noisy = [
        *started(240),
        Event(at(10), "resume"),
        Event(at(60), "pause"),
        Event(at(70), "pause"),
        Event(at(90), "resume"),
        Event(at(95), "resume"),
    ]
    assert derive(noisy, at(100), ALWAYS) == derive(plain, at(100), ALWAYS)


# --- target changes (priority) ------------------------------------------------------------


def test_a_longer_target_is_counted_from_the_start_not_from_the_change():
    events = [*started(240), Event(at(60), "target", 480)]
    result = derive(events, at(60), ALWAYS)
    assert result.due_at == at(480)
    assert result.warn_at == at(360)
    assert result.used == timedelta(minutes=60)


def test_a_shorter_target_not_yet_reached_brings_the_due_time_forward_from_the_log():
    events = [*started(240), Event(at(30), "pause"), Event(at(50), "resume")]
    events.append(Event(at(60), "target", 120))
    result = derive(events, at(60), ALWAYS)
    # 30 minutes before the pause, 10 after it: 80 left from the resume at 50.
    assert result.due_at == at(140)
    assert result.state == "pending"


def test_a_shorter_target_already_exceeded_violates_at_once():
    events = [*started(480), Event(at(100), "target", 60)]
    result = derive(events, at(100), ALWAYS)
    assert result.state == "violated"
    assert result.due_at == at(60)
    assert result.next_check_at is None


def test_a_shorter_target_exceeded_before_a_pause_is_due_inside_the_earlier_stretch():
    events = [
        *started(480),
        Event(at(90), "pause"),
        Event(at(120), "resume"),
        Event(at(130), "target", 60),
    ]
    result = derive(events, at(130), ALWAYS)
    assert result.state == "violated"
    assert result.due_at == at(60)


def test_a_shorter_target_exceeded_while_paused_violates_at_once():
    events = [*started(480), Event(at(90), "pause"), Event(at(100), "target", 60)]
    result = derive(events, at(100), ALWAYS)
    assert (result.state, result.paused, result.due_at) == ("violated", True, None)


def test_a_target_lowered_to_exactly_the_time_used_was_due_when_that_time_ran_out():
    events = [
        *started(480),
        Event(at(60), "pause"),
        Event(at(70), "target", 60),
        Event(at(100), "resume"),
    ]
    result = derive(events, at(100), ALWAYS)
    assert (result.state, result.due_at) == ("violated", at(60))


def test_a_target_change_into_the_warning_band_warns_at_once():
    events = [*started(480), Event(at(100), "target", 120)]
    result = derive(events, at(100), ALWAYS)
    assert result.state == "warning"
    assert result.warn_at is None
    assert result.next_check_at == at(120)


# --- completion ---------------------------------------------------------------------------


def test_completion_within_the_target_is_on_time():
    events = [*started(240), Event(at(200), "complete")]
    result = derive(events, at(500), ALWAYS)
    assert result.state == "completed_on_time"
    assert result.completed_at == at(200)
    assert result.used == timedelta(minutes=200)
    assert (result.due_at, result.warn_at, result.next_check_at) == (None, None, None)
    assert not result.is_open


def test_completion_exactly_at_the_due_instant_is_on_time():
    events = [*started(240), Event(at(240), "complete")]
    assert derive(events, at(240), ALWAYS).state == "completed_on_time"


def test_completion_after_the_target_is_late():
    events = [*started(240), Event(at(241), "complete")]
    assert derive(events, at(300), ALWAYS).state == "completed_late"


def test_completion_while_paused_counts_only_the_time_before_the_pause():
    events = [*started(240), Event(at(100), "pause"), Event(at(900), "complete")]
    result = derive(events, at(900), ALWAYS)
    assert (result.state, result.used, result.paused) == (
        "completed_on_time",
        timedelta(minutes=100),
        False,
    )


def test_events_after_completion_are_ignored():
    done = [*started(240), Event(at(100), "complete")]
    later = [*done, Event(at(110), "target", 30), Event(at(120), "resume")]
    assert derive(later, at(200), ALWAYS) == derive(done, at(200), ALWAYS)


def test_events_later_than_now_have_not_happened_yet():
    events = [*started(240), Event(at(100), "pause"), Event(at(150), "complete")]
    assert derive(events, at(50), ALWAYS) == derive(started(240), at(50), ALWAYS)
    assert derive(events, at(120), ALWAYS).paused


def test_events_at_the_same_instant_apply_in_log_order():
    events = [*started(240), Event(at(60), "pause"), Event(at(60), "complete")]
    assert derive(events, at(60), ALWAYS).state == "completed_on_time"


# --- business hours -----------------------------------------------------------------------

FRIDAY = MONDAY + timedelta(days=4)
NEXT_MONDAY = MONDAY + timedelta(days=7)


def test_the_due_time_skips_the_night():
    events = started(240, at_=MONDAY.replace(hour=15))
    result = derive(events, MONDAY.replace(hour=15), OFFICE)
    assert result.due_at == MONDAY.replace(day=2, hour=11)
    assert result.warn_at == MONDAY.replace(day=2, hour=10)


def test_the_due_time_skips_the_weekend():
    events = started(120, at_=FRIDAY.replace(hour=16))
    result = derive(events, FRIDAY.replace(hour=16, minute=30), OFFICE)
    assert result.due_at == NEXT_MONDAY.replace(hour=10)
    assert result.used == timedelta(minutes=30)


def test_time_outside_business_hours_never_counts():
    events = started(600, at_=FRIDAY.replace(hour=16))
    result = derive(events, NEXT_MONDAY.replace(hour=8, minute=59), OFFICE)
    assert (result.state, result.used) == ("pending", timedelta(minutes=60))


def test_a_hold_over_the_weekend_adds_no_wall_clock_time():
    # Frappe/ERPNext #47029 adds the hold back in wall-clock seconds, due on a Sunday.
    events = [
        *started(240, at_=FRIDAY.replace(hour=15)),
        Event(FRIDAY.replace(hour=16), "pause"),
        Event(NEXT_MONDAY.replace(hour=12), "resume"),
    ]
    result = derive(events, NEXT_MONDAY.replace(hour=12), OFFICE)
    assert result.used == timedelta(minutes=60)
    assert result.due_at == NEXT_MONDAY.replace(hour=15)


def test_a_target_met_at_closing_time_is_due_at_closing_not_next_morning():
    events = started(120, at_=MONDAY.replace(hour=15))
    assert derive(events, MONDAY.replace(hour=15), OFFICE).due_at == MONDAY.replace(hour=17)


def test_a_milestone_started_at_night_starts_counting_at_opening():
    events = started(60, at_=MONDAY.replace(hour=22))
    result = derive(events, MONDAY.replace(day=2, hour=9, minute=30), OFFICE)
    assert result.used == timedelta(minutes=30)
    assert result.due_at == MONDAY.replace(day=2, hour=10)


# --- a log the caller got wrong -----------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "cannot be empty"),
        ([Event(at(0), "pause")], "begins with 'start'"),
        ([*started(), Event(at(5), "start", 60)], "starts only once"),
        ([*started(), Event(at(5), "snooze")], "unknown kind"),
        ([*started(), Event(at(5), "pause"), Event(at(4), "resume")], "out of time order"),
        ([*started(), Event(at(5), "complete"), Event(at(4), "resume")], "out of time order"),
        ([Event(at(0), "start")], "positive whole number"),
        ([Event(at(0), "start", 0)], "positive whole number"),
        ([*started(), Event(at(5), "target", -30)], "positive whole number"),
        ([*started(), Event(at(5), "target", 1.5)], "positive whole number"),
        ([*started(), Event(at(5), "target", True)], "positive whole number"),
        ([*started(), Event(at(5), "pause", 30)], "carries no minutes"),
        ([Event(START.replace(tzinfo=None), "start", 60)], "aware datetime"),
    ],
)
def test_a_malformed_log_is_refused(events, message):
    with pytest.raises(ValueError, match=message):
        derive(events, at(10), ALWAYS)


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError, match="aware datetime"):
        derive(started(), START.replace(tzinfo=None), ALWAYS)


def test_asking_before_the_start_is_refused():
    with pytest.raises(ValueError, match="starts after"):
        derive(started(), at(-1), ALWAYS)


@pytest.mark.parametrize("share", [0, -0.5, 1.5, True])
def test_a_warning_share_outside_zero_to_one_is_refused(share):
    with pytest.raises(ValueError, match="warning share"):
        derive(started(), at(0), ALWAYS, warn_share=share)


def test_the_instants_may_be_in_any_zone():
    from zoneinfo import ZoneInfo

    kolkata = ZoneInfo("Asia/Kolkata")
    events = [Event(START.astimezone(kolkata), "start", 60)]
    assert derive(events, at(30).astimezone(kolkata), ALWAYS).due_at == at(60)


# --- against a minute-by-minute simulation ------------------------------------------------


def simulate(events: list[Event], now: datetime, is_business, warn_share: float):
    """Walk the log a minute at a time; every event falls on a whole minute."""
    target = timedelta(minutes=events[0].minutes)
    running, completed_at = True, None
    remaining_log = [e for e in events[1:] if e.at <= now]
    cursor, used = events[0].at, timedelta(0)

    # Up to now, applying the events that fall on each minute before it runs.
    while cursor < now and completed_at is None:
        while remaining_log and remaining_log[0].at <= cursor and completed_at is None:
            event = remaining_log.pop(0)
            if event.kind == "pause":
                running = False
            elif event.kind == "resume":
                running = True
            elif event.kind == "target":
                target = timedelta(minutes=event.minutes)
            elif event.kind == "complete":
                completed_at, running = event.at, False
        if completed_at is not None:
            break
        if running and is_business(cursor):
            used += MINUTE
        cursor += MINUTE
    for event in remaining_log:  # events exactly at now
        if completed_at is not None:
            break
        if event.kind == "pause":
            running = False
        elif event.kind == "resume":
            running = True
        elif event.kind == "target":
            target = timedelta(minutes=event.minutes)
        elif event.kind == "complete":
            completed_at, running = event.at, False

    if completed_at is not None:
        return ("completed_late" if used > target else "completed_on_time", used, None, None)
    state = "pending"
    if used >= target:
        state = "violated"
    elif used >= target * warn_share:
        state = "warning"
    if not running:
        return (state, used, None, None)
    # When did (or will) the running total reach the target and the warning threshold?
    # Replay from the start with the final target, carrying on past now with no events.
    total, minute, found = timedelta(0), events[0].at, {}
    run = True
    log = [e for e in events[1:] if e.at <= now]
    thresholds = {"due": target, "warn": target * warn_share}
    while len(found) < 2:
        while log and log[0].at <= minute:
            kind = log.pop(0).kind
            run = {"pause": False, "resume": True}.get(kind, run)
        if run and is_business(minute):
            for name, amount in thresholds.items():
                if name not in found and total < amount <= total + MINUTE:
                    found[name] = minute + (amount - total)
            total += MINUTE
        minute += MINUTE
    warn_at = found["warn"] if found["warn"] > now and state == "pending" else None
    return (state, used, found["due"], warn_at)


def business_minute(minute: datetime) -> bool:
    return minute.weekday() < 5 and 9 <= minute.hour < 17


@st.composite
def logs(draw):
    start = MONDAY + timedelta(minutes=draw(st.integers(0, 60 * 24 * 3)))
    events = [Event(start, "start", draw(st.integers(1, 900)))]
    offsets = sorted(draw(st.lists(st.integers(0, 60 * 24 * 3), max_size=6)))
    for offset in offsets:
        kind = draw(st.sampled_from(["pause", "resume", "target", "complete"]))
        minutes = draw(st.integers(1, 900)) if kind == "target" else None
        events.append(Event(start + timedelta(minutes=offset), kind, minutes))
    now = start + timedelta(minutes=draw(st.integers(0, 60 * 24 * 5)))
    return events, now


@settings(max_examples=150, deadline=None)
@given(log=logs(), share=st.sampled_from([0.5, 0.75, 0.8, 1.0]), office=st.booleans())
def test_derive_agrees_with_a_minute_by_minute_simulation(log, share, office):
    events, now = log
    clock, is_business = (OFFICE, business_minute) if office else (ALWAYS, lambda _m: True)
    result = derive(events, now, clock, warn_share=share)
    state, used, due_at, warn_at = simulate(events, now, is_business, share)
    assert (result.state, result.used, result.due_at, result.warn_at) == (
        state,
        used,
        due_at,
        warn_at,
    )
    expected_next = warn_at or (due_at if state != "violated" else None)
    assert result.next_check_at == expected_next
