"""Small pieces every settings view shares: the page argument, loading a record, the
recipe for a submitted form (validate, save, commit or refuse, flash, redirect), the
status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, request
from flask_login import current_user
from werkzeug.wrappers import Response

from portal import pagination
from portal.db import commit, get_session, rollback_request_session
from portal.errors import PortalError, put_on_form
from portal.ids import parse_id
from portal.settings.forms import ActionForm


def page_arg() -> int:
    """The ?page= number, 1 for anything missing or malformed."""
    return pagination.page_arg(request.args.get("page"))


def int_arg(name: str) -> int | None:
    """The record id in ?name=, None for anything missing or not an id."""
    return parse_id(request.args.get(name))


def given(**filters) -> dict:
    """The filters in force (those with a value), for the pager's links to keep."""
    return {name: value for name, value in filters.items() if value}


def refuse(form, error: PortalError) -> str | None:
    """Undo what the request wrote, then put the refusal on the field it names; a refusal
    that names no field of this form is returned, to be shown above the form."""
    rollback_request_session()
    return put_on_form(form, error)


def save_form(
    form,
    save: Callable[[], Any],
    done: str | Callable[[Any], str],
    to: str | Callable[[Any], str],
) -> tuple[Response | None, str | None]:
    """The settings recipe for a submitted form: when `form` validates, `save()` writes; a
    refusal is undone and put on the form; a success is committed, `done` flashed and
    answered with a redirect to `to` (either may be a function of what `save` returned).
    Returns the redirect (None: show the form again) and the error to show above it."""
    if not form.validate_on_submit():
        return None, None
    try:
        saved = save()
    except PortalError as err:
        return None, refuse(form, err)
    commit()
    flash(done(saved) if callable(done) else done, "success")
    return redirect(to(saved) if callable(to) else to), None


def load_or_404(model, record_id: int):
    """The record of `model` with that id, or a 404."""
    return get_session().get(model, record_id) or abort(404)


def check_action_form() -> ActionForm:
    """A button's form (only its CSRF token): a request without a valid one is a 400."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    return form


def status(form, error: str | None = None) -> int:
    """422 when the submitted input was refused, else 200."""
    return 422 if error or form.errors else 200


def me():
    """The logged-in user itself (not the proxy), for services that keep a reference."""
    return current_user._get_current_object()
