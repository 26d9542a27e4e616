"""Agents: the filtered list, and one page per agent with a form per action (skills and
territories, weekly hours, time off, on or off). A change that breaks bookings says how
many went back to the scheduler."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from portal.access import role_required
from portal.booking.models import Appointment, AppointmentHold
from portal.booking.states import PENDING_STATES
from portal.db import commit, get_session
from portal.dispatch.disruptions import disruption_message
from portal.errors import PortalError
from portal.settings import services as svc
from portal.settings.forms import (
    ActionForm,
    AgentFilterForm,
    HoursForm,
    TimeOffForm,
    agent_profile_form,
    id_choices,
)
from portal.settings.helpers import (
    check_action_form,
    given,
    int_arg,
    load_or_404,
    me,
    page_arg,
    refuse,
)
from portal.timeutil import now_utc
from portal.workforce import services as staff
from portal.workforce.models import Agent, TimeOff


@role_required("manager")
def agents():
    session = get_session()
    form = AgentFilterForm(request.args)
    form.territory.choices = id_choices(svc.all_territories(session), "Any territory")
    form.skill.choices = id_choices(svc.all_skills(session), "Any skill")
    territory_id, skill_id = int_arg("territory"), int_arg("skill")
    page = svc.list_agents(session, territory_id=territory_id, skill_id=skill_id, page=page_arg())
    args = given(territory=territory_id, skill=skill_id)
    return render_template(
        "settings/agents.html",
        page=page,
        form=form,
        args=args,
        summarise_hours=svc.summarise_hours,
    )


def _agent(agent_id: int) -> Agent:
    return load_or_404(Agent, agent_id)


def _profile_form(agent: Agent, **kwargs):
    session = get_session()
    return agent_profile_form(
        svc.all_skills(session), svc.all_territories(session), agent, **kwargs
    )


def _agent_page(agent: Agent, *, error: str | None = None, **forms):
    """The agent's page, with `forms` (the one just submitted) in place of fresh ones."""
    session, now = get_session(), now_utc()
    hours = forms.get("hours_form")
    if hours is None:
        hours = HoursForm(formdata=None)
        hours.fill(agent)
    time_off = session.scalars(
        sa.select(TimeOff)
        .where(TimeOff.agent_id == agent.id, TimeOff.ends_at > now)
        .order_by(TimeOff.starts_at)
    ).all()
    upcoming = session.scalar(
        sa.select(sa.func.count())
        .select_from(AppointmentHold)
        .join(Appointment, AppointmentHold.appointment_id == Appointment.id)
        .where(
            AppointmentHold.agent_id == agent.id,
            Appointment.status.in_(PENDING_STATES),
            Appointment.planned_start > now,
        )
    )
    submitted = bool(forms) and (error or any(f.errors for f in forms.values()))
    return render_template(
        "settings/agent.html",
        agent=agent,
        profile_form=forms.get("profile_form") or _profile_form(agent, formdata=None),
        hours_form=hours,
        time_off_form=forms.get("time_off_form") or TimeOffForm(formdata=None),
        action_form=ActionForm(),
        time_off=time_off,
        upcoming=upcoming,
        error=error,
    ), (422 if submitted else 200)


@role_required("manager")
def agent(agent_id: int):
    return _agent_page(_agent(agent_id))


def _done(agent: Agent, message: str, parked=None):
    commit()
    flash(message, "success")
    if parked is not None:
        flash(disruption_message(parked), "info" if parked else "success")
    return redirect(url_for("settings.agent", agent_id=agent.id))


@role_required("manager")
def agent_profile(agent_id: int):
    agent = _agent(agent_id)
    form, error = _profile_form(agent), None
    if form.validate_on_submit():
        try:
            staff.update_agent_skills(
                get_session(),
                agent,
                skills=form.chosen_skills(),
                territories=form.chosen_territories(),
                by=me(),
            )
        except PortalError as err:
            error = refuse(form, err)
        else:
            return _done(agent, "Skills and territories saved.")
    return _agent_page(agent, profile_form=form, error=error or _form_error(form))


@role_required("manager")
def agent_hours(agent_id: int):
    agent = _agent(agent_id)
    form, error = HoursForm(), None
    if form.validate_on_submit():
        try:
            parked = staff.update_weekly_hours(
                get_session(), agent, form.rules(), me(), time_zone=form.time_zone.data
            )
        except PortalError as err:
            error = refuse(form, err)
        else:
            return _done(agent, "Working hours saved.", parked)
    return _agent_page(agent, hours_form=form, error=error or _form_error(form))


@role_required("manager")
def agent_time_off(agent_id: int):
    agent = _agent(agent_id)
    form, error = TimeOffForm(), None
    if form.validate_on_submit():
        zone = ZoneInfo(agent.time_zone)
        try:
            added = staff.take_time_off(
                get_session(),
                agent,
                form.starts_at.data.replace(tzinfo=zone),
                form.ends_at.data.replace(tzinfo=zone),
                reason=form.reason.data or "",
                by=me(),
            )
        except PortalError as err:
            error = refuse(form, err)
        else:
            return _done(agent, "Time off added.", added.parked)
    return _agent_page(agent, time_off_form=form, error=error or _form_error(form))


@role_required("manager")
def agent_time_off_remove(agent_id: int, entry_id: int):
    agent = _agent(agent_id)
    entry = get_session().get(TimeOff, entry_id)
    if entry is None or entry.agent_id != agent.id:
        abort(404)
    check_action_form()
    staff.remove_time_off(get_session(), entry, by=me())
    return _done(agent, "Time off removed; the agent can be booked then again.")


@role_required("manager")
def agent_active(agent_id: int, action: str):
    agent = _agent(agent_id)
    check_action_form()
    active = action == "activate"
    parked = staff.set_agent_active(get_session(), agent, active, me())
    if active:
        return _done(agent, f"{agent.name} can be booked again.")
    return _done(agent, f"{agent.name} can no longer be booked.", parked)


def _form_error(form) -> str | None:
    """A short summary above the page when the submitted form was refused."""
    return "Please correct the marked fields." if form.errors else None


def register(bp: Blueprint) -> None:
    """The agents' list and each agent's page with its actions."""
    bp.add_url_rule("/agents", view_func=agents)
    bp.add_url_rule("/agents/<int:agent_id>", view_func=agent)
    bp.add_url_rule("/agents/<int:agent_id>/profile", view_func=agent_profile, methods=["POST"])
    bp.add_url_rule("/agents/<int:agent_id>/hours", view_func=agent_hours, methods=["POST"])
    bp.add_url_rule("/agents/<int:agent_id>/time-off", view_func=agent_time_off, methods=["POST"])
    bp.add_url_rule(
        "/agents/<int:agent_id>/time-off/<int:entry_id>/remove",
        view_func=agent_time_off_remove,
        methods=["POST"],
    )
    bp.add_url_rule(
        "/agents/<int:agent_id>/<any(activate, deactivate):action>",
        view_func=agent_active,
        methods=["POST"],
    )
