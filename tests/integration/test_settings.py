"""Manager and admin settings over HTTP: each form saves good input, refuses bad input
with a 422 and changes nothing, and a saved change shapes the live windows at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.booking.models import BookingPolicy, Service
from portal.booking.queries import week_view
from portal.workforce.models import Agent, Holiday, PostalPrefix, Skill, Territory, TimeOff
from tests.factories import (
    NOW,
    create_agent,
    create_customer,
    create_location,
    create_service,
    create_skill,
    create_territory,
    create_user,
    ensure_policy,
)

WEEK = date(2026, 6, 1)


@pytest.fixture
def manager(session, frozen_now, auth):
    frozen_now(NOW)
    ensure_policy(session, window_minutes=120, min_notice_minutes=60, horizon_days=28)
    user = create_user(session, role="manager", email="boss@example.com")
    session.commit()
    auth.login("boss@example.com")
    return user


@pytest.fixture
def admin(session, frozen_now, auth):
    frozen_now(NOW)
    user = create_user(session, role="admin", email="root@example.com")
    session.commit()
    auth.login("root@example.com")
    return user


def service_form(service: Service | None = None, **changes) -> dict:
    values = {
        "name": service.name if service else "Boiler service",
        "description": service.description if service else "Annual check.",
        "duration_minutes": service.duration_minutes if service else 90,
        "buffer_minutes": service.buffer_minutes if service else 30,
        "agents_needed": service.agents_needed if service else 1,
        "required_skill_id": "",
        "active": "y",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def hours_form(time_zone="Europe/London", **days) -> dict:
    """Weekly hours fields: `mon=("09:00", "17:00")` or with a second period."""
    data = {"time_zone": time_zone}
    for day, periods in days.items():
        for n, (start, end) in enumerate(zip(periods[::2], periods[1::2], strict=True), 1):
            data[f"{day}-start{n}"] = start
            data[f"{day}-end{n}"] = end
    return data


# --- access --------------------------------------------------------------------------------

MANAGER_PAGES = [
    "/settings/",
    "/settings/services",
    "/settings/services/new",
    "/settings/agents",
    "/settings/skills",
    "/settings/territories",
    "/settings/territories/new",
    "/settings/holidays",
    "/settings/policy",
]
ADMIN_PAGES = ["/settings/users", "/settings/users/new"]


def _log_in_as(session, auth, role: str) -> None:
    if role == "customer":
        user = create_customer(session)[0]
    elif role == "agent":
        user = create_agent(session).user
    else:
        user = create_user(session, role=role)
    session.commit()
    auth.login(user.email)


@pytest.mark.parametrize("role", ["customer", "agent", "scheduler"])
def test_only_managers_open_the_settings(client, session, auth, role):
    _log_in_as(session, auth, role)

    assert {client.get(url).status_code for url in MANAGER_PAGES} == {403}


def test_managers_open_every_settings_page_but_staff_users(client, session, auth):
    _log_in_as(session, auth, "manager")

    assert {client.get(url).status_code for url in MANAGER_PAGES} == {200}
    assert {client.get(url).status_code for url in ADMIN_PAGES} == {403}


def test_admins_open_the_staff_users_pages(client, session, auth):
    _log_in_as(session, auth, "admin")

    assert {client.get(url).status_code for url in ADMIN_PAGES} == {200}


@pytest.mark.parametrize("role", ["customer", "agent"])
def test_only_schedulers_open_the_disruptions_page(client, session, auth, role):
    _log_in_as(session, auth, role)

    assert client.get("/settings/disruptions").status_code == 403


def test_a_manager_cannot_post_to_a_staff_user_form(client, session, manager):
    target = create_user(session, role="scheduler")

    response = client.post_form(
        f"/settings/users/{target.id}/deactivate", form_url="/settings/services"
    )

    assert response.status_code == 403
    assert session.get(User, target.id).active


# --- services ------------------------------------------------------------------------------


def test_a_new_service_is_saved(client, session, manager):
    skill = create_skill(session, name="Gas")

    response = client.post_form(
        "/settings/services/new",
        service_form(name="Boiler service", required_skill_id=str(skill.id)),
    )

    assert response.status_code == 302
    service = session.scalar(sa.select(Service).where(Service.name == "Boiler service"))
    assert (service.duration_minutes, service.buffer_minutes, service.agents_needed) == (90, 30, 1)
    assert service.required_skill_id == skill.id and service.active
    assert service.code == "boiler-service"


@pytest.mark.parametrize(
    "changes",
    [
        {"duration_minutes": "0"},
        {"buffer_minutes": "-5"},
        {"agents_needed": "0"},
        {"duration_minutes": "1400", "buffer_minutes": "60"},  # longer than a day
        {"name": ""},
        {"duration_minutes": "ninety"},
        {"required_skill_id": "999"},
    ],
)
def test_a_bad_service_edit_is_refused_and_changes_nothing(client, session, manager, changes):
    service = create_service(session, name="Leak repair", duration_minutes=60)

    response = client.post_form(
        f"/settings/services/{service.id}", service_form(service, **changes)
    )

    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    session.refresh(service)
    assert (service.name, service.duration_minutes, service.buffer_minutes) == (
        "Leak repair",
        60,
        0,
    )


def test_a_service_name_is_unique(client, session, manager):
    create_service(session, name="Leak repair")

    response = client.post_form("/settings/services/new", service_form(name="leak repair"))

    assert response.status_code == 422
    assert "Another service has that name." in response.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(Service)) == 1


def test_a_longer_duration_changes_the_windows_offered_at_once(client, session, manager):
    customer, account, _ = create_customer(session)
    location = create_location(session, account)
    service = create_service(session, duration_minutes=60)
    create_agent(session)  # Monday to Friday, 09:00-17:00 London

    def tuesday_windows():
        view = week_view(session, service, location, WEEK, NOW, org_zone="Europe/London")
        return [w.starts_at for w in view.days[1].windows]

    before = tuesday_windows()
    response = client.post_form(
        f"/settings/services/{service.id}", service_form(service, duration_minutes="360")
    )
    session.expire_all()
    after = tuesday_windows()

    assert response.status_code == 302
    # Working 09:00-17:00, a one-hour job can start by 16:00: five two-hour windows from
    # 08-10 to 16-18. A six-hour one must start by 11:00: only 08-10 and 10-12 stay.
    assert len(before) == 5
    assert len(after) == 2 and after == before[:2]


def test_a_hidden_service_is_no_longer_offered_for_booking(client, session, manager):
    service = create_service(session, name="Leak repair")

    client.post_form(f"/settings/services/{service.id}", service_form(service, active=None))

    session.refresh(service)
    assert not service.active


def test_the_services_list_is_paginated(client, session, manager):
    for n in range(25):
        create_service(session, name=f"Service {n:02d}")

    first = client.get("/settings/services").get_data(as_text=True)
    second = client.get("/settings/services?page=2").get_data(as_text=True)

    assert "Service 00" in first and "Service 19" in first and "Service 20" not in first
    assert "Service 24" in second and "Page 2 of 2" in second


# --- booking policy ------------------------------------------------------------------------

POLICY = {
    "window_minutes": "60",
    "step_minutes": "30",
    "min_notice_minutes": "120",
    "horizon_days": "14",
    "reschedule_cutoff_hours": "12",
    "max_self_reschedules": "3",
}


def test_the_booking_policy_is_saved(client, session, manager):
    response = client.post_form("/settings/policy", POLICY)

    assert response.status_code == 302
    policy = session.get(BookingPolicy, 1)
    assert (policy.window_minutes, policy.step_minutes, policy.horizon_days) == (60, 30, 14)
    assert (policy.min_notice_minutes, policy.reschedule_cutoff_hours) == (120, 12)
    assert policy.max_self_reschedules == 3


@pytest.mark.parametrize(
    "changes",
    [
        {"window_minutes": "0", "step_minutes": "0"},
        {"horizon_days": "0"},
        {"horizon_days": "400"},
        {"min_notice_minutes": "-1"},
        {"min_notice_minutes": str(14 * 24 * 60)},  # as long as the horizon
        {"max_self_reschedules": ""},
    ],
)
def test_a_bad_booking_policy_is_refused_and_changes_nothing(client, session, manager, changes):
    response = client.post_form("/settings/policy", {**POLICY, **changes})

    assert response.status_code == 422
    policy = session.get(BookingPolicy, 1)
    assert (policy.window_minutes, policy.horizon_days, policy.min_notice_minutes) == (120, 28, 60)


def test_exact_start_times_are_offered_when_the_window_is_zero(client, session, manager):
    customer, account, _ = create_customer(session)
    location = create_location(session, account)
    service = create_service(session, duration_minutes=60)
    create_agent(session)

    client.post_form("/settings/policy", {**POLICY, "window_minutes": "0", "step_minutes": "60"})

    session.expire_all()
    view = week_view(session, service, location, WEEK, NOW, org_zone="Europe/London")
    tuesday = view.days[1].windows
    assert tuesday and all(w.starts_at == w.ends_at for w in tuesday)


# --- skills, territories, holidays ---------------------------------------------------------


def test_a_skill_is_created_and_renamed(client, session, manager):
    client.post_form("/settings/skills", {"name": "Gas safe engineer"})
    skill = session.scalar(sa.select(Skill))

    response = client.post_form(f"/settings/skills/{skill.id}", {"name": "Gas engineer"})

    assert response.status_code == 302
    session.refresh(skill)
    assert (skill.code, skill.name) == ("gas_safe_engineer", "Gas engineer")


def test_a_duplicate_skill_name_is_refused(client, session, manager):
    create_skill(session, name="Plumber")

    response = client.post_form("/settings/skills", {"name": " plumber "})

    assert response.status_code == 422
    assert "Another skill has that name." in response.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(Skill)) == 1


def test_a_territory_is_saved_with_its_prefixes(client, session, manager):
    response = client.post_form(
        "/settings/territories/new",
        {"name": "Leeds", "time_zone": "Europe/London", "prefixes": "ls, Ls 1 , BD,"},
    )

    assert response.status_code == 302
    territory = session.scalar(sa.select(Territory).where(Territory.name == "Leeds"))
    assert sorted(p.prefix for p in territory.prefixes) == ["BD", "LS", "LS1"]


def test_a_territory_edit_replaces_its_prefixes_and_zone(client, session, manager):
    territory = create_territory(session, name="North", prefixes=["N", "NW"])

    response = client.post_form(
        f"/settings/territories/{territory.id}",
        {"name": "North London", "time_zone": "Europe/Dublin", "prefixes": "NW, EN"},
    )

    assert response.status_code == 302
    session.refresh(territory)
    assert (territory.name, territory.time_zone) == ("North London", "Europe/Dublin")
    assert sorted(p.prefix for p in territory.prefixes) == ["EN", "NW"]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"prefixes": "E, SE"}, "Postal prefix SE already belongs to South."),
        ({"prefixes": "E-1"}, "letters and digits only"),
        ({"prefixes": "E, e"}, "Postal prefix E is listed twice."),
        ({"time_zone": "Mars/Olympus"}, "Not a valid choice"),
        ({"name": "south"}, "Another territory has that name."),
    ],
)
def test_a_bad_territory_is_refused_and_changes_nothing(client, session, manager, changes, message):
    create_territory(session, name="South", prefixes=["SE"])
    territory = create_territory(session, name="East", prefixes=["E"])
    data = {"name": "East", "time_zone": "Europe/London", "prefixes": "E", **changes}

    response = client.post_form(f"/settings/territories/{territory.id}", data)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    session.refresh(territory)
    assert territory.name == "East" and [p.prefix for p in territory.prefixes] == ["E"]
    assert session.scalar(sa.select(sa.func.count()).select_from(PostalPrefix)) == 2


def test_a_holiday_closes_its_day_and_removing_it_opens_it_again(client, session, manager):
    customer, account, _ = create_customer(session)
    location = create_location(session, account)
    service = create_service(session)
    create_agent(session)

    def tuesday_windows():
        session.expire_all()
        view = week_view(session, service, location, WEEK, NOW, org_zone="Europe/London")
        return view.days[1].windows

    client.post_form("/settings/holidays", {"day": "2026-06-02", "name": "Founders' day"})
    closed = tuesday_windows()
    holiday = session.scalar(sa.select(Holiday))
    name = holiday.name
    client.post_form(f"/settings/holidays/{holiday.id}/remove", form_url="/settings/holidays")

    assert name == "Founders' day" and closed == []
    assert tuesday_windows()
    assert session.scalar(sa.select(sa.func.count()).select_from(Holiday)) == 0


@pytest.mark.parametrize(
    "data", [{"day": "2026-06-02", "name": "Twice"}, {"day": "", "name": "No day"}]
)
def test_a_bad_holiday_is_refused(client, session, manager, data):
    session.add(Holiday(day=date(2026, 6, 2), name="Founders' day"))

    response = client.post_form("/settings/holidays", data)

    assert response.status_code == 422
    assert [h.name for h in session.scalars(sa.select(Holiday))] == ["Founders' day"]


# --- agents --------------------------------------------------------------------------------


def test_the_agents_list_filters_by_territory_and_skill(client, session, manager):
    gas = create_skill(session, name="Gas")
    north = create_territory(session, name="North")
    create_agent(session, full_name="Ada Gas North", skills=[gas], territories=[north])
    create_agent(session, full_name="Bob Gas", skills=[gas])
    create_agent(session, full_name="Cy North", territories=[north])

    page = client.get(f"/settings/agents?territory={north.id}&skill={gas.id}")

    text = page.get_data(as_text=True)
    assert "Ada Gas North" in text and "Bob Gas" not in text and "Cy North" not in text


def test_weekly_hours_are_saved_with_two_periods_a_day(client, session, manager):
    agent = create_agent(session)

    response = client.post_form(
        f"/settings/agents/{agent.id}/hours",
        hours_form(
            time_zone="Europe/Dublin",
            mon=("08:00", "12:00", "13:00", "17:00"),
            sat=("10:00", "14:00"),
        ),
        form_url=f"/settings/agents/{agent.id}",
    )

    assert response.status_code == 302
    session.refresh(agent)
    assert agent.time_zone == "Europe/Dublin"
    assert [(h.weekday, h.start_time, h.end_time) for h in agent.hours] == [
        (0, time(8), time(12)),
        (0, time(13), time(17)),
        (5, time(10), time(14)),
    ]


@pytest.mark.parametrize(
    "days",
    [
        {"mon": ("12:00", "09:00")},  # ends before it starts
        {"mon": ("09:00", "13:00", "12:00", "17:00")},  # the periods overlap
        {"mon": ("09:00", "")},  # no end
        {"mon": ("9 am", "17:00")},  # not a time
    ],
)
def test_bad_weekly_hours_are_refused_and_change_nothing(client, session, manager, days):
    agent = create_agent(session)

    response = client.post_form(
        f"/settings/agents/{agent.id}/hours",
        hours_form(**days),
        form_url=f"/settings/agents/{agent.id}",
    )

    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    session.refresh(agent)
    assert len(agent.hours) == 5 and agent.hours[0].start_time == time(9)


def test_skills_and_territories_of_an_agent_are_saved(client, session, manager):
    gas, water = create_skill(session, name="Gas"), create_skill(session, name="Water")
    north = create_territory(session, name="North")
    agent = create_agent(session, skills=[gas])

    response = client.post_form(
        f"/settings/agents/{agent.id}/profile",
        {f"skill_{water.id}": "y", f"territory_{north.id}": "y"},
        form_url=f"/settings/agents/{agent.id}",
    )

    assert response.status_code == 302
    session.refresh(agent)
    assert [s.name for s in agent.skills] == ["Water"]
    assert [t.name for t in agent.territories] == ["North"]


def test_time_off_is_added_in_the_agents_zone_and_removed(client, session, manager):
    agent = create_agent(session, time_zone="America/New_York")
    url = f"/settings/agents/{agent.id}"

    client.post_form(
        f"{url}/time-off",
        {"starts_at": "2026-06-10T09:00", "ends_at": "2026-06-10T13:00", "reason": "Dentist"},
        form_url=url,
    )
    entry = session.scalar(sa.select(TimeOff))
    starts, reason = entry.starts_at, entry.reason
    client.post_form(f"{url}/time-off/{entry.id}/remove", form_url=url)

    assert starts == datetime(2026, 6, 10, 13, 0, tzinfo=UTC) and reason == "Dentist"
    assert session.scalar(sa.select(sa.func.count()).select_from(TimeOff)) == 0


@pytest.mark.parametrize(
    "data",
    [
        {"starts_at": "2026-06-10T13:00", "ends_at": "2026-06-10T09:00"},
        {"starts_at": "", "ends_at": "2026-06-10T09:00"},
        {"starts_at": "2026-06-10T09:00", "ends_at": "2026-06-10T13:00", "reason": "x" * 200},
    ],
)
def test_bad_time_off_is_refused_and_changes_nothing(client, session, manager, data):
    agent = create_agent(session)
    url = f"/settings/agents/{agent.id}"

    response = client.post_form(f"{url}/time-off", data, form_url=url)

    assert response.status_code == 422
    assert session.scalar(sa.select(sa.func.count()).select_from(TimeOff)) == 0


def test_an_agent_taken_off_the_schedule_offers_no_windows(client, session, manager):
    customer, account, _ = create_customer(session)
    location = create_location(session, account)
    service = create_service(session)
    agent = create_agent(session)
    url = f"/settings/agents/{agent.id}"

    response = client.post_form(f"{url}/deactivate", form_url=url, follow_redirects=True)

    session.expire_all()
    view = week_view(session, service, location, WEEK, NOW, org_zone="Europe/London")
    assert "can no longer be booked" in response.get_data(as_text=True)
    assert not session.get(Agent, agent.id).active
    assert not any(day.windows for day in view.days)


# --- staff users ---------------------------------------------------------------------------

# Inviting (the form, e-mail, link and its refusals) is covered in test_staff_invite.py.

NEW_USER = {
    "email": "New.Tech@Example.com",
    "full_name": "New Tech",
    "role": "agent",
    "time_zone": "Europe/London",
}


def test_an_admin_invites_a_staff_user_instead_of_choosing_their_password(client, session, admin):
    response = client.post_form("/settings/users/new", NEW_USER)

    assert response.status_code == 302
    user = session.scalar(sa.select(User).where(User.email == "new.tech@example.com"))
    assert user.role == "agent" and user.password_hash is None
    assert session.scalar(sa.select(Agent).where(Agent.user_id == user.id)) is not None
    assert response.headers["Location"] == f"/settings/users/{user.id}"


@pytest.mark.parametrize(
    "changes",
    [
        {"role": "customer"},
        {"email": "not-an-email"},
        {"email": "root@example.com"},  # taken
        {"time_zone": "Nowhere/Land"},
    ],
)
def test_a_bad_staff_user_is_refused_and_nobody_is_created(client, session, admin, changes):
    response = client.post_form("/settings/users/new", {**NEW_USER, **changes})

    assert response.status_code == 422
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_an_admin_changes_a_users_role(client, session, admin):
    user = create_user(session, role="scheduler")

    response = client.post_form(
        f"/settings/users/{user.id}/role",
        {"role": "manager"},
        form_url=f"/settings/users/{user.id}",
    )

    assert response.status_code == 302
    session.refresh(user)
    assert user.role == "manager"


def test_an_admin_cannot_change_their_own_role(client, session, admin):
    response = client.post_form(
        f"/settings/users/{admin.id}/role", {"role": "agent"}, form_url="/settings/users/new"
    )

    assert response.status_code == 422
    session.refresh(admin)
    assert admin.role == "admin"


def test_an_admin_cannot_deactivate_themself(client, session, admin):
    response = client.post_form(
        f"/settings/users/{admin.id}/deactivate", form_url="/settings/users/new"
    )

    assert response.status_code == 422
    assert "cannot deactivate yourself" in response.get_data(as_text=True)
    session.refresh(admin)
    assert admin.active


def test_a_deactivated_user_cannot_log_in_any_more(client, session, admin, auth):
    user = create_user(session, role="scheduler", email="gone@example.com")

    client.post_form(f"/settings/users/{user.id}/deactivate", form_url="/settings/users/new")
    auth.logout()

    assert auth.login("gone@example.com").status_code == 401
    session.refresh(user)
    assert not user.active


def test_a_deactivated_users_open_session_stops_working(app, client, session, admin):
    user = create_user(session, role="scheduler", email="gone@example.com")
    session.commit()
    other = app.test_client()
    other.post_form("/login", {"email": "gone@example.com", "password": "demo"})
    assert other.get("/staff/").status_code == 200

    client.post_form(f"/settings/users/{user.id}/deactivate", form_url="/settings/users/new")

    assert other.get("/staff/").status_code == 302  # back to log-in


def test_the_agents_list_sums_up_weekly_hours_by_days_alike():
    from types import SimpleNamespace as Rule

    from portal.settings.services import summarise_hours

    rules = [Rule(weekday=d, start_time=time(8), end_time=time(12)) for d in range(5)] + [
        Rule(weekday=d, start_time=time(13), end_time=time(17)) for d in (0, 2, 4)
    ]

    assert summarise_hours(rules) == [
        "Mon, Wed, Fri 08:00–12:00, 13:00–17:00",
        "Tue, Thu 08:00–12:00",
    ]
