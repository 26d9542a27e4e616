"""Business-hours calendars and entitlement processes in settings: each form saves good
input, refuses bad input with a 422 and a message and changes nothing; managers only."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from portal.calendars import editing
from portal.calendars.models import BusinessCalendar, BusinessHoliday, BusinessHours
from portal.cases.models import CaseType
from portal.cases.types import SUPPORT, case_type
from portal.errors import Invalid
from portal.queues.models import Queue
from portal.sla import settings as sla
from portal.sla.models import EntitlementProcess, MilestoneAction, MilestoneDefinition
from portal.sla.preview import preview_process
from tests.factories import NOW, create_user

WEEKDAYS = {"mon": "09:00-12:30, 13:30-17:30", "tue": "09:00-12:30, 13:30-17:30"}


@pytest.fixture
def manager(session, frozen_now, auth):
    frozen_now(NOW)
    user = create_user(session, role="manager", email="boss@example.com")
    session.commit()
    auth.login("boss@example.com")
    return user


@pytest.fixture
def office(session) -> BusinessCalendar:
    cal = editing.create_calendar(session, "Support desk", "Europe/London")
    editing.set_week(session, cal, {0: "09:00-17:00", 1: "09:00-17:00"})
    session.commit()
    return cal


def create_case_type(session) -> CaseType:
    """The built-in "Customer support" type (New, In progress, Waiting on customer, Closed)."""
    return case_type(session, SUPPORT)


def create_process(session, calendar, **changes) -> EntitlementProcess:
    data = sla.ProcessData(
        name="Standard support",
        applies_to="case",
        rank=100,
        active=True,
        calendar_id=calendar.id,
    )
    return sla.create_process(session, sla.ProcessData(**{**data.__dict__, **changes}))


def targets(**given) -> dict:
    values = {"low": "16 h", "medium": "8 h", "high": "4 h", "urgent": "1 h"}
    values.update(given)
    return {f"target_{p}": v for p, v in values.items()}


# --- access ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["scheduler", "backoffice", "agent"])
def test_calendars_and_processes_are_closed_below_manager(session, client, auth, role):
    create_user(session, role=role, email="low@example.com")
    session.commit()
    auth.login("low@example.com")

    assert client.get("/settings/calendars").status_code == 403
    assert client.get("/settings/entitlements").status_code == 403


def test_a_post_without_csrf_token_is_refused(client, manager, office):
    response = client.post(f"/settings/calendars/{office.id}/week", data={"mon": "08:00-09:00"})

    assert response.status_code == 400


# --- calendars over HTTP -----------------------------------------------------------------


def test_a_manager_adds_a_calendar_and_lands_on_its_page(client, session, manager):
    response = client.post_form(
        "/settings/calendars", {"name": "Finance", "time_zone": "Asia/Kolkata"}
    )

    cal = session.scalar(sa.select(BusinessCalendar).where(BusinessCalendar.name == "Finance"))
    assert cal.time_zone == "Asia/Kolkata"
    assert response.status_code == 302
    assert response.location.endswith(f"/settings/calendars/{cal.id}")


def test_an_unknown_zone_is_refused_and_nothing_is_added(client, session, manager):
    response = client.post_form(
        "/settings/calendars", {"name": "Finance", "time_zone": "Mars/Olympus"}
    )

    assert response.status_code == 422
    assert session.scalar(sa.select(sa.func.count()).select_from(BusinessCalendar)) == 0


def test_a_taken_name_is_refused(client, manager, office):
    response = client.post_form(
        "/settings/calendars", {"name": "support DESK", "time_zone": "Europe/London"}
    )

    assert response.status_code == 422
    assert "There is already a calendar called" in response.get_data(as_text=True)


def test_the_week_is_saved_with_a_lunch_break_and_a_night_window(client, session, manager, office):
    week = {**WEEKDAYS, "fri": "22:00-02:00"}
    response = client.post_form(
        f"/settings/calendars/{office.id}/week",
        week,
        form_url=f"/settings/calendars/{office.id}",
        follow_redirects=True,
    )

    rows = session.scalars(
        sa.select(BusinessHours)
        .where(BusinessHours.calendar_id == office.id)
        .order_by(BusinessHours.weekday, BusinessHours.start_minute)
    ).all()
    assert [(r.weekday, r.start_minute, r.end_minute) for r in rows] == [
        (0, 540, 750),
        (0, 810, 1050),
        (1, 540, 750),
        (1, 810, 1050),
        (4, 1320, 120),
    ]
    assert "Open 19 h a week" in response.get_data(as_text=True)


def test_an_overlap_is_refused_with_the_days_named_and_the_old_week_kept(
    client, session, manager, office
):
    response = client.post_form(
        f"/settings/calendars/{office.id}/week",
        {"mon": "09:00-12:00, 11:00-13:00"},
        form_url=f"/settings/calendars/{office.id}",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Monday 11:00–13:00 overlaps Monday 09:00–12:00" in page
    assert 'aria-invalid="true"' in page
    assert len(session.scalars(sa.select(BusinessHours)).all()) == 2


def test_the_preview_totals_the_typed_week_without_saving(client, session, manager, office):
    response = client.post_form(
        f"/settings/calendars/{office.id}/week/preview",
        {day: "09:00-12:30, 13:30-17:30" for day in ("mon", "tue", "wed", "thu", "fri")},
        form_url=f"/settings/calendars/{office.id}",
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "Open 37 h 30 min a week" in response.get_data(as_text=True)
    assert len(session.scalars(sa.select(BusinessHours)).all()) == 2


def test_the_preview_names_the_first_problem(client, manager, office):
    response = client.post_form(
        f"/settings/calendars/{office.id}/week/preview",
        {"wed": "09:00-09:00"},
        form_url=f"/settings/calendars/{office.id}",
    )

    assert response.status_code == 200
    assert "Wednesday: 09:00–09:00 is empty" in response.get_data(as_text=True)


def test_the_page_shows_the_week_as_a_table(client, manager, office):
    page = client.get(f"/settings/calendars/{office.id}").get_data(as_text=True)

    assert '<table class="week-table">' in page
    assert "09:00–17:00" in page
    assert "Open 16 h a week" in page


def test_one_interval_is_removed(client, session, manager, office):
    row_id = office.hours[0].id
    client.post_form(
        f"/settings/calendars/{office.id}/hours/{row_id}/remove",
        form_url=f"/settings/calendars/{office.id}",
    )

    assert session.get(BusinessHours, row_id) is None
    assert len(session.scalars(sa.select(BusinessHours)).all()) == 1


def holiday(**changes) -> dict:
    data = {"holiday-day": "2026-12-25", "holiday-name": "Christmas Day", "holiday-whole_day": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_whole_day_holiday_is_added(client, session, manager, office):
    client.post_form(
        f"/settings/calendars/{office.id}/holidays",
        holiday(),
        form_url=f"/settings/calendars/{office.id}",
    )

    row = session.scalar(sa.select(BusinessHoliday))
    assert (row.day, row.start_minute, row.end_minute) == (date(2026, 12, 25), 0, 1440)


def test_a_part_day_holiday_keeps_its_times(client, session, manager, office):
    client.post_form(
        f"/settings/calendars/{office.id}/holidays",
        holiday(**{"holiday-whole_day": None, "holiday-start": "13:00", "holiday-end": "17:00"}),
        form_url=f"/settings/calendars/{office.id}",
    )

    row = session.scalar(sa.select(BusinessHoliday))
    assert (row.start_minute, row.end_minute) == (780, 1020)


def test_a_part_day_holiday_without_times_is_refused(client, session, manager, office):
    response = client.post_form(
        f"/settings/calendars/{office.id}/holidays",
        holiday(**{"holiday-whole_day": None}),
        form_url=f"/settings/calendars/{office.id}",
    )

    assert response.status_code == 422
    assert "Give a time, or tick" in response.get_data(as_text=True)
    assert session.scalar(sa.select(BusinessHoliday)) is None


def test_a_holiday_overlapping_another_that_day_is_refused(client, session, manager, office):
    editing.add_holiday(session, office, date(2026, 12, 25), "Christmas Day")
    response = client.post_form(
        f"/settings/calendars/{office.id}/holidays",
        holiday(**{"holiday-name": "Party"}),
        form_url=f"/settings/calendars/{office.id}",
    )

    assert response.status_code == 422
    assert "Christmas Day already closes 2026-12-25" in response.get_data(as_text=True)


def test_a_holiday_is_removed(client, session, manager, office):
    row = editing.add_holiday(session, office, date(2026, 12, 25), "Christmas Day")
    client.post_form(
        f"/settings/calendars/{office.id}/holidays/{row.id}/remove",
        form_url=f"/settings/calendars/{office.id}",
    )

    assert session.scalar(sa.select(BusinessHoliday)) is None


def test_a_calendar_in_use_by_a_queue_is_not_deleted(client, session, manager, office):
    session.add(Queue(slug="finance", name="Finance", calendar_id=office.id))
    response = client.post_form(
        f"/settings/calendars/{office.id}/delete",
        form_url=f"/settings/calendars/{office.id}",
        follow_redirects=True,
    )

    assert "in use by queue Finance" in response.get_data(as_text=True)
    assert session.get(BusinessCalendar, office.id) is not None


def test_an_unused_calendar_is_deleted_with_its_hours(client, session, manager, office):
    office_id = office.id
    client.post_form(
        f"/settings/calendars/{office_id}/delete", form_url=f"/settings/calendars/{office_id}"
    )

    assert session.get(BusinessCalendar, office_id) is None
    assert session.scalar(sa.select(sa.func.count()).select_from(BusinessHours)) == 0


def test_a_calendar_change_is_in_the_audit_log(session, office):
    from portal.audit.models import AuditEntry

    types = session.scalars(sa.select(AuditEntry.entity_type)).all()
    assert "business_calendar" in types


# --- processes over HTTP -----------------------------------------------------------------


def process_form(office, **changes) -> dict:
    data = {
        "name": "Standard support",
        "applies_to": "case",
        "rank": "100",
        "active": "y",
        "calendar_id": str(office.id),
        "case_type_id": "",
        "priority": "",
        "account_id": "",
        "queue_id": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_manager_adds_a_process(client, session, manager, office):
    case_type = create_case_type(session)
    response = client.post_form(
        "/settings/entitlements/new",
        process_form(office, case_type_id=str(case_type.id), priority="high"),
    )

    process = session.scalar(sa.select(EntitlementProcess))
    assert response.status_code == 302
    assert (process.case_type_id, process.priority, process.calendar_id) == (
        case_type.id,
        "high",
        office.id,
    )


def test_a_case_process_without_a_calendar_is_refused(client, session, manager, office):
    response = client.post_form("/settings/entitlements/new", process_form(office, calendar_id=""))

    assert response.status_code == 422
    assert "Choose the business hours" in response.get_data(as_text=True)
    assert session.scalar(sa.select(EntitlementProcess)) is None


def test_a_work_order_process_may_count_the_queues_calendar(client, session, manager, office):
    response = client.post_form(
        "/settings/entitlements/new",
        process_form(office, name="Finance OLA", applies_to="work_order", calendar_id=""),
    )

    assert response.status_code == 302
    assert session.scalar(sa.select(EntitlementProcess)).calendar_id is None


def test_an_unknown_account_is_refused(client, session, manager, office):
    response = client.post_form(
        "/settings/entitlements/new", process_form(office, account_id="999999")
    )

    assert response.status_code == 422
    assert "There is no account number 999999" in response.get_data(as_text=True)


def test_a_case_process_with_a_queue_condition_is_refused(client, session, manager, office):
    queue = Queue(slug="finance", name="Finance")
    session.add(queue)
    session.flush()
    response = client.post_form(
        "/settings/entitlements/new", process_form(office, queue_id=str(queue.id))
    )

    assert response.status_code == 422
    assert "Only back-office work orders wait in a queue" in response.get_data(as_text=True)


@pytest.mark.parametrize("number", ["99999999999999999999", "-3", "12a"])
def test_an_account_number_that_is_none_is_refused(client, session, manager, office, number):
    response = client.post_form(
        "/settings/entitlements/new", process_form(office, account_id=number)
    )

    assert response.status_code == 422
    assert session.scalar(sa.select(EntitlementProcess)) is None


def test_a_process_is_edited(client, session, manager, office):
    process = create_process(session, office)
    client.post_form(
        f"/settings/entitlements/{process.id}", process_form(office, rank="5", active=None)
    )

    session.refresh(process)
    assert (process.rank, process.active) == (5, False)


def test_a_milestone_is_added_with_targets_typed_as_hours(client, session, manager, office):
    process = create_process(session, office)
    data = {f"new-{k}": v for k, v in {"kind": "first_response", "name": "", **targets()}.items()}
    response = client.post_form(
        f"/settings/entitlements/{process.id}/milestones",
        {**data, "new-warn_percent": "75", "new-target_urgent": "1:30"},
        form_url=f"/settings/entitlements/{process.id}",
        follow_redirects=True,
    )

    definition = session.scalar(sa.select(MilestoneDefinition))
    assert (definition.name, definition.target_low, definition.target_urgent) == (
        "First response",
        960,
        90,
    )
    page = response.get_data(as_text=True)
    assert "16 h" in page and "1 h 30 min" in page


def test_a_target_that_is_not_a_time_is_refused_on_its_field(client, session, manager, office):
    process = create_process(session, office)
    data = {f"new-{k}": v for k, v in {"kind": "resolution", **targets(high="soon")}.items()}
    response = client.post_form(
        f"/settings/entitlements/{process.id}/milestones",
        {**data, "new-warn_percent": "75"},
        form_url=f"/settings/entitlements/{process.id}",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="new-target_high-error"' in page
    assert "“soon” is not a length of time" in page
    assert session.scalar(sa.select(MilestoneDefinition)) is None


def test_a_second_milestone_of_one_kind_is_refused(session, office):
    process = create_process(session, office)
    data = sla.MilestoneData("resolution", "", 960, 480, 240, 60)
    sla.add_milestone(session, process, data)

    with pytest.raises(Invalid, match="already has a resolution milestone"):
        sla.add_milestone(session, process, data)


def test_a_milestones_targets_are_changed(client, session, manager, office):
    process = create_process(session, office)
    definition = sla.add_milestone(
        session, process, sla.MilestoneData("resolution", "", 960, 480, 240, 60)
    )
    prefix = f"m{definition.id}-"
    data = {prefix + k: v for k, v in {"kind": "resolution", "name": "Fix", **targets()}.items()}
    client.post_form(
        f"/settings/entitlements/{process.id}/milestones/{definition.id}",
        {**data, prefix + "target_low": "24 h", prefix + "warn_percent": "80"},
        form_url=f"/settings/entitlements/{process.id}",
    )

    session.refresh(definition)
    assert (definition.name, definition.target_low, definition.warn_percent) == ("Fix", 1440, 80)


def test_an_action_is_added_with_its_value(client, session, manager, office):
    process = create_process(session, office)
    definition = sla.add_milestone(
        session, process, sla.MilestoneData("resolution", "", 960, 480, 240, 60)
    )
    prefix = f"a{definition.id}-"
    client.post_form(
        f"/settings/entitlements/{process.id}/milestones/{definition.id}/actions",
        {
            prefix + "trigger": "violation",
            prefix + "action": "set_priority",
            prefix + "value": "urgent",
            prefix + "outside_hours": "y",
        },
        form_url=f"/settings/entitlements/{process.id}",
    )

    action = session.scalar(sa.select(MilestoneAction))
    assert (action.trigger, action.action, action.value, action.outside_hours) == (
        "violation",
        "set_priority",
        "urgent",
        True,
    )


def test_set_status_takes_only_a_status_of_the_case_type(session, office):
    case_type = create_case_type(session)
    process = create_process(session, office, case_type_id=case_type.id)
    definition = sla.add_milestone(
        session, process, sla.MilestoneData("resolution", "", 960, 480, 240, 60)
    )

    with pytest.raises(Invalid, match="Choose the status to set"):
        sla.add_action(session, definition, trigger="warning", action="set_status", value="Gone")
    action = sla.add_action(
        session, definition, trigger="warning", action="set_status", value="In progress"
    )
    assert action.value == "In progress"


def test_a_work_order_process_may_set_its_cases_priority(session, office):
    process = create_process(session, office, applies_to="work_order")
    definition = sla.add_milestone(
        session, process, sla.MilestoneData("resolution", "", 960, 480, 240, 60)
    )

    action = sla.add_action(
        session, definition, trigger="violation", action="set_priority", value="high"
    )
    assert action.value == "high"


def test_a_value_is_dropped_for_an_action_that_takes_none(session, office):
    process = create_process(session, office)
    definition = sla.add_milestone(
        session, process, sla.MilestoneData("resolution", "", 960, 480, 240, 60)
    )

    action = sla.add_action(
        session, definition, trigger="warning", action="notify_lead", value="urgent"
    )
    assert action.value == ""


def test_the_same_action_twice_is_refused(session, office):
    process = create_process(session, office)
    definition = sla.add_milestone(
        session, process, sla.MilestoneData("resolution", "", 960, 480, 240, 60)
    )
    sla.add_action(session, definition, trigger="warning", action="notify_owner")

    with pytest.raises(Invalid, match="already does that on warning"):
        sla.add_action(session, definition, trigger="warning", action="notify_owner")


def test_an_action_is_removed(client, session, manager, office):
    process = create_process(session, office)
    definition = sla.add_milestone(
        session, process, sla.MilestoneData("resolution", "", 960, 480, 240, 60)
    )
    action = sla.add_action(session, definition, trigger="warning", action="notify_owner")
    client.post_form(
        f"/settings/entitlements/{process.id}/actions/{action.id}/remove",
        form_url=f"/settings/entitlements/{process.id}",
    )

    assert session.scalar(sa.select(MilestoneAction)) is None


def test_another_processs_action_is_not_found(client, session, manager, office):
    process = create_process(session, office)
    other = create_process(session, office, name="Other")
    definition = sla.add_milestone(
        session, other, sla.MilestoneData("resolution", "", 960, 480, 240, 60)
    )
    action = sla.add_action(session, definition, trigger="warning", action="notify_owner")
    response = client.post_form(
        f"/settings/entitlements/{process.id}/actions/{action.id}/remove",
        form_url=f"/settings/entitlements/{process.id}",
    )

    assert response.status_code == 404
    assert session.get(MilestoneAction, action.id) is not None


def test_a_process_is_deleted_with_its_milestones(client, session, manager, office):
    process = create_process(session, office)
    sla.add_milestone(session, process, sla.MilestoneData("resolution", "", 960, 480, 240, 60))
    client.post_form(
        f"/settings/entitlements/{process.id}/delete",
        form_url=f"/settings/entitlements/{process.id}",
    )

    assert session.scalar(sa.select(EntitlementProcess)) is None
    assert session.scalar(sa.select(MilestoneDefinition)) is None


def test_the_list_shows_processes_with_their_targets(client, session, manager, office):
    process = create_process(session, office, priority="urgent")
    sla.add_milestone(session, process, sla.MilestoneData("resolution", "Fix", 960, 480, 240, 60))
    page = client.get("/settings/entitlements").get_data(as_text=True)

    assert "Standard support" in page
    assert "when Urgent priority" in page
    assert "Low 16 h, Medium 8 h, High 4 h, Urgent 1 h" in page


def test_renaming_a_process_to_a_taken_name_is_refused_on_its_page(
    client, session, manager, office
):
    create_process(session, office, name="Gold")
    process = create_process(session, office, name="Silver")
    response = client.post_form(
        f"/settings/entitlements/{process.id}", process_form(office, name="gold")
    )

    assert response.status_code == 422
    assert "There is already a process called gold" in response.get_data(as_text=True)
    session.refresh(process)
    assert process.name == "Silver"


def test_a_refused_target_change_reopens_that_milestones_form(client, session, manager, office):
    process = create_process(session, office)
    definition = sla.add_milestone(
        session, process, sla.MilestoneData("resolution", "", 960, 480, 240, 60)
    )
    prefix = f"m{definition.id}-"
    data = {prefix + k: v for k, v in {"kind": "resolution", **targets(low="0")}.items()}
    response = client.post_form(
        f"/settings/entitlements/{process.id}/milestones/{definition.id}",
        {**data, prefix + "warn_percent": "75"},
        form_url=f"/settings/entitlements/{process.id}",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<details open>" in page
    assert "Give the low target between 1 min and 8784 h." in page
    session.refresh(definition)
    assert definition.target_low == 960


def test_a_milestone_of_another_process_is_not_found(client, session, manager, office):
    process = create_process(session, office)
    other = create_process(session, office, name="Other")
    definition = sla.add_milestone(
        session, other, sla.MilestoneData("resolution", "", 960, 480, 240, 60)
    )
    response = client.post_form(
        f"/settings/entitlements/{process.id}/milestones/{definition.id}/remove",
        form_url=f"/settings/entitlements/{process.id}",
    )

    assert response.status_code == 404
    assert session.get(MilestoneDefinition, definition.id) is not None


def test_an_unknown_calendar_is_not_found(client, manager):
    assert client.get("/settings/calendars/424242").status_code == 404


# --- calendars the clocks count on keep some hours ----------------------------------------


def test_a_process_cannot_count_on_a_calendar_with_no_hours(session, office):
    empty = editing.create_calendar(session, "Empty", "Europe/London")

    with pytest.raises(Invalid, match="Empty has no hours yet"):
        create_process(session, empty)


def test_the_week_of_a_calendar_in_use_cannot_be_emptied(client, session, manager, office):
    create_process(session, office)
    response = client.post_form(
        f"/settings/calendars/{office.id}/week", {}, form_url=f"/settings/calendars/{office.id}"
    )

    assert response.status_code == 422
    assert "it needs some open hours" in response.get_data(as_text=True)
    assert len(session.scalars(sa.select(BusinessHours)).all()) == 2


def test_the_last_interval_of_a_calendar_in_use_stays(client, session, manager, office):
    editing.set_week(session, office, {0: "09:00-17:00"})
    create_process(session, office)
    row_id = office.hours[0].id
    response = client.post_form(
        f"/settings/calendars/{office.id}/hours/{row_id}/remove",
        form_url=f"/settings/calendars/{office.id}",
        follow_redirects=True,
    )

    assert "it needs some open hours" in response.get_data(as_text=True)
    assert session.get(BusinessHours, row_id) is not None


# --- the preview: which process applies ---------------------------------------------------


def test_the_preview_picks_the_lowest_ranked_matching_process(session, office):
    support = create_case_type(session)
    create_process(session, office, name="Any case", rank=200)
    urgent = create_process(session, office, name="Urgent support", rank=10, priority="urgent")
    sla.add_milestone(session, urgent, sla.MilestoneData("first_response", "", 960, 480, 240, 60))

    found = preview_process(
        session, applies_to="case", case_type_id=support.id, priority="urgent", at=NOW
    )
    other = preview_process(
        session, applies_to="case", case_type_id=support.id, priority="low", at=NOW
    )

    assert found.process.name == "Urgent support"
    assert other.process.name == "Any case"


def test_the_preview_gives_due_times_in_business_hours(session, office):
    # The office opens Monday and Tuesday 09:00-17:00 London; NOW is a Monday.
    process = create_process(session, office)
    sla.add_milestone(session, process, sla.MilestoneData("resolution", "", 960, 600, 240, 60))
    monday_evening = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)  # 16:00 in London

    preview = preview_process(
        session, applies_to="case", case_type_id=None, priority="medium", at=monday_evening
    )

    # 1 h on Monday, 8 h on Tuesday, the last hour on the next Monday at 10:00 London.
    (resolution,) = preview.milestones
    assert resolution.target == "10 h"
    assert resolution.due_at == datetime(2026, 6, 8, 9, 0, tzinfo=UTC)


def test_a_work_order_process_without_a_calendar_counts_the_queues(session, office):
    queue = Queue(slug="finance", name="Finance", calendar_id=office.id)
    session.add(queue)
    session.flush()
    process = create_process(
        session, office, name="Finance OLA", applies_to="work_order", calendar_id=None
    )
    sla.add_milestone(session, process, sla.MilestoneData("resolution", "", 960, 480, 240, 60))

    preview = preview_process(
        session,
        applies_to="work_order",
        case_type_id=None,
        priority="high",
        queue_id=queue.id,
        at=NOW,
    )

    assert preview.calendar.id == office.id


def test_the_preview_over_htmx_answers_the_fragment(client, session, manager, office):
    create_process(session, office, name="Everything")
    type_id = create_case_type(session).id
    response = client.get(
        f"/settings/entitlements?applies_to=case&case_type_id={type_id}&priority=high"
        "&account_id=&queue_id=",
        headers={"HX-Request": "true", "HX-Target": "process-preview"},
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="process-preview"')
    assert "It gets" in page and "Everything" in page


def test_the_preview_says_when_no_process_applies(client, session, manager, office):
    type_id = create_case_type(session).id
    response = client.get(
        f"/settings/entitlements?applies_to=case&case_type_id={type_id}&priority=low"
    )

    assert "No active process applies" in response.get_data(as_text=True)
