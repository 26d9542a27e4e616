"""The appointment page, its actions, the e-mailed manage link and the agent's task buttons."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.booking.links import manage_url
from portal.booking.models import Appointment
from portal.booking.services import BookingRequest, book_window
from portal.workorders.models import WorkOrderTask
from tests.factories import (
    NOW,
    build_world,
    create_agent,
    create_user,
)

WINDOW = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)  # Wednesday 08:00-10:00 London
LATER = datetime(2026, 6, 4, 11, 0, tzinfo=UTC)


@pytest.fixture
def booked(session, frozen_now, app):
    frozen_now(NOW)
    world = build_world(
        session,
        customer={"email": "owner@example.com"},
        service={"name": "Leak repair"},
        agents=[{"email": "tech@example.com"}],
    )
    world.appt = book_window(session, BookingRequest(**world.booking_fields(WINDOW)))
    session.commit()
    with app.test_request_context():
        link = manage_url(world.appt.id).replace(app.config["BASE_URL"], "")
    return world.add(link=link)


def task_id(session, booked) -> int:
    return session.scalar(
        sa.select(WorkOrderTask.id).where(WorkOrderTask.appointment_id == booked["appt"].id)
    )


def status(session, booked) -> str:
    session.expire_all()
    return session.get(Appointment, booked["appt"].id).status


def agent_accepts(client, auth, session, booked):
    auth.login("tech@example.com")
    response = client.post_form(
        f"/staff/tasks/{task_id(session, booked)}/accept", form_url="/staff/"
    )
    auth.logout()
    return response


def test_the_agent_accepts_from_its_task_list(client, auth, session, booked):
    response = agent_accepts(client, auth, session, booked)

    assert response.status_code == 302
    assert status(session, booked) == "accepted"


def test_another_agent_cannot_accept_someone_elses_task(client, auth, session, booked):
    create_agent(session, email="other@example.com")
    auth.login("other@example.com")

    response = client.post_form(
        f"/staff/tasks/{task_id(session, booked)}/accept", form_url="/staff/"
    )

    assert response.status_code == 404  # as a task that does not exist
    assert status(session, booked) == "requested"


def test_the_customer_confirms_on_the_appointment_page(client, auth, session, booked):
    agent_accepts(client, auth, session, booked)
    auth.login("owner@example.com")
    page = f"/appointments/{booked['appt'].id}"
    assert "Please confirm" in client.get(page).get_data(as_text=True)

    response = client.post_form(f"{page}/do/confirm", form_url=page)

    assert response.status_code == 302
    assert status(session, booked) == "confirmed"


def test_a_cancellation_without_a_reason_is_refused_and_changes_nothing(
    client, auth, session, booked
):
    auth.login("owner@example.com")
    page = f"/appointments/{booked['appt'].id}"

    response = client.post_form(f"{page}/do/cancel", {"reason": ""}, form_url=page)

    assert response.status_code == 422
    assert status(session, booked) == "requested"


def test_the_manage_link_opens_the_appointment_without_a_password(client, session, booked):
    response = client.get(booked["link"])

    assert response.status_code == 200
    assert "Leak repair" in response.get_data(as_text=True)


def test_the_manage_link_confirms_and_cancels_like_the_customer(client, auth, session, booked):
    agent_accepts(client, auth, session, booked)

    client.post_form(f"{booked['link']}/do/confirm", form_url=booked["link"])
    assert status(session, booked) == "confirmed"
    response = client.post_form(
        f"{booked['link']}/do/cancel", {"reason": "Moving house"}, form_url=booked["link"]
    )

    assert response.status_code == 302
    assert status(session, booked) == "cancelled"
    assert client.get(booked["link"]).status_code == 404  # closed: the link opens nothing


def test_the_manage_link_expires(client, session, booked, frozen_now):
    frozen_now(NOW + timedelta(days=31))

    assert client.get(booked["link"]).status_code == 404


def test_a_forged_manage_link_opens_nothing(client, booked):
    token = booked["link"].rsplit("/", 1)[1]
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")

    assert client.get(f"/manage/{forged}").status_code == 404


def test_the_manage_link_grants_nothing_else(client, booked):
    client.get(booked["link"])

    assert client.get("/appointments").status_code == 302  # to the log-in page
    assert client.get(f"/appointments/{booked['appt'].id}").status_code == 302
    assert client.get("/book").status_code == 302


def test_moving_through_the_page_picks_a_new_window(client, auth, session, booked):
    auth.login("owner@example.com")
    page = f"/appointments/{booked['appt'].id}"
    windows = client.get(f"{page}/move").get_data(as_text=True)
    later = LATER.isoformat()
    assert f'data-start="{later}"' in windows

    url = f"{page}/move/confirm?start={later.replace('+', '%2B')}"
    response = client.post_form(url, {"start": later}, form_url=url)

    assert response.status_code == 302
    session.expire_all()
    assert session.get(Appointment, booked["appt"].id).window_start == LATER


def test_moving_past_the_cutoff_is_refused_with_the_reason(
    client, auth, session, booked, frozen_now
):
    frozen_now(WINDOW - timedelta(hours=3))
    auth.login("owner@example.com")
    page = f"/appointments/{booked['appt'].id}"

    shown = client.get(page).get_data(as_text=True)
    response = client.get(f"{page}/move", follow_redirects=True)

    assert "24 hours before the arrival window" in shown
    assert "Ask our scheduler for a change" in shown
    assert "24 hours before" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Appointment, booked["appt"].id).window_start == WINDOW


def test_a_scheduler_sets_a_deadline_in_the_locations_time(client, auth, session, booked):
    create_user(session, role="scheduler", email="sched@example.com")
    auth.login("sched@example.com")
    page = f"/staff/appointments/{booked['appt'].id}"

    response = client.post_form(f"{page}/deadline", {"deadline": "2026-06-02T18:00"}, form_url=page)

    assert response.status_code == 302
    session.expire_all()
    deadline = session.get(Appointment, booked["appt"].id).confirm_deadline
    assert deadline == datetime(2026, 6, 2, 17, 0, tzinfo=UTC)  # 18:00 BST


def test_the_assigned_agent_opens_the_appointment_and_another_agent_cannot(
    client, auth, session, booked
):
    create_agent(session, email="stranger@example.com")
    page = f"/staff/appointments/{booked['appt'].id}"
    auth.login("tech@example.com")
    assert client.get(page).status_code == 200
    auth.logout()

    auth.login("stranger@example.com")
    assert client.get(page).status_code == 404


def test_a_cancelled_appointment_leaves_the_agents_list_at_once(client, auth, session, booked):
    auth.login("owner@example.com")
    page = f"/appointments/{booked['appt'].id}"
    client.post_form(f"{page}/do/cancel", {"reason": "Not needed"}, form_url=page)
    auth.logout()

    auth.login("tech@example.com")
    tasks = client.get("/staff/").get_data(as_text=True)

    assert booked["appt"].number not in tasks
    assert re.search(r"Nothing is assigned to you", tasks)


def test_the_agents_day_groups_tasks_and_takes_a_work_note(client, auth, session, booked):
    agent_accepts(client, auth, session, booked)
    auth.login("tech@example.com")

    page = client.get("/staff/").get_data(as_text=True)
    response = client.post_form(
        f"/staff/tasks/{task_id(session, booked)}/note",
        {"note": "Bring a 15 mm spanner", "for_customer": ""},
        form_url="/staff/",
    )

    assert "Wednesday 3 June" in page
    assert response.status_code == 302
    from portal.workorders.models import TimelineEntry

    note = session.scalar(sa.select(TimelineEntry).where(TimelineEntry.action == "work_note"))
    assert note.note == "Bring a 15 mm spanner" and note.visibility == "internal"
