"""Entitlement processes: the list in the order the rules try them, a page to create one,
and one page per process with a form per action (the process, each milestone's targets,
each milestone's actions). Milestone forms carry a prefix (m<id>-) so that several on one
page keep distinct field ids; a refused form comes back in place with its message (422).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from portal.access import role_required
from portal.calendars.editing import format_minutes, list_calendars
from portal.cases.models import PRIORITIES, CaseType
from portal.db import commit, get_session
from portal.errors import PortalError
from portal.extensions import htmx
from portal.queues.models import Queue
from portal.settings.helpers import check_action_form, load_or_404, me, refuse, status
from portal.settings.sla_forms import (
    MilestoneForm,
    ProcessForm,
    action_form,
    preview_form,
    process_form,
)
from portal.sla import settings as sla
from portal.sla.models import EntitlementProcess, MilestoneAction, MilestoneDefinition
from portal.sla.preview import preview_process
from portal.timeutil import now_utc


def _choices(session):
    case_types = session.scalars(sa.select(CaseType).order_by(CaseType.name)).all()
    queues = session.scalars(sa.select(Queue).order_by(Queue.name)).all()
    return list_calendars(session), case_types, queues


def _process_form(**kwargs) -> ProcessForm:
    return process_form(*_choices(get_session()), **kwargs)


def _data(form: ProcessForm) -> sla.ProcessData:
    return sla.ProcessData(
        name=form.name.data,
        applies_to=form.applies_to.data,
        rank=form.rank.data,
        active=form.active.data,
        calendar_id=form.calendar_id.data,
        case_type_id=form.case_type_id.data,
        priority=form.priority.data,
        account_id=form.account_id.data,
        queue_id=form.queue_id.data,
    )


@role_required("manager")
def entitlements():
    session = get_session()
    _calendars, case_types, queues = _choices(session)
    form = preview_form(case_types, queues, request.args if "priority" in request.args else None)
    preview = None
    if "priority" in request.args and form.validate():
        preview = preview_process(
            session,
            applies_to=form.applies_to.data,
            case_type_id=form.case_type_id.data,
            priority=form.priority.data,
            account_id=form.account_id.data,
            queue_id=form.queue_id.data,
            at=now_utc(),
        )
    if htmx and htmx.target == "process-preview":
        return render_template("settings/_process_preview.html", form=form, preview=preview)
    names = sla.choice_names(session)
    rows = [(p, sla.conditions_text(p, names)) for p in sla.list_processes(session)]
    return render_template(
        "settings/entitlements.html",
        rows=rows,
        names=names,
        labels=sla.APPLIES_LABELS,
        kind_labels=sla.KIND_LABELS,
        targets_text=sla.targets_text,
        form=form,
        preview=preview,
    )


@role_required("manager")
def entitlement_new():
    form = _process_form()
    error = None
    if form.validate_on_submit():
        try:
            process = sla.create_process(get_session(), _data(form), by=me())
        except PortalError as err:
            error = refuse(form, err)
        else:
            commit()
            flash(f"Process {process.name} added: now give it its milestones.", "success")
            return redirect(url_for("settings.entitlement", process_id=process.id))
    return render_template("settings/entitlement_new.html", form=form, error=error), status(
        form, error
    )


# --- one process -------------------------------------------------------------------------


def _milestone_form(definition: MilestoneDefinition | None, **kwargs) -> MilestoneForm:
    if definition is None:
        return MilestoneForm(prefix="new", **kwargs)
    data = {
        "kind": definition.kind,
        "name": definition.name,
        "warn_percent": definition.warn_percent,
        **{f"target_{p}": format_minutes(definition.target_for(p)) for p in PRIORITIES},
    }
    return MilestoneForm(prefix=f"m{definition.id}", data=data, **kwargs)


def _action_form(process: EntitlementProcess, definition_id: int, **kwargs):
    statuses = sla.status_names(get_session(), process)
    return action_form(PRIORITIES, statuses, prefix=f"a{definition_id}", **kwargs)


def _page(process: EntitlementProcess, *, error: str | None = None, submitted=None):
    """The process page; `submitted` (a form, keyed as below) replaces its blank twin."""
    session = get_session()
    forms = {"process": None, "new": None}
    forms.update(
        {f"m{d.id}": None for d in process.definitions}
        | {f"a{d.id}": None for d in process.definitions}
    )
    if submitted is not None:
        forms[submitted[0]] = submitted[1]
    if forms["process"] is None:
        forms["process"] = _process_form(formdata=None, obj=process)
    free = [k for k in sla.KIND_LABELS if k not in {d.kind for d in process.definitions}]
    if forms["new"] is None:
        forms["new"] = _milestone_form(None, formdata=None, data={"kind": free[0]} if free else {})
    # Offer only the kinds the process lacks (a taken one was refused with a message).
    forms["new"].kind.choices = [c for c in forms["new"].kind.choices if c.value in free]
    for d in process.definitions:
        forms[f"m{d.id}"] = forms[f"m{d.id}"] or _milestone_form(d, formdata=None)
        forms[f"a{d.id}"] = forms[f"a{d.id}"] or _action_form(process, d.id, formdata=None)
    refused = error or any(f.errors for f in forms.values())
    return render_template(
        "settings/entitlement.html",
        process=process,
        forms=forms,
        error=error,
        running=sla.running_milestones(session, process),
        kind_labels=sla.KIND_LABELS,
        labels=sla.APPLIES_LABELS,
        action_text=sla.action_text,
        targets_text=sla.targets_text,
        conditions=sla.conditions_text(process, sla.choice_names(session)),
    ), (422 if refused else 200)


def _process(process_id: int) -> EntitlementProcess:
    return load_or_404(EntitlementProcess, process_id)


def _definition(process: EntitlementProcess, definition_id: int) -> MilestoneDefinition:
    definition = load_or_404(MilestoneDefinition, definition_id)
    if definition.process_id != process.id:
        abort(404)  # another process's milestone
    return definition


@role_required("manager")
def entitlement(process_id: int):
    process = _process(process_id)
    form = _process_form()
    if not form.is_submitted():
        return _page(process)
    error = None
    if form.validate_on_submit():
        try:
            sla.update_process(get_session(), process, _data(form), by=me())
        except PortalError as err:
            error = refuse(form, err)
        else:
            commit()
            flash(f"Process {process.name} saved.", "success")
            return redirect(url_for("settings.entitlement", process_id=process.id))
    return _page(process, error=error, submitted=("process", form))


@role_required("manager")
def entitlement_delete(process_id: int):
    process = _process(process_id)
    check_action_form()
    sla.delete_process(get_session(), process, by=me())
    commit()
    flash(f"Process {process.name} deleted.", "success")
    return redirect(url_for("settings.entitlements"))


def _milestone_values(form: MilestoneForm) -> sla.MilestoneData:
    """The form's targets read as minutes; Invalid names the field that cannot be read."""
    targets = {
        f"target_{p}": sla.parse_minutes(
            getattr(form, f"target_{p}").data, f"the {p} target", field=f"target_{p}"
        )
        for p in PRIORITIES
    }
    return sla.MilestoneData(
        kind=form.kind.data, name=form.name.data, warn_percent=form.warn_percent.data, **targets
    )


def _save_milestone(process, form, key, save, said):
    error = None
    if form.validate_on_submit():
        try:
            saved = save(_milestone_values(form))
        except PortalError as err:
            error = refuse(form, err)
        else:
            commit()
            flash(said(saved), "success")
            return redirect(url_for("settings.entitlement", process_id=process.id))
    return _page(process, error=error, submitted=(key, form))


@role_required("manager")
def milestone_add(process_id: int):
    process = _process(process_id)
    form = _milestone_form(None)
    return _save_milestone(
        process,
        form,
        "new",
        lambda data: sla.add_milestone(get_session(), process, data, by=me()),
        lambda d: f"Milestone {d.name} added.",
    )


@role_required("manager")
def milestone_edit(process_id: int, definition_id: int):
    process = _process(process_id)
    definition = _definition(process, definition_id)
    form = MilestoneForm(prefix=f"m{definition.id}")
    return _save_milestone(
        process,
        form,
        f"m{definition.id}",
        lambda data: sla.update_milestone(get_session(), definition, data, by=me()),
        lambda d: f"Milestone {d.name} saved: new targets apply to clocks started from now.",
    )


@role_required("manager")
def milestone_remove(process_id: int, definition_id: int):
    process = _process(process_id)
    definition = _definition(process, definition_id)
    check_action_form()
    sla.remove_milestone(get_session(), definition, by=me())
    commit()
    flash(f"Milestone {definition.name} removed.", "success")
    return redirect(url_for("settings.entitlement", process_id=process.id))


@role_required("manager")
def milestone_action_add(process_id: int, definition_id: int):
    process = _process(process_id)
    definition = _definition(process, definition_id)
    form = _action_form(process, definition.id)
    error = None
    if form.validate_on_submit():
        try:
            run = sla.add_action(
                get_session(),
                definition,
                trigger=form.trigger.data,
                action=form.action.data,
                value=form.value.data or "",
                outside_hours=form.outside_hours.data,
                by=me(),
            )
        except PortalError as err:
            error = refuse(form, err)
        else:
            commit()
            flash(f"{definition.name}: {sla.action_text(run)}.", "success")
            return redirect(url_for("settings.entitlement", process_id=process.id))
    return _page(process, error=error, submitted=(f"a{definition.id}", form))


@role_required("manager")
def milestone_action_remove(process_id: int, action_id: int):
    process = _process(process_id)
    action = load_or_404(MilestoneAction, action_id)
    if action.definition.process_id != process.id:
        abort(404)
    check_action_form()
    sla.remove_action(get_session(), action, by=me())
    commit()
    flash("Action removed.", "success")
    return redirect(url_for("settings.entitlement", process_id=process.id))


def register(bp: Blueprint) -> None:
    """Entitlement processes, their milestones and actions."""
    bp.add_url_rule("/entitlements", view_func=entitlements)
    bp.add_url_rule("/entitlements/new", view_func=entitlement_new, methods=["GET", "POST"])
    base = "/entitlements/<int:process_id>"
    bp.add_url_rule(base, view_func=entitlement, methods=["GET", "POST"])
    bp.add_url_rule(f"{base}/delete", view_func=entitlement_delete, methods=["POST"])
    bp.add_url_rule(f"{base}/milestones", view_func=milestone_add, methods=["POST"])
    milestone = f"{base}/milestones/<int:definition_id>"
    bp.add_url_rule(milestone, view_func=milestone_edit, methods=["POST"])
    bp.add_url_rule(f"{milestone}/remove", view_func=milestone_remove, methods=["POST"])
    bp.add_url_rule(f"{milestone}/actions", view_func=milestone_action_add, methods=["POST"])
    bp.add_url_rule(
        f"{base}/actions/<int:action_id>/remove",
        view_func=milestone_action_remove,
        methods=["POST"],
    )
