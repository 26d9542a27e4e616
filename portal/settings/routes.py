"""Settings for managers and admins: the overview, services and the booking policy.

The other sections live beside this module (agents, skills/territories/holidays, staff
users, the scheduler's disruptions page); they are imported at the bottom so the app
factory registers the whole blueprint by importing this one module.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for

from portal.access import role_required
from portal.booking.models import Appointment, Service
from portal.booking.windows import get_policy
from portal.db import commit, get_session
from portal.errors import PortalError
from portal.settings import bp
from portal.settings import services as svc
from portal.settings.forms import PolicyForm, ServiceForm, id_choices
from portal.settings.helpers import me, page_arg, refuse, status


@bp.get("/")
@role_required("manager")
def index():
    waiting = get_session().scalar(
        sa.select(sa.func.count()).where(Appointment.status == "needs_reschedule")
    )
    return render_template("settings/index.html", waiting=waiting)


# --- services ----------------------------------------------------------------------------


@bp.get("/services")
@role_required("manager")
def services():
    page = svc.list_services(get_session(), page=page_arg())
    return render_template("settings/services.html", page=page)


def _service_form(service: Service | None = None) -> ServiceForm:
    form = ServiceForm(obj=service) if service else ServiceForm(data={"active": True})
    form.required_skill_id.choices = id_choices(
        svc.all_skills(get_session()), "No particular skill"
    )
    return form


def _service_data(form: ServiceForm) -> svc.ServiceData:
    return svc.ServiceData(
        name=form.name.data,
        description=form.description.data or "",
        duration_minutes=form.duration_minutes.data,
        buffer_minutes=form.buffer_minutes.data,
        agents_needed=form.agents_needed.data,
        required_skill_id=form.required_skill_id.data,
        active=form.active.data,
    )


@bp.route("/services/new", methods=["GET", "POST"])
@role_required("manager")
def service_new():
    form, error = _service_form(), None
    if form.validate_on_submit():
        try:
            service = svc.create_service(get_session(), _service_data(form), by=me())
        except PortalError as err:
            error = refuse(form, err)
        else:
            commit()
            flash(f"{service.name} was added.", "success")
            return redirect(url_for("settings.services"))
    return render_template(
        "settings/service_form.html", form=form, service=None, error=error
    ), status(form, error)


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@role_required("manager")
def service_edit(service_id: int):
    service = get_session().get(Service, service_id) or abort(404)
    form, error = _service_form(service), None
    if form.validate_on_submit():
        try:
            svc.update_service(get_session(), service, _service_data(form), by=me())
        except PortalError as err:
            error = refuse(form, err)
        else:
            commit()
            flash(f"{service.name} was saved; the windows offered follow at once.", "success")
            return redirect(url_for("settings.services"))
    return render_template(
        "settings/service_form.html", form=form, service=service, error=error
    ), status(form, error)


# --- the booking policy ------------------------------------------------------------------


@bp.route("/policy", methods=["GET", "POST"])
@role_required("manager")
def policy():
    form, error = PolicyForm(obj=get_policy(get_session())), None
    if form.validate_on_submit():
        try:
            svc.update_policy(get_session(), svc.PolicyData(**_policy_values(form)), by=me())
        except PortalError as err:
            error = refuse(form, err)
        else:
            commit()
            flash("The booking policy was saved.", "success")
            return redirect(url_for("settings.policy"))
    return render_template("settings/policy.html", form=form, error=error), status(form, error)


def _policy_values(form: PolicyForm) -> dict[str, int]:
    return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}


# The other sections register their views on the same blueprint.
from portal.settings import (  # noqa: E402, F401
    agent_routes,
    audit_routes,
    catalogue_routes,
    disruption_routes,
    user_routes,
    webhook_routes,
)
