"""The signed links accounts e-mail (verify an address, reset a password, accept an
invitation): making one, and reading one back into the user it names.

A link carries a signed token (portal.tokens) with the user's id and an expiry read from
`now_utc()` (so tests can freeze it). A reset or invitation link also carries a
fingerprint of the password hash, so it stops working once the password is set, and an
invitation link the number it was sent under, so sending another one ends it.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

import sqlalchemy.orm as so
from flask import current_app

from portal.accounts.models import User
from portal.errors import PortalError
from portal.timeutil import now_utc
from portal.tokens import TokenInvalid, make_token, read_token


class LinkInvalid(PortalError):
    """An e-mailed link that is forged, expired or already used."""

    status = 400

    def __init__(
        self, message: str, *, expired: bool = False, used: bool = False, replaced: bool = False
    ):
        super().__init__(message)
        self.expired = expired
        self.used = used
        self.replaced = replaced  # a newer invitation was sent
        if expired or used or replaced:
            self.status = 410


def password_fingerprint(user: User, purpose: str = "session") -> str:
    """A keyed digest of the user's password hash: it changes whenever the password does.

    Stored in the session and in reset and invitation links, so that setting a new
    password ends other sessions and makes those links stop working.
    """
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{purpose}:{user.id}:{user.password_hash or ''}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def make_link(purpose: str, path: str, user: User, lifetime: timedelta, **extra: Any) -> str:
    """The portal address `path`/<token>, the token naming `user` until `lifetime` ends."""
    expires = int((now_utc() + lifetime).timestamp())
    token = make_token(purpose, {"u": user.id, "exp": expires, **extra})
    return f"{current_app.config['BASE_URL']}/{path}/{token}"


def read_link(
    session: so.Session,
    purpose: str,
    token: str,
    lifetime: timedelta,
    expired_message: str,
    *,
    used_message: str | None = None,
    replaced_message: str | None = None,
) -> tuple[User, dict]:
    """The user a valid link names, with its payload; LinkInvalid otherwise.

    With `used_message`, the link works once: it carries `link_fingerprint(user,
    purpose)`, which setting a password changes, and for an invitation also sending a
    newer one (`replaced_message` then says so, while no password is set)."""
    try:
        # The signature's own age check runs on the wall clock; the "exp" in the payload
        # runs on now_utc(), which tests freeze. In production both agree.
        payload = read_token(purpose, token, max_age=int(lifetime.total_seconds()) + 60)
    except TokenInvalid as exc:
        if exc.expired:
            raise LinkInvalid(expired_message, expired=True) from None
        raise LinkInvalid(
            "This link is not valid. Check that you copied all of it from the e-mail."
        ) from None
    if not (
        isinstance(payload, dict)
        and isinstance(payload.get("u"), int)
        and isinstance(payload.get("exp"), int)
    ):
        raise LinkInvalid("This link is not valid.")
    if now_utc().timestamp() > payload["exp"]:
        raise LinkInvalid(expired_message, expired=True)
    user = session.get(User, payload["u"])
    if user is None or not user.active:
        raise LinkInvalid("This link is not valid any more.")
    if used_message is not None:
        fingerprint = link_fingerprint(user, purpose)
        if not hmac.compare_digest(str(payload.get("fp", "")), fingerprint):
            if (
                replaced_message is not None
                and user.password_hash is None
                and payload.get("n") != user.invitation_count
            ):
                raise LinkInvalid(replaced_message, replaced=True)
            raise LinkInvalid(used_message, used=True)
    return user, payload


# Which password fingerprint a single-use link of each purpose carries.
_FINGERPRINT_KIND = {"reset-password": "reset", "invite": "invite"}


def link_fingerprint(user: User, purpose: str) -> str:
    """The fingerprint a single-use link of `purpose` carries: of the password, so that
    setting one uses the link up, and for an invitation of the number it was sent under,
    so that a newer invitation replaces it. (Number 0: links sent before invitations
    were numbered, which keep working until the next one is sent.)"""
    kind = _FINGERPRINT_KIND[purpose]
    if purpose == "invite" and user.invitation_count:
        kind = f"invite:{user.invitation_count}"
    return password_fingerprint(user, kind)
