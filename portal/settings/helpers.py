"""Small pieces every settings view shares: the page argument, refusals, the status."""

from __future__ import annotations

from flask import request

from portal import pagination
from portal.db import rollback_request_session
from portal.errors import PortalError, put_on_form
from portal.ids import parse_id


def page_arg() -> int:
    """The ?page= number, 1 for anything missing or malformed."""
    return pagination.page_arg(request.args.get("page"))


def int_arg(name: str) -> int | None:
    """The record id in ?name=, None for anything missing or not an id."""
    return parse_id(request.args.get(name))


def refuse(form, error: PortalError) -> str | None:
    """Undo what the request wrote, then put the refusal on the field it names; a refusal
    that names no field of this form is returned, to be shown above the form."""
    rollback_request_session()
    return put_on_form(form, error)


def status(form, error: str | None = None) -> int:
    """422 when the submitted input was refused, else 200."""
    return 422 if error or form.errors else 200


def me():
    """The logged-in user itself (not the proxy), for services that keep a reference."""
    from flask_login import current_user

    return current_user._get_current_object()
