"""The dispatch board over HTTP: what it shows where, who may open it, reassigning in
place (htmx), assigning from the unassigned queue in place, and that its cost in queries
(the board's, and the panels') does not grow with the appointments or the agents."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from portal.booking.models import Appointment, AppointmentHold
from portal.booking.services import BookingRequest, book_window
from portal.dispatch import services as dispatch_services
from portal.workforce.models import TimeOff
from portal.workorders.models import WorkOrder, WorkOrderTask
from tests.factories import (
    NOW,
    build_world,
    create_agent,
    create_appointment,
    create_customer,
    create_location,
    create_service,
    create_skill,
    create_territory,
    create_user,
)

WINDOW = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)  # Wednesday 08:00-10:00 London
PLANNED = datetime(2026, 6, 3, 8, 0, tzinfo=UTC)  # 09:00 London: the agents start at nine
WEEK = "/dispatch/?view=week&date=2026-06-01"


@pytest.fixture
def world(session, frozen_now):
    """Two plumbers, one booking (Wednesday 09:00-10:00 London) held by one of them."""
    frozen_now(NOW)
    world = build_world(
        session,
        skill={"code": "plumbing", "name": "Plumber"},
        service={"name": "Leak repair"},
        agents=[
            {"full_name": "Ada First", "email": "ada@example.com"},
            {"full_name": "Ben Second", "email": "ben@example.com"},
        ],
        scheduler={"email": "dispatch@example.com"},
    )
    world.appt = book_window(session, BookingRequest(**world.booking_fields(WINDOW)))
    first, second = world.agents
    held = world.appt.holds[0].agent_id
    holder, other = (first, second) if held == first.id else (second, first)
    return world.add(holder=holder, other=other)


@pytest.fixture
def scheduler(world, auth):
    auth.login("dispatch@example.com")
    return world


def cell(page: str, agent_id: int, day: str) -> str:
    """The inside of the board cell of one agent on one day ('' when there is none)."""
    match = re.search(
        rf'<td[^>]*data-agent="{agent_id}" data-day="{day}"[^>]*>(.*?)</td>', page, re.S
    )
    return match.group(1) if match else ""


def task_of(session, appt) -> WorkOrderTask:
    return session.scalar(
        sa.select(WorkOrderTask).where(
            WorkOrderTask.appointment_id == appt.id,
            WorkOrderTask.status.in_(("assigned", "accepted")),
        )
    )


def htmx_post(client, url: str, data: dict, *, token: str | None):
    headers = {"HX-Request": "true", "HX-Target": "reassign-panel"}
    if token is not None:
        headers["X-CSRFToken"] = token  # what base.html's hx-headers sends
    return client.post(url, data=data, headers=headers)


# --- what the board shows ----------------------------------------------------------------


def test_the_board_shows_an_agents_appointment_on_its_day_with_its_status(client, scheduler):
    page = client.get(WEEK).get_data(as_text=True)

    wednesday = cell(page, scheduler["holder"].id, "2026-06-03")
    assert scheduler["appt"].number in wednesday
    assert "Requested" in wednesday and "09:00–10:00" in wednesday and "Leak repair" in wednesday
    assert scheduler["appt"].number not in cell(page, scheduler["holder"].id, "2026-06-02")
    assert scheduler["appt"].number not in cell(page, scheduler["other"].id, "2026-06-03")
    assert "Times in Europe/London (your time zone)" in page


def test_the_day_view_places_the_block_on_the_agents_lane(client, scheduler):
    page = client.get("/dispatch/?view=day&date=2026-06-03").get_data(as_text=True)

    block = cell(page, scheduler["holder"].id, "2026-06-03")
    assert scheduler["appt"].number in block and "09:00–10:00" in block
    # One hour of job: four quarter-hour columns, starting on the hour.
    holder = scheduler["holder"].id
    assert f'<td colspan="4" class="on-hour" data-agent="{holder}" data-day="2026-06-03">' in page


def test_the_day_view_lays_out_a_daylight_saving_day(client, session, world, auth):
    # Sunday 25 October 2026: London's clocks go back at 02:00, the day has 25 hours.
    customer, account, contact = create_customer(session)
    late = create_appointment(
        session,
        start=datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST, before the change
        contact=contact,
        location=create_location(session, account),
        agents=[world["holder"]],
    )
    auth.login("dispatch@example.com")

    page = client.get("/dispatch/?view=day&date=2026-10-25").get_data(as_text=True)

    # The repeated hour gets columns of its own, named by zone; the hour-long job
    # spans four quarter-hour columns from 01:30 BST.
    assert '<th scope="col" colspan="4" class="hour">01:00 BST</th>' in page
    assert '<th scope="col" colspan="4" class="hour">01:00 GMT</th>' in page
    block = f'<td colspan="4" data-agent="{world["holder"].id}" data-day="2026-10-25">'
    assert block in page and late.number in cell(page, world["holder"].id, "2026-10-25")


def test_times_are_shown_in_the_viewers_zone(client, session, world, auth):
    create_user(session, role="scheduler", email="ny@example.com", time_zone="America/New_York")
    auth.login("ny@example.com")

    page = client.get("/dispatch/?view=week&date=2026-06-01").get_data(as_text=True)

    assert "04:00–05:00" in cell(page, world["holder"].id, "2026-06-03")
    assert "Times in America/New_York" in page


def test_the_service_filter_shows_only_that_services_jobs(client, session, scheduler):
    other_service = create_service(session, name="Boiler service")

    others = client.get(f"{WEEK}&service={other_service.id}").get_data(as_text=True)
    its_own = client.get(f"{WEEK}&service={scheduler['service'].id}").get_data(as_text=True)

    assert scheduler["appt"].number not in others
    assert scheduler["appt"].number in cell(its_own, scheduler["holder"].id, "2026-06-03")


def test_the_status_filter_shows_only_appointments_in_that_state(client, scheduler):
    confirmed = client.get(f"{WEEK}&status=confirmed").get_data(as_text=True)
    requested = client.get(f"{WEEK}&status=requested").get_data(as_text=True)

    assert scheduler["appt"].number not in confirmed
    assert scheduler["appt"].number in requested


def test_the_skill_filter_keeps_only_agents_with_that_skill(client, session, scheduler):
    gas = create_skill(session, code="gas", name="Gas")
    create_agent(session, full_name="Gina Gas", skills=[gas])

    page = client.get(f"{WEEK}&skill={gas.id}").get_data(as_text=True)

    assert "Gina Gas" in page
    assert "Ada First" not in page and "Ben Second" not in page


def test_the_territory_filter_keeps_only_agents_serving_it(client, session, scheduler):
    north = create_territory(session, name="North")
    create_agent(session, full_name="Nora North", territories=[north])

    page = client.get(f"{WEEK}&territory={north.id}").get_data(as_text=True)

    assert "Nora North" in page
    assert "Ada First" not in page and scheduler["appt"].number not in page


@pytest.mark.parametrize("view", ["day", "week"])
def test_a_filter_that_matches_no_agent_says_so(client, session, scheduler, view):
    empty = create_territory(session, name="Nobody here")

    page = client.get(f"/dispatch/?view={view}&territory={empty.id}").get_data(as_text=True)

    assert "No active agent matches these filters." in page


def test_unreadable_filters_are_ignored_with_a_message(client, scheduler):
    response = client.get("/dispatch/?view=year&date=31-02-2026&status=lost&skill=x")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Date: Not a valid date value. It was ignored." in page
    assert "Status: Not a valid choice. It was ignored." in page


def test_the_queue_lists_appointments_that_need_a_new_time(client, session, scheduler):
    dispatch_services.park_for_disruption(session, scheduler["appt"], None, "The agent is ill.")

    page = client.get(WEEK).get_data(as_text=True)
    queue = page[page.index('id="queue"') :]

    assert f"Find a new time for {scheduler['appt'].number}" in queue
    assert 'Need a new time <span class="count">(1)</span>' in queue
    assert scheduler["appt"].number not in cell(page, scheduler["holder"].id, "2026-06-03")


def test_the_board_polls_itself_and_returns_its_region_with_the_queue_out_of_band(
    client, scheduler
):
    full = client.get(WEEK).get_data(as_text=True)
    response = client.get(WEEK, headers={"HX-Request": "true", "HX-Target": "board"})

    region = response.get_data(as_text=True).strip()
    assert 'hx-trigger="every 20s, visibilitychange' in full
    assert region.startswith('<div id="board"') and "<html" not in region
    assert '<section id="queue" class="queue" hx-swap-oob="true"' in region
    assert scheduler["appt"].number in region


# --- who may open it ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["customer", "agent"])
@pytest.mark.parametrize("method", ["GET board", "GET panel", "POST reassign"])
def test_customers_and_agents_are_refused(client, session, world, auth, role, method):
    create_user(session, role=role, email=f"{role}-x@example.com")
    auth.login(f"{role}-x@example.com")
    task_url = f"/dispatch/tasks/{task_of(session, world['appt']).id}/reassign"

    if method == "GET board":
        response = client.get("/dispatch/")
    elif method == "GET panel":
        response = client.get(task_url)
    else:
        response = client.post_form(task_url, {"agent_id": world["other"].id}, form_url="/")

    assert response.status_code == 403
    assert [h.agent_id for h in world["appt"].holds] == [world["holder"].id]


@pytest.mark.parametrize("role", ["customer", "agent"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_customers_and_agents_cannot_assign_from_the_queue(
    client, session, world, auth, role, method
):
    dispatch_services.park_for_disruption(session, world["appt"], None, "The agent is ill.")
    if role == "agent":
        user = world["other"].user  # even an agent who could take it
    else:
        user = create_user(session, role=role, email=f"{role}-x@example.com")
    auth.login(user.email)
    url = f"/dispatch/appointments/{world['appt'].id}/assign"

    if method == "GET":
        response = client.get(url, headers={"HX-Request": "true"})
    else:
        response = client.post_form(url, {"agent_id": world["other"].id}, form_url="/")

    assert response.status_code == 403
    session.expire_all()
    appt = session.get(Appointment, world["appt"].id)
    assert appt.status == "needs_reschedule" and appt.holds == []


# --- reassigning in place ----------------------------------------------------------------


def test_the_panel_marks_each_qualified_agent_free_or_not(client, session, scheduler):
    away = create_agent(session, full_name="Cy Away", skills=[scheduler["skill"]])
    session.add(TimeOff(agent=away, starts_at=NOW, ends_at=NOW + timedelta(days=7)))
    create_agent(session, full_name="Cat Unskilled")  # not a plumber: not offered
    task = task_of(session, scheduler["appt"])

    response = client.get(f"/dispatch/tasks/{task.id}/reassign", headers={"HX-Request": "true"})

    panel = response.get_data(as_text=True)
    other = scheduler["other"]
    assert response.status_code == 200 and "<html" not in panel
    assert re.search(rf'value="{other.id}" aria-describedby="agent-{other.id}-why">', panel)
    assert f'<span class="why" id="agent-{other.id}-why">Free</span>' in panel
    assert re.search(rf'value="{away.id}" aria-describedby="agent-{away.id}-why" disabled>', panel)
    assert f'id="agent-{away.id}-why">Not free: on leave then</span>' in panel
    assert "Cat Unskilled" not in panel
    assert scheduler["holder"].name not in panel.split("<fieldset>")[1]


def test_reassigning_to_a_free_agent_moves_the_hold_and_the_new_agent_sees_it(
    client, session, scheduler, auth
):
    appt, other = scheduler["appt"], scheduler["other"]
    task = task_of(session, appt)
    token = client.csrf_token(WEEK)

    response = htmx_post(
        client,
        f"/dispatch/tasks/{task.id}/reassign?view=week&date=2026-06-01",
        {"agent_id": other.id},
        token=token,
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"{appt.number} is now with {other.name}." in page
    # The board comes back out of band with the block in its new row.
    assert '<div id="board" class="board-region" hx-swap-oob="true"' in page
    assert appt.number in cell(page, other.id, "2026-06-03")
    assert appt.number not in cell(page, scheduler["holder"].id, "2026-06-03")
    holds = session.scalars(
        sa.select(AppointmentHold).where(AppointmentHold.appointment_id == appt.id)
    ).all()
    assert [(h.agent_id, h.starts_at) for h in holds] == [(other.id, PLANNED)]

    auth.logout()
    auth.login(other.user.email)
    assert appt.number in client.get("/staff/").get_data(as_text=True)


def test_reassigning_to_a_busy_agent_is_refused_with_the_message_and_nothing_changes(
    client, session, scheduler
):
    # Another booking in the same window takes the only other plumber.
    customer, account, _ = create_customer(session)
    book_window(
        session,
        BookingRequest(
            customer=customer,
            service=scheduler["service"],
            location=create_location(session, account),
            window_start=WINDOW,
        ),
    )
    appt, other = scheduler["appt"], scheduler["other"]
    task = task_of(session, appt)
    token = client.csrf_token(WEEK)

    response = htmx_post(
        client, f"/dispatch/tasks/{task.id}/reassign", {"agent_id": other.id}, token=token
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200  # htmx swaps the panel with the message
    assert f"{other.name} is not free for this appointment&#39;s time." in page
    assert 'role="alert"' in page and 'id="board"' not in page
    assert f'id="agent-{other.id}-why">Not free: booked at that time</span>' in page
    session.expire_all()
    assert [h.agent_id for h in session.get(Appointment, appt.id).holds] == [scheduler["holder"].id]
    assert session.get(WorkOrderTask, task.id).status == "assigned"


def test_reassigning_a_task_someone_else_just_moved_says_so(client, session, scheduler):
    task = task_of(session, scheduler["appt"])
    token = client.csrf_token(WEEK)
    # Another scheduler moves it first; this panel still shows the old task.
    other_scheduler = create_user(session, role="scheduler")
    dispatch_services.reassign_task(session, task, scheduler["other"].id, other_scheduler)

    response = htmx_post(
        client, f"/dispatch/tasks/{task.id}/reassign", {"agent_id": 999}, token=token
    )

    assert response.status_code == 200
    assert "Only a task that has not started can be reassigned." in response.get_data(as_text=True)


def test_reassigning_without_choosing_an_agent_says_so(client, session, scheduler):
    task = task_of(session, scheduler["appt"])

    response = htmx_post(
        client, f"/dispatch/tasks/{task.id}/reassign", {}, token=client.csrf_token(WEEK)
    )

    assert response.status_code == 200
    assert "Choose an agent." in response.get_data(as_text=True)


def test_reassigning_without_the_csrf_token_is_refused(client, session, scheduler):
    task = task_of(session, scheduler["appt"])

    response = htmx_post(
        client,
        f"/dispatch/tasks/{task.id}/reassign",
        {"agent_id": scheduler["other"].id},
        token=None,
    )

    assert response.status_code == 400
    session.expire_all()
    assert session.get(WorkOrderTask, task.id).status == "assigned"


def test_without_javascript_a_reassignment_goes_back_to_the_board(client, session, scheduler):
    task = task_of(session, scheduler["appt"])
    url = f"/dispatch/tasks/{task.id}/reassign?view=week&date=2026-06-01"

    response = client.post_form(url, {"agent_id": scheduler["other"].id})

    assert response.status_code == 302
    assert response.headers["Location"] == "/dispatch/?view=week&date=2026-06-01"


def test_without_javascript_the_panel_is_a_page_of_its_own(client, session, scheduler):
    task = task_of(session, scheduler["appt"])

    page = client.get(f"/dispatch/tasks/{task.id}/reassign?view=week&date=2026-06-01")

    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h1>Reassign a task</h1>" in html
    assert 'href="/dispatch/?view=week&amp;date=2026-06-01">← Back to the board' in html


def test_closing_the_panel_empties_it(client, scheduler):
    response = client.get("/dispatch/panel/close", headers={"HX-Request": "true"})

    assert response.status_code == 200 and response.get_data(as_text=True) == ""


# --- assigning from the unassigned queue in place ------------------------------------------


@pytest.fixture
def queued(scheduler, session):
    """The booking parked (its agent fell ill): it waits in the queue, holding nobody."""
    dispatch_services.park_for_disruption(session, scheduler["appt"], None, "The agent is ill.")
    return scheduler


def assign_url(appt, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/dispatch/appointments/{appt.id}/assign" + (f"?{query}" if query else "")


def test_each_queued_appointment_offers_assign_in_place(client, queued):
    appt = queued["appt"]

    page = client.get(WEEK).get_data(as_text=True)

    queue = page[page.index('id="queue"') :]
    url = assign_url(appt)
    assert f'id="assign-{appt.id}" href="{url}" hx-get="{url}"' in queue
    assert f'Assign<span class="visually-hidden"> {appt.number}</span>' in queue
    assert 'hx-target="#reassign-panel"' in queue


def test_the_assign_panel_marks_each_qualified_agent_free_or_busy_and_why(client, session, queued):
    away = create_agent(session, full_name="Cy Away", skills=[queued["skill"]])
    session.add(TimeOff(agent=away, starts_at=NOW, ends_at=NOW + timedelta(days=7)))
    create_agent(session, full_name="Cat Unskilled")  # not a plumber: not offered
    off_on_wednesdays = create_agent(
        session,
        full_name="Dot Weekend",
        skills=[queued["skill"]],
        hours=[(5, time(9), time(17)), (6, time(9), time(17))],
    )

    response = client.get(assign_url(queued["appt"]), headers={"HX-Request": "true"})

    panel = response.get_data(as_text=True)
    other, away_id = queued["other"], away.id
    assert response.status_code == 200 and "<html" not in panel
    assert f"Assign {queued['appt'].number}" in panel
    assert re.search(rf'type="radio" name="agent_id" id="assign-agent-{other.id}"', panel)
    assert f'id="assign-agent-{other.id}-why">Free</span>' in panel
    assert re.search(rf'id="assign-agent-{away_id}" value="{away_id}" [^>]*disabled>', panel)
    assert f'id="assign-agent-{away_id}-why">Not free: on leave then</span>' in panel
    weekend = off_on_wednesdays.id
    assert f'id="assign-agent-{weekend}-why">Not free: not working then</span>' in panel
    assert "Cat Unskilled" not in panel


def test_assigning_in_place_returns_the_board_with_the_block_and_the_queue_without_it(
    client, session, queued
):
    appt, other = queued["appt"], queued["other"]
    token = client.csrf_token(WEEK)

    response = htmx_post(
        client,
        assign_url(appt, view="week", date="2026-06-01"),
        {"agent_id": other.id},
        token=token,
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"{appt.number} is now with {other.name}, waiting for them to accept." in page
    assert '<div id="board" class="board-region" hx-swap-oob="true"' in page
    assert appt.number in cell(page, other.id, "2026-06-03")
    queue = page[page.index('id="queue"') :]
    assert f'id="assign-{appt.id}"' not in queue
    session.expire_all()
    assert session.get(Appointment, appt.id).status == "requested"


def test_assigning_a_busy_agent_answers_the_panel_with_the_message(client, session, queued):
    customer, account, _ = create_customer(session)
    book_window(  # the other plumber is taken at that time
        session,
        BookingRequest(
            customer=customer,
            service=queued["service"],
            location=create_location(session, account),
            window_start=WINDOW,
        ),
    )
    appt = queued["appt"]
    busy = session.scalar(
        sa.select(AppointmentHold.agent_id).where(AppointmentHold.starts_at == PLANNED)
    )
    token = client.csrf_token(WEEK)

    response = htmx_post(client, assign_url(appt), {"agent_id": busy}, token=token)

    page = response.get_data(as_text=True)
    assert response.status_code == 200  # htmx swaps the panel with the message
    assert "is not free for this appointment&#39;s time." in page
    assert 'role="alert"' in page and 'id="board"' not in page
    session.expire_all()
    assert session.get(Appointment, appt.id).status == "needs_reschedule"


def test_assigning_without_choosing_an_agent_says_so(client, queued):
    response = htmx_post(client, assign_url(queued["appt"]), {}, token=client.csrf_token(WEEK))

    assert response.status_code == 200
    assert "Choose one agent." in response.get_data(as_text=True)


def test_assigning_without_the_csrf_token_is_refused(client, session, queued):
    response = htmx_post(
        client, assign_url(queued["appt"]), {"agent_id": queued["other"].id}, token=None
    )

    assert response.status_code == 400
    session.expire_all()
    assert session.get(Appointment, queued["appt"].id).status == "needs_reschedule"


def test_when_nobody_is_free_the_panel_says_so_and_links_to_the_move_page(client, session, queued):
    for _ in range(2):  # both plumbers taken at that time
        customer, account, _ = create_customer(session)
        book_window(
            session,
            BookingRequest(
                customer=customer,
                service=queued["service"],
                location=create_location(session, account),
                window_start=WINDOW,
            ),
        )
    appt = queued["appt"]

    panel = client.get(assign_url(appt), headers={"HX-Request": "true"}).get_data(as_text=True)

    assert "No qualified agent is free for this window." in panel
    assert f'href="/staff/appointments/{appt.id}#suggest-h">Find a new time' in panel
    assert '<button class="button primary" type="submit">Assign</button>' not in panel


def test_when_the_window_has_begun_the_panel_links_to_the_move_page(
    client, auth, queued, frozen_now
):
    frozen_now(WINDOW + timedelta(minutes=30))
    auth.login("dispatch@example.com")  # two days on: the first session has ended
    appt = queued["appt"]

    panel = client.get(assign_url(appt), headers={"HX-Request": "true"}).get_data(as_text=True)

    assert "Its window has already begun" in panel
    assert f'href="/staff/appointments/{appt.id}#suggest-h">Find a new time' in panel
    assert 'name="agent_id"' not in panel


def test_an_appointment_no_longer_in_the_queue_is_refused_in_the_panel(client, session, queued):
    appt, other = queued["appt"], queued["other"]
    token = client.csrf_token(WEEK)
    dispatch_services.assign_from_queue(
        session, appt, [other.id], create_user(session, role="scheduler")
    )

    response = htmx_post(client, assign_url(appt), {"agent_id": other.id}, token=token)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "only an appointment waiting for a new time can be assigned" in page
    assert "no longer waiting in the queue" in page


def test_assigning_an_unknown_appointment_is_not_found(client, queued):
    assert client.get("/dispatch/appointments/999999/assign").status_code == 404


def test_without_javascript_an_assignment_goes_back_to_the_board(client, queued):
    url = assign_url(queued["appt"], view="week", date="2026-06-01")

    response = client.post_form(url, {"agent_id": queued["other"].id})

    assert response.status_code == 302
    assert response.headers["Location"] == "/dispatch/?view=week&date=2026-06-01"


def test_without_javascript_a_refused_assignment_keeps_its_status(client, queued):
    url = assign_url(queued["appt"])

    response = client.post_form(url, {"agent_id": 999999})

    assert response.status_code == 422
    assert "<h1>Assign an appointment from the queue</h1>" in response.get_data(as_text=True)


# --- clocks and zones ---------------------------------------------------------------------


def hour_labels(page: str) -> list[str]:
    return re.findall(r'<th scope="col" colspan="4" class="hour">([^<]+)</th>', page)


def quarters_before_block(page: str, agent_id: int) -> int:
    """Quarter-hour columns in the agent's lane before its (first) block."""
    lane = re.search(
        rf'<tr>\s*<th scope="row"((?:(?!</tr>).)*)<td[^>]*data-agent="{agent_id}"', page, re.S
    )
    return sum(int(span or 1) for span in re.findall(r'<td(?: colspan="(\d+)")?', lane.group(1)))


@pytest.mark.parametrize(
    ("zone", "day", "name"),
    [
        ("Europe/London", "2027-03-28", "BST"),  # 23 hours
        ("Europe/London", "2027-10-31", "GMT"),  # 25 hours
        ("America/New_York", "2027-03-14", "EDT"),
        ("America/New_York", "2027-11-07", "EST"),
    ],
)
def test_the_day_view_shows_seven_to_seven_on_the_wall_clock_on_change_days(
    client, session, world, auth, zone, day, name
):
    create_user(session, role="scheduler", email="change@example.com", time_zone=zone)
    auth.login("change@example.com")

    page = client.get(f"/dispatch/?view=day&date={day}").get_data(as_text=True)

    # Labels name the zone on a day that is not 24 hours long.
    assert hour_labels(page) == [f"{hour:02d}:00 {name}" for hour in range(7, 19)]


def test_a_block_on_a_change_day_sits_under_its_wall_clock_hour(client, session, world, auth):
    # Sunday 28 March 2027, London: 09:00-10:00 BST is eight hours after midnight GMT.
    _customer, account, contact = create_customer(session)
    job = create_appointment(
        session,
        start=datetime(2027, 3, 28, 8, 0, tzinfo=UTC),
        contact=contact,
        location=create_location(session, account),
        agents=[world["holder"]],
    )
    auth.login("dispatch@example.com")

    page = client.get("/dispatch/?view=day&date=2027-03-28").get_data(as_text=True)

    assert hour_labels(page)[0] == "07:00 BST"
    assert job.number in cell(page, world["holder"].id, "2027-03-28")
    assert quarters_before_block(page, world["holder"].id) == 2 * 4  # 07:00 and 08:00


def test_the_reassign_panel_shows_the_time_at_the_address_not_the_schedulers(
    client, session, world, auth
):
    create_user(session, role="scheduler", email="ny@example.com", time_zone="America/New_York")
    auth.login("ny@example.com")
    task = task_of(session, world["appt"])

    panel = client.get(f"/dispatch/tasks/{task.id}/reassign", headers={"HX-Request": "true"})

    text = panel.get_data(as_text=True)
    assert "Wed 3 Jun, 09:00–10:00 BST at the address (Europe/London)." in text
    assert "EDT" not in text


def test_the_assign_panel_names_each_end_of_a_window_across_a_change_at_the_address(
    client, session, world, auth
):
    # New York falls back on Sunday 7 November 2027: 00:00 EDT to 02:00 EST.
    territory = create_territory(session, time_zone="America/New_York")
    _customer, account, contact = create_customer(session)
    parked = create_appointment(
        session,
        start=datetime(2027, 11, 7, 4, 0, tzinfo=UTC),
        window_minutes=180,
        contact=contact,
        location=create_location(session, account, territory=territory),
        status="needs_reschedule",
    )
    auth.login("dispatch@example.com")  # a London scheduler

    panel = client.get(assign_url(parked), headers={"HX-Request": "true"})

    text = panel.get_data(as_text=True)
    assert "Sun 7 Nov, 00:00 EDT–02:00 EST at the address (America/New_York)." in text
    assert "GMT" not in text


# --- cost ---------------------------------------------------------------------------------


def bulk_book(session, *, agents, service, location, contact, first: int, count: int) -> None:
    """Write `count` confirmed appointments (work order, appointment, hold, task) with
    plain multi-row INSERTs: hour-long slots, 06:00-14:00 UTC, no agent double-booked."""
    per_day = 8
    slots = []
    for i in range(first, first + count):
        agent = agents[i % len(agents)]
        k = i // len(agents)
        start = datetime(2026, 6, 1, 6, tzinfo=UTC) + timedelta(
            days=k // per_day, hours=k % per_day
        )
        slots.append((agent.id, start))
    common = {
        "account_id": location.account_id,
        "contact_id": contact.id,
        "location_id": location.id,
    }
    work_orders = session.scalars(
        sa.insert(WorkOrder).returning(WorkOrder.id, sort_by_parameter_order=True),
        [{**common, "status": "scheduled", "summary": "Bulk job"} for _ in slots],
    ).all()
    appointments = session.scalars(
        sa.insert(Appointment).returning(Appointment.id, sort_by_parameter_order=True),
        [
            {
                **common,
                "work_order_id": wo,
                "service_id": service.id,
                "status": "confirmed",
                "window_start": start,
                "window_end": start + timedelta(hours=2),
                "planned_start": start,
                "planned_end": start + timedelta(minutes=45),
            }
            for wo, (_, start) in zip(work_orders, slots, strict=True)
        ],
    ).all()
    session.execute(
        sa.insert(AppointmentHold),
        [
            {
                "appointment_id": appt,
                "agent_id": agent,
                "starts_at": start,
                "ends_at": start + timedelta(minutes=45),
            }
            for appt, (agent, start) in zip(appointments, slots, strict=True)
        ],
    )
    session.execute(
        sa.insert(WorkOrderTask),
        [
            {
                "work_order_id": wo,
                "appointment_id": appt,
                "agent_id": agent,
                "title": "Bulk job",
                "status": "accepted",
                "due_at": start,
            }
            for wo, appt, (agent, start) in zip(work_orders, appointments, slots, strict=True)
        ],
    )


def test_the_board_issues_as_many_queries_for_2000_appointments_as_for_10(
    app, client, session, frozen_now, auth
):
    frozen_now(NOW)
    customer, account, contact = create_customer(session)
    location = create_location(session, account)
    service = create_service(session)
    agents = [create_agent(session, full_name=f"Agent {i:02d}") for i in range(40)]
    create_user(session, role="scheduler", email="dispatch@example.com")
    auth.login("dispatch@example.com")
    where = {"agents": agents, "service": service, "location": location, "contact": contact}
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def board_queries() -> tuple[int, int]:
        statements.clear()
        sa.event.listen(app.extensions["portal.engine"], "before_cursor_execute", count)
        try:
            page = client.get(WEEK).get_data(as_text=True)
        finally:
            sa.event.remove(app.extensions["portal.engine"], "before_cursor_execute", count)
        return len(statements), page.count('<div class="block status-')

    bulk_book(session, **where, first=0, count=10)
    few, shown_few = board_queries()
    bulk_book(session, **where, first=10, count=1990)
    many, shown_many = board_queries()

    assert (shown_few, shown_many) == (10, 2000)
    assert many == few


def _panel_queries(app, client, url: str) -> int:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = app.extensions["portal.engine"]
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url, headers={"HX-Request": "true"})
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


def test_the_panels_ask_as_many_queries_for_30_agents_as_for_3(app, client, session, queued):
    """Free or busy is worked out for all candidates at once, not one agent at a time."""
    plumbing = queued["skill"]
    moving = create_appointment(  # a confirmed job, so the reassign panel has a task
        session,
        start=WINDOW + timedelta(days=1),
        contact=queued["appt"].contact,
        service=queued["service"],
        location=queued["location"],
        agents=[queued["holder"]],
    )
    moving_task = WorkOrderTask(
        work_order=moving.work_order,
        appointment=moving,
        agent=queued["holder"],
        title="Leak repair",
        status="assigned",
    )
    session.add(moving_task)
    create_agent(session, full_name="Cy Extra", skills=[plumbing])
    session.flush()
    assign, reassign = assign_url(queued["appt"]), f"/dispatch/tasks/{moving_task.id}/reassign"
    few = (_panel_queries(app, client, assign), _panel_queries(app, client, reassign))

    for i in range(27):
        agent = create_agent(session, full_name=f"Plumber {i:02d}", skills=[plumbing])
        if i % 3 == 0:
            session.add(TimeOff(agent=agent, starts_at=NOW, ends_at=NOW + timedelta(days=7)))
    many = (_panel_queries(app, client, assign), _panel_queries(app, client, reassign))

    assert many == few
