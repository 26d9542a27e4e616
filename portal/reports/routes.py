"""The reports pages (managers and admins): ask for a report, watch it being made,
download it, and choose which reports arrive by e-mail every Monday."""

from __future__ import annotations

from urllib.parse import quote

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.routing import BuildError
from wtforms import SelectChoice

from portal.access import role_required, team_required
from portal.accounts.models import User
from portal.booking.models import Service
from portal.db import commit, get_session
from portal.errors import NotFound, PortalError
from portal.extensions import htmx
from portal.formatting import org_zone
from portal.pagination import page_arg
from portal.reports import render
from portal.reports import services as svc
from portal.reports.figures import ReportParams
from portal.reports.forms import KINDS, ReportForm, SubscriptionForm
from portal.reports.models import REPORT_KINDS
from portal.reports.sla_panel import SlaPanel, sla_panel
from portal.settings.helpers import me, refuse
from portal.timeutil import now_utc, to_local
from portal.workforce.models import Agent

bp = Blueprint("reports", __name__)


def _form() -> ReportForm:
    session = get_session()
    form = ReportForm()
    services = session.scalars(sa.select(Service).order_by(Service.name))
    form.service_id.choices = [SelectChoice("", "All services")] + [
        SelectChoice(s.id, s.name) for s in services
    ]
    agents = session.execute(
        sa.select(Agent.id, User.full_name)
        .join(User, User.id == Agent.user_id)
        .order_by(User.full_name)
    )
    form.agent_id.choices = [SelectChoice("", "All agents")] + [
        SelectChoice(a.id, a.full_name) for a in agents
    ]
    if not form.is_submitted():
        today = to_local(now_utc(), org_zone()).date()
        form.date_from.data = today.replace(day=1)
        form.date_to.data = today
        form.kind.data = "operations"
    return form


def _page(form: ReportForm, error: str | None = None, code: int = 200):
    session = get_session()
    runs = svc.list_runs(session, me(), page_arg(request.args.get("page")))
    return (
        render_template(
            "reports/index.html",
            form=form,
            runs=runs,
            error=error,
            subscribed=svc.subscribed_kinds(session, me()),
            kinds=KINDS,
            titles=render.TITLES,
            inline_days=svc.INLINE_MAX_DAYS,
            keep_days=svc.KEEP_FOR.days,
            zone=org_zone(),
        ),
        code,
    )


@bp.get("/")
@role_required("manager")
def index():
    return _page(_form())


@bp.post("/")
@role_required("manager")
def create():
    form = _form()
    if not form.validate():
        return _page(form, code=422)
    params = ReportParams(
        kind=form.kind.data,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        zone=org_zone(),
        service_id=form.service_id.data,
        agent_id=form.agent_id.data,
    )
    try:
        run = svc.request_report(get_session(), me(), params, form.fmt.data)
    except PortalError as error:
        return _page(form, refuse(form, error), code=error.status)
    commit()
    # The run's page says whether it is ready or how far it has got.
    return redirect(url_for("reports.run", run_id=run.id))


@bp.get("/runs/<int:run_id>")
@role_required("manager")
def run(run_id: int):
    try:
        report_run = svc.get_run(get_session(), me(), run_id)
    except NotFound:
        abort(404)
    template = "reports/_progress.html" if htmx else "reports/run.html"
    return render_template(
        template, run=report_run, now=now_utc(), title=render.TITLES[report_run.kind]
    )


@bp.get("/runs/<int:run_id>/download")
@role_required("manager")
def download(run_id: int):
    try:
        report_run = svc.download(get_session(), me(), run_id, now_utc())
    except NotFound:
        abort(404)
    response = Response(report_run.content, mimetype=svc.MIME[report_run.fmt])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{report_run.file_name}"; '
        f"filename*=UTF-8''{quote(report_run.file_name)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/subscriptions")
@role_required("manager")
def subscription():
    form = SubscriptionForm()
    kind = request.form.get("kind", "")
    wanted = request.form.get("wanted") == "1"
    if not form.validate() or kind not in REPORT_KINDS:
        abort(400)
    svc.set_subscription(get_session(), me(), kind, wanted)
    commit()
    label = KINDS[kind][0]
    if wanted:
        flash(f"{label} will be e-mailed to you every Monday for the week before.", "success")
    else:
        flash(f"{label} will no longer be e-mailed to you.", "success")
    return redirect(url_for("reports.index"))


# --- the live SLA panel on "My tasks" ------------------------------------------------------------


@bp.get("/sla-panel")
@team_required
def sla_panel_fragment():
    """The panel alone, for htmx's refresh every 30 s; 204 (nothing to swap) for a team
    user who leads no queue and is not a manager."""
    panel = sla_panel(get_session(), me(), now_utc())
    if panel is None:
        return "", 204
    return render_template("staff/_sla_panel.html", panel=panel)


def panel_for_viewer() -> SlaPanel | None:
    """The logged-in team user's panel, or None (the home page includes the panel with it)."""
    if not (current_user and getattr(current_user, "is_authenticated", False)):
        return None
    if not current_user.is_team:
        return None
    return sla_panel(get_session(), me(), now_utc())


def case_link(case_id: int | None) -> str | None:
    """The case page's address, or None while there is no case page to link to."""
    if case_id is None:
        return None
    try:
        return url_for("cases.case_page", case_id=case_id)
    except BuildError:
        return None


@bp.app_context_processor
def _sla_panel_helpers():
    return {"sla_panel_for_viewer": panel_for_viewer, "sla_case_link": case_link}
