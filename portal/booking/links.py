"""Absolute links that e-mails carry: they are built outside any request."""

from __future__ import annotations

from flask import current_app

from portal.accounts.models import User
from portal.tokens import make_token

# A manage link works this long after it was sent, and never once the appointment closes,
# nor once its customer sets a new password.
MANAGE_LINK_MAX_AGE = 30 * 24 * 3600


def manage_url(appointment_id: int) -> str:
    """The password-free link that opens one appointment to confirm, move or cancel it."""
    token = make_token("manage", {"appointment": appointment_id})
    return f"{current_app.config['BASE_URL']}/manage/{token}"


def appointment_url(appointment_id: int) -> str:
    return f"{current_app.config['BASE_URL']}/appointments/{appointment_id}"


def task_url() -> str:
    return f"{current_app.config['BASE_URL']}/staff/"


def manage_link_revoked(user: User | None, signed_at: int) -> bool:
    """Whether a new password ended a manage link signed at `signed_at` (Unix seconds).

    The signature counts whole seconds, so a link signed in the second the password was
    set counts as before it: refused, never wrongly let through."""
    if user is None or user.links_revoked_at is None:
        return False
    return signed_at <= int(user.links_revoked_at.timestamp())
