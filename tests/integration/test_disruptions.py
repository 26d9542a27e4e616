"""Conflicts after booking: a change to an agent's hours, time off or active flag parks
the bookings it can no longer keep, with suggestions, and tells the customers; the
scheduler moves them again, one by one or in bulk."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from portal.booking import lifecycle as lc
from portal.booking import steps
from portal.booking.models import Appointment, AppointmentHold
from portal.booking.services import BookingRequest, book_window
from portal.booking.suggestions import Preferences, Suggestion, suggest_windows
from portal.dispatch import disruptions
from portal.dispatch.disruptions import find_unkeepable
from portal.notifications.models import Notification, OutboxMessage
from portal.workforce.services import set_weekly_hours
from portal.workorders.models import WorkOrderTask
from portal.workorders.services import in_scheduling_queue
from tests.factories import (
    NOW,
    add_time_off,
    build_world,
    create_agent,
    create_appointment,
    create_customer,
    create_location,
    create_user,
)

WED_0800 = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)  # Wednesday 08:00-10:00 London
WED_1400 = datetime(2026, 6, 3, 13, 0, tzinfo=UTC)  # Wednesday 14:00-16:00 London
THU_0800 = datetime(2026, 6, 4, 7, 0, tzinfo=UTC)  # Thursday 08:00-10:00 London


@pytest.fixture
def world(session, frozen_now):
    """Ann and Bob booked on Wednesday and Cat on Thursday, all with the first agent;
    a second agent, free all week, joins afterwards, then a manager and a scheduler."""
    frozen_now(NOW)
    world = build_world(
        session,
        customer={"email": "ann@example.com"},
        service={"name": "Leak repair"},
        agents=[{"full_name": "First Agent"}],
    )
    places = {"ann": (world.customer, world.location)}
    for name in ("bob", "cat"):
        user, account, _contact = create_customer(session, email=f"{name}@example.com")
        places[name] = (user, create_location(session, account))
    for name, start in [("ann", WED_0800), ("bob", WED_1400), ("cat", THU_0800)]:
        user, location = places[name]
        booked = book_window(
            session,
            BookingRequest(
                customer=user, service=world.service, location=location, window_start=start
            ),
        )
        world.add(**{name: booked})
    world.add(first=world.agent, second=create_agent(session, full_name="Second Agent"))
    world.manager = create_user(session, role="manager", email="boss@example.com")
    world.scheduler = create_user(session, role="scheduler", email="sched@example.com")
    session.commit()
    return world


def statuses(session, world, *names) -> list[str]:
    session.expire_all()
    return [session.get(Appointment, world[n].id).status for n in names]


def park_wednesday(session, world) -> None:
    add_time_off(
        session,
        world["first"],
        datetime(2026, 6, 2, 23, 0, tzinfo=UTC),
        datetime(2026, 6, 3, 23, 0, tzinfo=UTC),
        "Training",
        by=world["manager"],
    )
    session.commit()


# --- what cannot be kept -------------------------------------------------------------------


def test_bookings_inside_the_hours_and_away_from_time_off_are_kept(session, world):
    assert find_unkeepable(session, world["first"], now=NOW) == []


def test_time_off_over_part_of_a_day_catches_only_the_bookings_it_touches(session, world):
    from portal.workforce.models import TimeOff

    # 15:00-16:00 London: the afternoon booking is planned 14:00-15:00, so it stays,
    # until the leave starts a minute earlier.
    session.add(
        TimeOff(
            agent=world["first"],
            starts_at=datetime(2026, 6, 3, 14, 0, tzinfo=UTC),
            ends_at=datetime(2026, 6, 3, 15, 0, tzinfo=UTC),
        )
    )
    session.flush()
    untouched = find_unkeepable(session, world["first"], now=NOW)
    session.add(
        TimeOff(
            agent=world["first"],
            starts_at=datetime(2026, 6, 3, 13, 59, tzinfo=UTC),
            ends_at=datetime(2026, 6, 3, 14, 0, tzinfo=UTC),
        )
    )
    session.flush()

    assert untouched == []
    assert find_unkeepable(session, world["first"], now=NOW) == [world["bob"]]


def test_hours_that_no_longer_cover_a_booking_make_it_unkeepable(session, world):
    # Wednesday afternoons only from now on: the 09:00 (London) start no longer fits.
    set_weekly_hours(world["first"], [(2, time(12), time(17)), (3, time(9), time(17))])
    session.flush()

    assert find_unkeepable(session, world["first"], now=NOW) == [world["ann"]]


def test_a_booking_that_started_or_is_under_way_is_never_parked(session, world):
    customer, account, contact = create_customer(session)
    under_way = create_appointment(
        session,
        start=datetime(2026, 6, 5, 8, 0, tzinfo=UTC),
        contact=contact,
        service=world["service"],
        agents=[world["first"]],
        status="in_progress",
    )
    world["first"].active = False
    session.flush()

    unkeepable = find_unkeepable(session, world["first"], now=WED_1400 + timedelta(hours=1))

    assert unkeepable == [world["cat"]]  # not Wednesday's (past), not the one under way
    assert under_way not in unkeepable


def test_an_inactive_agent_can_keep_none_of_its_upcoming_bookings(session, world):
    world["first"].active = False
    session.flush()

    found = find_unkeepable(session, world["first"], now=NOW)

    assert found == [world["ann"], world["bob"], world["cat"]]


# --- changes in the settings park them -----------------------------------------------------


def test_time_off_over_a_booked_day_parks_its_bookings_with_suggestions_and_tells_the_customers(
    client, session, auth, world, expand_events
):
    auth.login("boss@example.com")
    url = f"/settings/agents/{world['first'].id}"

    response = client.post_form(
        f"{url}/time-off",
        {"starts_at": "2026-06-03T00:00", "ends_at": "2026-06-04T00:00", "reason": "Surgery"},
        form_url=url,
        follow_redirects=True,
    )
    expand_events()

    page = response.get_data(as_text=True)
    assert "2 bookings need a new time; they are in the scheduler&#39;s queue." in page
    assert statuses(session, world, "ann", "bob", "cat") == [
        "needs_reschedule",
        "needs_reschedule",
        "requested",
    ]
    for name in ("ann", "bob"):
        appt = session.get(Appointment, world[name].id)
        assert appt.holds == []
        best = suggest_windows(session, appt, Preferences(), now=NOW, limit=3)
        assert len(best) == 3 and best[0].explanation.startswith("Same technician")
        assert all(s.window.starts_at.date() != WED_0800.date() for s in best if s.keeps_agents)
        mail = session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.recipient == f"{name}@example.com")
        ).all()
        assert any("new time" in m.subject for m in mail)
        assert not any("Surgery" in m.body_text for m in mail)  # the reason stays internal
        notice = session.scalars(
            sa.select(Notification.message).where(
                Notification.user_id == appt.contact.user_id,
                Notification.message.contains("needs a new time"),
            )
        ).all()
        assert notice == [f"{appt.number} needs a new time: a scheduler will contact you."]
        queued = session.scalars(
            sa.select(WorkOrderTask).where(
                WorkOrderTask.appointment_id == appt.id,
                in_scheduling_queue(),
                WorkOrderTask.status == "open",
            )
        ).all()
        assert len(queued) == 1


def test_the_agent_is_told_which_bookings_went_back(client, session, auth, world):
    auth.login("boss@example.com")
    url = f"/settings/agents/{world['first'].id}"

    client.post_form(
        f"{url}/time-off",
        {"starts_at": "2026-06-03T00:00", "ends_at": "2026-06-04T00:00"},
        form_url=url,
    )

    messages = session.scalars(
        sa.select(Notification.message).where(
            Notification.user_id == world["first"].user_id,
            Notification.message.contains("went back to the scheduler"),
        )
    ).all()
    assert len(messages) == 1 and world["ann"].number in messages[0]


def test_shorter_hours_park_only_the_bookings_outside_them(client, session, auth, world):
    auth.login("boss@example.com")
    url = f"/settings/agents/{world['first'].id}"
    data = {"time_zone": "Europe/London"}
    for day in ("mon", "tue", "wed", "thu", "fri"):
        data[f"{day}-start1"], data[f"{day}-end1"] = "09:00", "17:00"
    data["wed-start1"] = "12:00"  # Wednesday mornings off from now on

    response = client.post_form(f"{url}/hours", data, form_url=url, follow_redirects=True)

    assert "1 booking needs a new time; it is in the scheduler" in response.get_data(as_text=True)
    assert statuses(session, world, "ann", "bob", "cat") == [
        "needs_reschedule",
        "requested",
        "requested",
    ]


def test_taking_an_agent_off_the_schedule_parks_its_upcoming_bookings(client, session, auth, world):
    auth.login("boss@example.com")
    url = f"/settings/agents/{world['first'].id}"

    response = client.post_form(f"{url}/deactivate", form_url=url, follow_redirects=True)

    assert "3 bookings need a new time" in response.get_data(as_text=True)
    assert statuses(session, world, "ann", "bob", "cat") == ["needs_reschedule"] * 3
    assert session.scalar(sa.select(sa.func.count()).select_from(AppointmentHold)) == 0


def test_deactivating_an_agents_user_parks_its_upcoming_bookings(client, session, auth, world):
    create_user(session, role="admin", email="root@example.com")
    session.commit()
    auth.login("root@example.com")
    user_id = world["first"].user_id

    response = client.post_form(
        f"/settings/users/{user_id}/deactivate",
        form_url=f"/settings/users/{user_id}",
        follow_redirects=True,
    )

    assert "3 bookings need a new time" in response.get_data(as_text=True)
    assert statuses(session, world, "ann", "bob", "cat") == ["needs_reschedule"] * 3
    session.expire_all()
    assert not world["first"].active and not world["first"].user.active


def test_a_refused_change_parks_nothing(client, session, auth, world):
    auth.login("boss@example.com")
    url = f"/settings/agents/{world['first'].id}"

    response = client.post_form(
        f"{url}/hours",
        {"time_zone": "Europe/London", "wed-start1": "12:00", "wed-end1": "11:00"},
        form_url=url,
    )

    assert response.status_code == 422
    assert statuses(session, world, "ann", "bob", "cat") == ["requested"] * 3


# --- the scheduler moves them again ----------------------------------------------------------


def test_the_disruptions_page_shows_each_parked_booking_with_three_explained_suggestions(
    client, session, auth, world
):
    park_wednesday(session, world)
    auth.login("sched@example.com")

    response = client.get("/settings/disruptions")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert world["ann"].number in page and world["bob"].number in page
    assert world["cat"].number not in page
    assert page.count(">Move here<") == 6
    assert "Same technician, soonest" in page
    assert "The technician is not available at that time any more." in page


def test_the_disruptions_page_is_paginated(client, session, auth, world, monkeypatch):
    monkeypatch.setattr("portal.settings.routes.disruptions.PER_PAGE", 1)
    park_wednesday(session, world)
    auth.login("sched@example.com")

    first = client.get("/settings/disruptions").get_data(as_text=True)
    second = client.get("/settings/disruptions?page=2").get_data(as_text=True)

    assert world["ann"].number in first and world["bob"].number not in first
    assert world["bob"].number in second and "Page 2 of 2" in second


def test_bulk_reassign_moves_parked_bookings_back_to_requested_with_new_holds(
    client, session, auth, world, expand_events
):
    park_wednesday(session, world)
    auth.login("sched@example.com")
    picks = {f"pick_{world[n].id}": "y" for n in ("ann", "bob")}

    response = client.post_form(
        "/settings/disruptions/move",
        picks,
        form_url="/settings/disruptions",
        follow_redirects=True,
    )
    expand_events()

    page = response.get_data(as_text=True)
    assert "Moved 2:" in page and "Nothing waits for a new time." in page
    session.expire_all()
    moved = [session.get(Appointment, world[n].id) for n in ("ann", "bob")]
    assert [a.status for a in moved] == ["requested", "requested"]
    assert all(len(a.holds) == 1 for a in moved)
    assert {a.window_start.date() for a in moved}.isdisjoint({WED_0800.date()})
    open_queue = session.scalar(
        sa.select(sa.func.count())
        .select_from(WorkOrderTask)
        .where(in_scheduling_queue(), WorkOrderTask.status == "open")
    )
    assert open_queue == 0
    mail = session.scalars(
        sa.select(OutboxMessage.subject).where(OutboxMessage.recipient == "ann@example.com")
    ).all()
    assert any("moved" in subject.lower() or "new time" in subject.lower() for subject in mail)


def test_bulk_reassign_reports_a_booking_whose_best_window_was_just_taken(
    client, session, auth, world, monkeypatch
):
    park_wednesday(session, world)
    world["second"].active = False  # so a window has room for one booking only
    ann = session.get(Appointment, world["ann"].id)
    stale = suggest_windows(session, ann, Preferences(), now=NOW, limit=1)

    def the_same_window_for_everyone(*args, **kwargs) -> list[Suggestion]:
        return stale  # what a scheduler saw a minute ago, before someone else booked

    monkeypatch.setattr(disruptions, "suggest_windows", the_same_window_for_everyone)
    auth.login("sched@example.com")
    picks = {f"pick_{world[n].id}": "y" for n in ("ann", "bob")}

    response = client.post_form(
        "/settings/disruptions/move",
        picks,
        form_url="/settings/disruptions",
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert f"Moved 1: {world['ann'].number} to" in page
    assert f"Could not move 1: {world['bob'].number}: its best window was taken" in page
    assert statuses(session, world, "ann", "bob") == ["requested", "needs_reschedule"]
    bob = session.get(Appointment, world["bob"].id)
    assert bob.holds == [] and bob.window_start == WED_1400  # untouched


def test_bulk_reassign_without_a_tick_is_refused(client, session, auth, world):
    park_wednesday(session, world)
    auth.login("sched@example.com")

    response = client.post_form("/settings/disruptions/move", {}, form_url="/settings/disruptions")

    assert response.status_code == 422
    assert "Tick at least one appointment" in response.get_data(as_text=True)
    assert statuses(session, world, "ann", "bob") == ["needs_reschedule"] * 2


def test_a_scheduler_moves_one_booking_to_a_chosen_suggestion(client, session, auth, world):
    park_wednesday(session, world)
    ann = session.get(Appointment, world["ann"].id)
    third = suggest_windows(session, ann, Preferences(), now=NOW, limit=3)[2]
    auth.login("sched@example.com")

    response = client.post_form(
        f"/settings/disruptions/{ann.id}/move",
        {"start": third.window.starts_at.isoformat()},
        form_url="/settings/disruptions",
        follow_redirects=True,
    )

    assert f"{ann.number} moved to" in response.get_data(as_text=True)
    session.expire_all()
    ann = session.get(Appointment, world["ann"].id)
    assert ann.status == "requested" and ann.window_start == third.window.starts_at


def test_moving_one_to_a_window_just_taken_says_so_and_changes_nothing(
    client, session, auth, world
):
    park_wednesday(session, world)
    world["second"].active = False  # so a window has room for one booking only
    ann = session.get(Appointment, world["ann"].id)
    best = suggest_windows(session, ann, Preferences(), now=NOW, limit=1)[0]
    lc.reschedule_appointment(
        session,
        session.get(Appointment, world["bob"].id),
        best.window.starts_at,
        steps.Actor(world["scheduler"]),
    )
    session.commit()
    auth.login("sched@example.com")

    response = client.post_form(
        f"/settings/disruptions/{ann.id}/move",
        {"start": best.window.starts_at.isoformat()},
        form_url="/settings/disruptions",
        follow_redirects=True,
    )

    assert "was just taken; pick another" in response.get_data(as_text=True)
    assert statuses(session, world, "ann") == ["needs_reschedule"]
