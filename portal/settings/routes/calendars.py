"""Business-hours calendars: the list (with a form to add one), and one page per calendar
with a form per action: name and zone, the week, holidays, delete.

The week is typed as text per weekday; while a manager types, htmx posts the form to the
preview URL, which answers the week's total ("Open 37 h 30 min a week") or the first
problem, and saves nothing (always 200, so htmx swaps it in). Saving is an ordinary
POST: refused input comes back as the page with the message on the day's field (422).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from portal.access import role_required
from portal.calendars import editing
from portal.calendars.models import BusinessCalendar
from portal.db import commit, get_session, rollback_request_session
from portal.errors import Invalid, PortalError
from portal.formatting import org_zone
from portal.settings.helpers import check_action_form, load_or_404, me, refuse, save_form, status
from portal.settings.sla_forms import CalendarForm, CalendarHolidayForm, WeekForm
from portal.sla.calendar_use import (
    calendar_users,
    delete_unused_calendar,
    remove_calendar_hours,
    set_calendar_week,
)


@role_required("manager")
def calendars():
    session = get_session()
    form = CalendarForm(data={"time_zone": org_zone()})
    done, error = save_form(
        form,
        lambda: editing.create_calendar(session, form.name.data, form.time_zone.data, by=me()),
        lambda cal: f"Calendar {cal.name} added: now give it its hours.",
        lambda cal: url_for("settings.calendar", calendar_id=cal.id),
    )
    if done:
        return done
    rows = [
        (cal, editing.week_summary(cal.hours), calendar_users(session, cal))
        for cal in editing.list_calendars(session)
    ]
    return render_template("settings/calendars.html", rows=rows, form=form, error=error), status(
        form, error
    )


def _page(calendar: BusinessCalendar, *, error: str | None = None, **forms):
    """The calendar's page, with any submitted form (and its errors) in place."""
    summary = editing.week_summary(calendar.hours)
    if "week_form" not in forms:
        forms["week_form"] = WeekForm(formdata=None)
        forms["week_form"].fill(summary)
    forms.setdefault(
        "calendar_form",
        CalendarForm(formdata=None, data={"name": calendar.name, "time_zone": calendar.time_zone}),
    )
    forms.setdefault("holiday_form", CalendarHolidayForm(formdata=None, prefix="holiday"))
    submitted = [f for f in forms.values() if f.errors]
    return render_template(
        "settings/calendar.html",
        calendar=calendar,
        summary=summary,
        preview=summary.line,
        uses=calendar_users(get_session(), calendar),
        holiday_text=editing.holiday_text,
        interval_text=editing.interval_text,
        format_minutes=editing.format_minutes,
        error=error,
        **forms,
    ), (422 if error or submitted else 200)


@role_required("manager")
def calendar(calendar_id: int):
    cal = load_or_404(BusinessCalendar, calendar_id)
    form = CalendarForm()
    done, error = save_form(
        form,
        lambda: editing.update_calendar(
            get_session(), cal, form.name.data, form.time_zone.data, by=me()
        ),
        lambda _: f"Calendar {cal.name} saved.",
        url_for("settings.calendar", calendar_id=cal.id),
    )
    if done:
        return done
    if not form.is_submitted():
        return _page(cal)
    return _page(cal, calendar_form=form, error=error)


@role_required("manager")
def calendar_week(calendar_id: int):
    cal = load_or_404(BusinessCalendar, calendar_id)
    form = WeekForm()
    done, error = save_form(
        form,
        lambda: set_calendar_week(get_session(), cal, form.texts(), by=me()),
        lambda week: f"Hours saved: {week.line}.",
        url_for("settings.calendar", calendar_id=cal.id),
    )
    return done or _page(cal, week_form=form, error=error)


@role_required("manager")
def calendar_week_preview(calendar_id: int):
    """The typed week's total or its first problem; nothing is saved."""
    load_or_404(BusinessCalendar, calendar_id)
    form = WeekForm()
    problem = None
    if form.validate_on_submit():
        try:
            summary = editing.week_summary(editing.parse_week(form.texts()))
        except Invalid as err:
            problem = err.message
    else:
        problem = next(iter(e for errs in form.errors.values() for e in errs), "Check the hours.")
    text = problem or summary.line
    return render_template("settings/_week_preview.html", preview=text, problem=bool(problem))


@role_required("manager")
def calendar_hours_remove(calendar_id: int, hours_id: int):
    cal = load_or_404(BusinessCalendar, calendar_id)
    check_action_form()
    try:
        remove_calendar_hours(get_session(), cal, hours_id, by=me())
    except PortalError as err:
        rollback_request_session()
        flash(err.message, "error")
        return redirect(url_for("settings.calendar", calendar_id=cal.id))
    commit()
    flash(f"Interval removed: {editing.week_summary(cal.hours).line}.", "success")
    return redirect(url_for("settings.calendar", calendar_id=cal.id))


@role_required("manager")
def calendar_holidays(calendar_id: int):
    cal = load_or_404(BusinessCalendar, calendar_id)
    form = CalendarHolidayForm(prefix="holiday")
    if form.validate_on_submit() and (minutes := form.minutes()):
        try:
            holiday = editing.add_holiday(
                get_session(),
                cal,
                form.day.data,
                form.name.data,
                start_minute=minutes[0],
                end_minute=minutes[1],
                by=me(),
            )
        except PortalError as err:
            return _page(cal, holiday_form=form, error=refuse(form, err))
        commit()
        flash(f"{holiday.name} added to {cal.name}.", "success")
        return redirect(url_for("settings.calendar", calendar_id=cal.id) + "#holidays-h")
    return _page(cal, holiday_form=form)


@role_required("manager")
def calendar_holiday_remove(calendar_id: int, calendar_holiday_id: int):
    cal = load_or_404(BusinessCalendar, calendar_id)
    check_action_form()
    editing.remove_holiday(get_session(), cal, calendar_holiday_id, by=me())
    commit()
    flash("Holiday removed.", "success")
    return redirect(url_for("settings.calendar", calendar_id=cal.id) + "#holidays-h")


@role_required("manager")
def calendar_delete(calendar_id: int):
    cal = load_or_404(BusinessCalendar, calendar_id)
    check_action_form()
    try:
        delete_unused_calendar(get_session(), cal, by=me())
    except PortalError as err:
        rollback_request_session()
        flash(err.message, "error")
        return redirect(url_for("settings.calendar", calendar_id=cal.id))
    commit()
    flash(f"Calendar {cal.name} deleted.", "success")
    return redirect(url_for("settings.calendars"))


def register(bp: Blueprint) -> None:
    """Business-hours calendars."""
    bp.add_url_rule("/calendars", view_func=calendars, methods=["GET", "POST"])
    base = "/calendars/<int:calendar_id>"
    bp.add_url_rule(base, view_func=calendar, methods=["GET", "POST"])
    bp.add_url_rule(f"{base}/week", view_func=calendar_week, methods=["POST"])
    bp.add_url_rule(f"{base}/week/preview", view_func=calendar_week_preview, methods=["POST"])
    bp.add_url_rule(
        f"{base}/hours/<int:hours_id>/remove", view_func=calendar_hours_remove, methods=["POST"]
    )
    bp.add_url_rule(f"{base}/holidays", view_func=calendar_holidays, methods=["POST"])
    bp.add_url_rule(
        f"{base}/holidays/<int:calendar_holiday_id>/remove",
        view_func=calendar_holiday_remove,
        methods=["POST"],
    )
    bp.add_url_rule(f"{base}/delete", view_func=calendar_delete, methods=["POST"])
