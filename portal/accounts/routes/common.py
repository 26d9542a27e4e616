"""What the accounts views share: the no-store rule for pages opened from e-mailed links,
the password hint every page may show, same-site `next` targets, the page for a bad
link, and running a service call for a form (commit, or roll back and show why)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from flask import abort, render_template, request
from flask_wtf import FlaskForm

from portal.accounts.forms import PASSWORD_HINT, ActionForm
from portal.accounts.links import LinkInvalid
from portal.db import commit, get_session
from portal.errors import PortalError, put_on_form

T = TypeVar("T")

# Pages opened from an e-mailed link: never kept by a cache, shared or not.
TOKEN_PAGES = frozenset(
    {"accounts.verify", "accounts.reset_password", "accounts.accept_invitation"}
)

# A new password revokes what outlives a session (credentials.revoke_access): say so.
REVOKED_NOTICE = (
    "Your API tokens and calendar links were revoked: make new ones if you still need them."
)


def no_store_for_token_pages(response):
    if request.endpoint in TOKEN_PAGES:
        response.headers["Cache-Control"] = "no-store"
    return response


def account_texts() -> dict:
    return {"password_hint": PASSWORD_HINT}


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect would turn our log-in into a phishing aid."""
    if not target:
        return None
    if "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def link_problem(bad: LinkInvalid, *, again_url: str | None, again_label=None):
    """The page for a forged, expired or used link, with a way to ask for a new one."""
    return (
        render_template(
            "accounts/link_problem.html",
            message=bad.message,
            again_url=again_url,
            again_label=again_label or "Ask for a new link",
        ),
        bad.status,
    )


def checked_button() -> ActionForm:
    """The posted button form, or 400 when its CSRF token does not check out."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    return form


@dataclass(frozen=True)
class Saved(Generic[T]):
    """What a service call for a form came to: `done` with its `result`, or refused
    (`error`: the message for above the form when no field of it was named)."""

    done: bool
    result: T | None = None
    error: str | None = None


def save(form: FlaskForm, action: Callable[[], T]) -> Saved[T]:
    """Run `action` (one service call): commit when it works; when refused, roll back
    and put the refusal on the form."""
    try:
        result = action()
    except PortalError as refused:
        get_session().rollback()
        return Saved(False, error=put_on_form(form, refused))
    commit()
    return Saved(True, result)
