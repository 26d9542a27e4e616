"""Booking a window: what it creates, what it holds, and what it refuses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.booking.models import Appointment, AppointmentHold
from portal.booking.queries import week_view
from portal.booking.services import BookingRequest, WindowTaken, book_window
from portal.booking.suggestions import Preferences, preferences_of
from portal.errors import Invalid, NotAllowed, NotFound
from portal.workforce.services import add_holiday
from portal.workorders.models import TimelineEntry, WorkOrder, WorkOrderTask
from tests.factories import (
    NOW,
    add_time_off,
    build_world,
    create_account,
    create_agent,
    create_appointment,
    create_customer,
    create_location,
    create_service,
    create_task,
    create_territory,
    create_user,
)

# NOW is Monday 1 June 2026, 07:00 in London (BST). Agents work 09:00-17:00 London.
# Tuesday's 08:00-10:00 London window; its agents can start at 09:00 London (08:00 UTC).
WINDOW = datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
PLANNED = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    return build_world(session, service={"duration_minutes": 60, "buffer_minutes": 30})


def booking(world, start=WINDOW, **overrides) -> BookingRequest:
    values = {
        "customer": world["customer"],
        "service": world["service"],
        "location": world["location"],
        "window_start": start,
        "note": "Boiler knocks",
    }
    values.update(overrides)
    return BookingRequest(**values)


def test_booking_creates_appointment_work_order_task_and_timeline(session, world):
    appt = book_window(session, booking(world))

    assert appt.status == "requested"
    assert appt.account_id == world["account"].id
    work_order = session.get(WorkOrder, appt.work_order_id)
    assert work_order.status == "scheduled"
    assert work_order.description == "Boiler knocks"
    tasks = session.scalars(sa.select(WorkOrderTask)).all()
    assert [(t.agent_id, t.status, t.appointment_id) for t in tasks] == [
        (world["agent"].id, "assigned", appt.id)
    ]
    actions = session.scalars(
        sa.select(TimelineEntry.action).where(TimelineEntry.work_order_id == work_order.id)
    ).all()
    assert sorted(actions) == ["assigned", "booked", "created"]


def test_booking_holds_the_agent_for_the_job_plus_travel_buffer(session, world):
    appt = book_window(session, booking(world))

    (hold,) = appt.holds
    assert hold.agent_id == world["agent"].id
    assert appt.window_start == WINDOW
    assert hold.starts_at == PLANNED
    assert hold.ends_at == PLANNED + timedelta(minutes=90)
    assert appt.planned_end == PLANNED + timedelta(minutes=60)


def test_a_window_whose_only_agent_is_held_is_no_longer_offered(session, world):
    book_window(session, booking(world))

    week = week_view(
        session,
        world["service"],
        world["location"],
        date(2026, 6, 1),
        NOW,
        org_zone="Europe/London",
    )
    tuesday = week.days[1]
    assert WINDOW not in [w.starts_at for w in tuesday.windows]
    # The next window starts when the 90-minute hold ends, at 10:30 London.
    assert tuesday.windows[0].planned_start == PLANNED + timedelta(minutes=90)


def test_the_same_idempotency_key_books_once(session, world):
    first = book_window(session, booking(world, idempotency_key="key-1"))
    again = book_window(session, booking(world, idempotency_key="key-1"))

    assert again.id == first.id
    assert session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 1


def test_a_repeat_while_the_window_has_another_place_writes_nothing(session, world):
    create_agent(session)  # a second place in the window: the repeat gets to the insert
    first = book_window(session, booking(world, idempotency_key="key-1"))

    again = book_window(session, booking(world, idempotency_key="key-1"))

    assert again.id == first.id
    counts = [
        session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Appointment, AppointmentHold, WorkOrder, WorkOrderTask, TimelineEntry)
    ]
    assert counts == [1, 1, 1, 1, 3]


def test_a_repeat_after_the_service_was_withdrawn_still_answers_with_the_booking(session, world):
    first = book_window(session, booking(world, idempotency_key="key-1"))
    world["service"].active = False

    again = book_window(session, booking(world, idempotency_key="key-1"))

    assert again.id == first.id
    with pytest.raises(Invalid, match="cannot be booked"):
        book_window(session, booking(world, idempotency_key="key-2"))


def test_a_taken_window_is_refused_with_the_nearest_free_windows(session, world):
    book_window(session, booking(world))

    with pytest.raises(WindowTaken) as taken:
        book_window(session, booking(world))

    assert "just taken" in taken.value.message
    starts = [w.starts_at for w in taken.value.alternatives]
    assert len(starts) == 3 and WINDOW not in starts
    assert all(abs(s - WINDOW) <= timedelta(hours=6) for s in starts)


def test_a_window_outside_working_hours_is_refused(session, world):
    with pytest.raises(WindowTaken):
        book_window(session, booking(world, start=datetime(2026, 6, 2, 20, 0, tzinfo=UTC)))


def test_booking_at_another_accounts_address_is_refused(session, world):
    other = create_location(session, create_account(session))

    with pytest.raises(NotFound):
        book_window(session, booking(world, location=other))
    assert session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 0


def test_an_address_outside_every_territory_cannot_be_booked(session, world):
    nowhere = create_location(session, world["account"], territory=None, postal_code="ZZ1")

    with pytest.raises(Invalid, match="ZZ1"):
        book_window(session, booking(world, location=nowhere))


def test_assignment_prefers_the_agent_with_fewest_booked_hours(session, world):
    second = create_agent(session)
    first_booking = book_window(session, booking(world))
    later = book_window(session, booking(world, start=WINDOW + timedelta(hours=4)))

    assert {first_booking.holds[0].agent_id, later.holds[0].agent_id} == {
        world["agent"].id,
        second.id,
    }


def test_an_agent_never_assigned_yet_goes_before_one_assigned_before(session, world):
    newcomer = create_agent(session)
    create_task(session, agent=world["agent"])  # an earlier task, in no week's hours

    appt = book_window(session, booking(world))

    assert [hold.agent_id for hold in appt.holds] == [newcomer.id]


def test_a_two_agent_service_holds_two_agents_at_the_same_time(session, world):
    create_agent(session)
    pair = create_service(session, duration_minutes=120, agents_needed=2)

    appt = book_window(session, booking(world, service=pair))

    assert len(appt.holds) == 2
    assert len({(h.starts_at, h.ends_at) for h in appt.holds}) == 1


def test_the_database_refuses_an_overlapping_hold_written_with_sql(session, world):
    book_window(session, booking(world))
    # An appointment that holds nobody yet, written straight to the tables.
    other = create_appointment(session, start=WINDOW, contact=world["customer"].contact)
    session.commit()

    with pytest.raises(IntegrityError, match="appointment_holds_no_overlap"):
        session.execute(
            sa.insert(AppointmentHold).values(
                appointment_id=other.id,
                agent_id=world["agent"].id,
                starts_at=PLANNED + timedelta(minutes=30),
                ends_at=PLANNED + timedelta(hours=2),
            )
        )
    session.rollback()


def test_the_database_allows_a_hold_that_starts_when_another_ends(session, world):
    appt = book_window(session, booking(world))
    other = book_window(session, booking(world, start=WINDOW + timedelta(days=1)))
    session.commit()

    session.execute(
        sa.update(AppointmentHold)
        .where(AppointmentHold.appointment_id == other.id)
        .values(starts_at=appt.holds[0].ends_at, ends_at=appt.holds[0].ends_at + timedelta(hours=1))
    )
    session.commit()


def test_empty_days_are_explained(session, world):
    add_holiday(session, date(2026, 6, 3), "Founders' day")

    week = week_view(
        session,
        world["service"],
        world["location"],
        date(2026, 6, 1),
        NOW,
        org_zone="Europe/London",
    )

    reasons = {d.day.isoformat(): d.reason for d in week.days if not d.windows}
    assert "holiday" in reasons["2026-06-03"]
    assert "No qualified technician" in reasons["2026-06-06"]  # Saturday
    assert week.days[1].windows  # Tuesday is open


def test_a_week_with_nothing_free_points_to_the_next_free_window(session, world):
    far = create_territory(session, name="Far away", time_zone="America/New_York")
    location = create_location(session, world["account"], territory=far)
    agent = create_agent(session, territories=[far], time_zone="America/New_York")
    add_time_off(session, agent, NOW, datetime(2026, 6, 8, 4, 0, tzinfo=UTC), "Leave")

    week = week_view(
        session, world["service"], location, date(2026, 6, 1), NOW, org_zone="Europe/London"
    )

    assert not any(d.windows for d in week.days)
    assert "on leave" in week.days[2].reason
    # Monday 8 June, the 08:00-10:00 window in New York (12:00 UTC).
    assert week.next_free.starts_at == datetime(2026, 6, 8, 12, 0, tzinfo=UTC)


def test_windows_are_shown_in_the_locations_zone(session, world):
    far = create_territory(session, name="NYC", time_zone="America/New_York")
    location = create_location(session, world["account"], territory=far)
    create_agent(session, territories=[far], time_zone="America/New_York")

    week = week_view(
        session, world["service"], location, date(2026, 6, 1), NOW, org_zone="Europe/London"
    )

    assert week.zone == "America/New_York"
    first = next(w for d in week.days for w in d.windows)
    assert first.starts_at.astimezone(far_zone()).hour == 8  # a grid window from 08:00 NY


def far_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/New_York")


def test_an_unverified_customer_cannot_book(session, world):
    world["customer"].email_verified_at = None

    with pytest.raises(NotAllowed, match="verify your e-mail"):
        book_window(session, booking(world))
    assert session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 0


def test_a_scheduler_books_on_behalf_of_a_contact_and_it_is_recorded(session, world):
    scheduler = create_user(session, role="scheduler")

    appt = book_window(session, booking(world), actor=scheduler)

    entry = session.scalar(sa.select(TimelineEntry).where(TimelineEntry.action == "booked"))
    assert appt.created_by_id == scheduler.id
    assert entry.actor_id == scheduler.id and entry.on_behalf_of_id == world["customer"].id


def test_another_customer_cannot_book_on_someones_behalf(session, world):
    stranger, _, _ = create_customer(session)

    with pytest.raises(NotFound):
        book_window(session, booking(world), actor=stranger)


def test_stated_preferences_are_kept_with_the_booking(session, world):
    prefs = Preferences(weekdays=frozenset({1, 3}), part_of_day="morning")

    appt = book_window(session, booking(world, preferences=prefs))

    assert preferences_of(appt) == prefs


def test_an_unknown_preferred_technician_is_refused_naming_the_field(session, world):
    prefs = Preferences(agent_id=2_000_000_000)

    with pytest.raises(Invalid) as refused:
        book_window(session, booking(world, preferences=prefs))

    assert refused.value.field == "preferences.agent_id"
