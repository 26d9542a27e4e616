"""The audit log, for admins: every recorded configuration and permission change, newest
first, filtered by entity type and by who made it. Read only: nothing here (nor anywhere)
changes an entry."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_wtf import FlaskForm
from wtforms import SelectField

from portal.access import role_required
from portal.accounts.models import User
from portal.audit import services as audit
from portal.db import get_session
from portal.ids import coerce_optional_id
from portal.settings.helpers import given, int_arg, page_arg


class AuditFilterForm(FlaskForm):
    """The log's filters: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    type = SelectField("Kind of record")
    actor = SelectField("Changed by", coerce=coerce_optional_id)


def _actor_names(ids) -> dict[int, str]:
    users = get_session().scalars(sa.select(User).where(User.id.in_(set(ids))))
    return {u.id: f"{u.full_name} ({u.role})" for u in users}


@role_required("admin")
def audit_log():
    session = get_session()
    types = audit.entity_types(session)
    actors = _actor_names(audit.actor_ids(session))
    form = AuditFilterForm(request.args)
    form.type.choices = [("", "Any kind")] + [(t, t.replace("_", " ").capitalize()) for t in types]
    form.actor.choices = [("", "Anybody")] + sorted(actors.items(), key=lambda a: a[1])
    entity_type = request.args.get("type") if request.args.get("type") in types else None
    actor_id = int_arg("actor")
    page = audit.list_entries(session, entity_type=entity_type, actor_id=actor_id, page=page_arg())
    args = given(type=entity_type, actor=actor_id)
    return render_template(
        "settings/audit.html",
        page=page,
        form=form,
        args=args,
        actors=actors,
        changed_fields=audit.changed_fields,
    )


def register(bp: Blueprint) -> None:
    """The audit log."""
    bp.add_url_rule("/audit", view_func=audit_log)
