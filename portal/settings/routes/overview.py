"""Settings for managers and admins: the overview, services and the booking policy.

The other sections live beside this module (agents, skills/territories/holidays, staff
users, webhooks, the scheduler's disruptions page, the audit log); the package's
`__init__` registers each of them on the settings blueprint.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, url_for

from portal.access import role_required
from portal.booking.models import Appointment, Service
from portal.booking.windows import get_policy
from portal.db import get_session
from portal.settings import services as svc
from portal.settings.forms import PolicyForm, ServiceForm, id_choices
from portal.settings.helpers import load_or_404, me, page_arg, save_form, status


@role_required("manager")
def index():
    waiting = get_session().scalar(
        sa.select(sa.func.count()).where(Appointment.status == "needs_reschedule")
    )
    return render_template("settings/index.html", waiting=waiting)


# --- services ----------------------------------------------------------------------------


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


@role_required("manager")
def service_new():
    form = _service_form()
    done, error = save_form(
        form,
        lambda: svc.create_service(get_session(), _service_data(form), by=me()),
        lambda service: f"{service.name} was added.",
        url_for("settings.services"),
    )
    if done:
        return done
    return render_template(
        "settings/service_form.html", form=form, service=None, error=error
    ), status(form, error)


@role_required("manager")
def service_edit(service_id: int):
    service = load_or_404(Service, service_id)
    form = _service_form(service)
    done, error = save_form(
        form,
        lambda: svc.update_service(get_session(), service, _service_data(form), by=me()),
        lambda _: f"{service.name} was saved; the windows offered follow at once.",
        url_for("settings.services"),
    )
    if done:
        return done
    return render_template(
        "settings/service_form.html", form=form, service=service, error=error
    ), status(form, error)


# --- the booking policy ------------------------------------------------------------------


@role_required("manager")
def policy():
    form = PolicyForm(obj=get_policy(get_session()))
    done, error = save_form(
        form,
        lambda: svc.update_policy(get_session(), svc.PolicyData(**_policy_values(form)), by=me()),
        "The booking policy was saved.",
        url_for("settings.policy"),
    )
    if done:
        return done
    return render_template("settings/policy.html", form=form, error=error), status(form, error)


def _policy_values(form: PolicyForm) -> dict[str, int]:
    return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}


def register(bp: Blueprint) -> None:
    """The overview, services and the booking policy."""
    bp.add_url_rule("/", view_func=index)
    bp.add_url_rule("/services", view_func=services)
    bp.add_url_rule("/services/new", view_func=service_new, methods=["GET", "POST"])
    bp.add_url_rule("/services/<int:service_id>", view_func=service_edit, methods=["GET", "POST"])
    bp.add_url_rule("/policy", view_func=policy, methods=["GET", "POST"])
