"""Rules, for managers: the list, a rule's page (what it does in words, its parameters,
enable or disable), its simulation over today's records, its firings, and the e-mail
templates rules send."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SelectChoice

from portal.access import role_required
from portal.db import commit, get_session
from portal.errors import PortalError
from portal.rules import services as rules
from portal.rules.builtin import builtin_missing, ensure_builtin
from portal.rules.engine import disable_rule, enable_rule, simulate
from portal.rules.models import Rule
from portal.settings.forms import ActionForm
from portal.settings.helpers import check_action_form, load_or_404, page_arg, refuse, save_form
from portal.settings.rule_forms import RuleForm, TemplateForm


@role_required("manager")
def rules_page():
    session = get_session()
    return render_template(
        "settings/rules.html",
        rows=rules.list_rules(session),
        missing=builtin_missing(session),
        templates=rules.template_choices(session),
        action_form=ActionForm(),
    )


@role_required("manager")
def rules_builtin():
    check_action_form()
    ensure_builtin(get_session())
    commit()
    flash("The built-in rules are set up.", "success")
    return redirect(url_for("settings.rules"))


def _rule_form(session, rule: Rule, **kwargs) -> RuleForm:
    values = rules.editable(rule)
    form = RuleForm(**kwargs)
    form.keep_only(values)
    if "owner_queue" in form._fields:
        form.owner_queue.choices = [SelectChoice(s, n) for s, n in rules.queue_choices(session)]
    if "assignee" in form._fields:
        form.assignee.choices = [SelectChoice(v, n) for v, n in rules.assignee_choices(session)]
    if "template" in form._fields:
        form.template.choices = [SelectChoice(s, n) for s, n in rules.template_choices(session)]
    return form


def _rule_page(rule: Rule, form: RuleForm | None = None, error: str | None = None):
    session = get_session()
    values = rules.editable(rule)
    form = form or _rule_form(
        session,
        rule,
        formdata=None,
        data={k: "" if v is None else str(v) for k, v in values.items()},
    )
    page = render_template(
        "settings/rule.html",
        rule=rule,
        trigger=rules.trigger_words(rule),
        actions=rules.action_words(rule),
        form=form,
        action_form=ActionForm(),
        error=error,
    )
    return page, 422 if error or form.errors else 200


@role_required("manager")
def rule(rule_id: int):
    """The rule's page; a POST saves its parameters."""
    session = get_session()
    found = load_or_404(Rule, rule_id)
    form = _rule_form(session, found)
    if not form.is_submitted():
        return _rule_page(found)
    done, error = save_form(
        form,
        lambda: rules.update_rule(session, found, form.changes(), current_user),
        f"The rule '{found.name}' is saved.",
        url_for("settings.rule", rule_id=found.id),
    )
    if done:
        return done
    session.refresh(found)
    return _rule_page(found, form=form, error=error)


@role_required("manager")
def rule_simulate(rule_id: int):
    """What the rule would fire now, writing nothing."""
    session = get_session()
    found = load_or_404(Rule, rule_id)
    return render_template(
        "settings/rule_simulation.html",
        rule=found,
        trigger=rules.trigger_words(found),
        actions=rules.action_words(found),
        simulation=simulate(session, found),
        action_form=ActionForm(),
    )


@role_required("manager")
def rule_enable(rule_id: int):
    session = get_session()
    found = load_or_404(Rule, rule_id)
    form = check_action_form()
    try:
        applied = enable_rule(session, found, current_user)
    except PortalError as err:
        return _rule_page(found, error=refuse(form, err))
    commit()
    count = applied.firing
    flash(
        f"The rule '{found.name}' is enabled; it fired {count} time{'' if count == 1 else 's'} "
        "on the records as they stand.",
        "success",
    )
    return redirect(url_for("settings.rule", rule_id=found.id))


@role_required("manager")
def rule_disable(rule_id: int):
    session = get_session()
    found = load_or_404(Rule, rule_id)
    form = check_action_form()
    try:
        disable_rule(session, found, current_user)
    except PortalError as err:
        return _rule_page(found, error=refuse(form, err))
    commit()
    flash(f"The rule '{found.name}' is disabled: it fires nothing until enabled.", "success")
    return redirect(url_for("settings.rule", rule_id=found.id))


@role_required("manager")
def rule_firings(rule_id: int):
    session = get_session()
    found = load_or_404(Rule, rule_id)
    return render_template(
        "settings/rule_firings.html",
        rule=found,
        page=rules.firings_page(session, found, page_arg()),
    )


@role_required("manager")
def rule_template(slug: str):
    """An e-mail template rules send; a POST saves its subject and body."""
    session = get_session()
    template = rules.template_by_slug(session, slug) or abort(404)
    form = TemplateForm(data={"subject": template.subject, "body": template.body})
    done, error = save_form(
        form,
        lambda: rules.update_template(
            session,
            template,
            subject=form.subject.data,
            body=form.body.data,
            by=current_user,
        ),
        f"The e-mail template '{template.name}' is saved.",
        url_for("settings.rule_template", slug=slug),
    )
    if done:
        return done
    page = render_template(
        "settings/rule_template.html",
        template=template,
        form=form,
        placeholders=rules.placeholders(),
        error=error,
    )
    return page, 422 if error or form.errors else 200


def register(bp: Blueprint) -> None:
    """Rules: list, set up the built-in ones, a rule's page, simulate, enable, disable,
    firings; e-mail templates."""
    bp.add_url_rule("/rules", endpoint="rules", view_func=rules_page)
    bp.add_url_rule("/rules/builtin", view_func=rules_builtin, methods=["POST"])
    bp.add_url_rule("/rules/<int:rule_id>", view_func=rule, methods=["GET", "POST"])
    bp.add_url_rule("/rules/<int:rule_id>/simulate", view_func=rule_simulate)
    bp.add_url_rule("/rules/<int:rule_id>/enable", view_func=rule_enable, methods=["POST"])
    bp.add_url_rule("/rules/<int:rule_id>/disable", view_func=rule_disable, methods=["POST"])
    bp.add_url_rule("/rules/<int:rule_id>/firings", view_func=rule_firings)
    bp.add_url_rule("/rules/templates/<slug>", view_func=rule_template, methods=["GET", "POST"])
