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
from dataclasses import dataclass
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


VERIFY_LIFETIME = timedelta(hours=48)
RESET_LIFETIME = timedelta(hours=1)
INVITE_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class LinkKind:
    """One kind of link: what its token is for, the page it opens, how long it works and
    what that page says once it does not. With a `used` message, the link works once (it
    carries `link_fingerprint`, which setting a password changes); with a `replaced` one,
    sending a newer link ends it too (said while no password is set)."""

    purpose: str
    path: str
    lifetime: timedelta
    expired: str
    used: str = ""
    replaced: str = ""


VERIFY_LINK = LinkKind(
    "verify-email",
    "verify",
    VERIFY_LIFETIME,
    "This link has expired: verification links work for 48 hours. Ask for a new one below.",
)
RESET_LINK = LinkKind(
    "reset-password",
    "reset",
    RESET_LIFETIME,
    "This link has expired: reset links work for one hour. Ask for a new one below.",
    used="This link has already been used, or the password was changed since it was sent. "
    "Ask for a new one below.",
)
INVITE_LINK = LinkKind(
    "invite",
    "invite",
    INVITE_LIFETIME,
    "This invitation has expired: invitations work for 7 days. Ask the person who invited "
    "you to send a new one.",
    used="This invitation has already been used. Log in, or reset your password if you "
    "have forgotten it.",
    replaced="This invitation was replaced by a newer one: use the link in the latest "
    "invitation e-mail.",
)


def make_link(kind: LinkKind, user: User, **extra: Any) -> str:
    """The address of the link's page, its token naming `user` until the link expires."""
    expires = int((now_utc() + kind.lifetime).timestamp())
    token = make_token(kind.purpose, {"u": user.id, "exp": expires, **extra})
    return f"{current_app.config['BASE_URL']}/{kind.path}/{token}"


def read_link(session: so.Session, kind: LinkKind, token: str) -> tuple[User, dict]:
    """The user a valid link names, with its payload; LinkInvalid otherwise."""
    max_age = int(kind.lifetime.total_seconds()) + 60
    try:
        # The signature's own age check runs on the wall clock; the "exp" in the payload
        # runs on now_utc(), which tests freeze. In production both agree.
        payload = read_token(kind.purpose, token, max_age=max_age)
    except TokenInvalid as exc:
        if exc.expired:
            raise LinkInvalid(kind.expired, expired=True) from None
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
        raise LinkInvalid(kind.expired, expired=True)
    user = session.get(User, payload["u"])
    if user is None or not user.active:
        raise LinkInvalid("This link is not valid any more.")
    if kind.used:
        fingerprint = link_fingerprint(user, kind.purpose)
        if not hmac.compare_digest(str(payload.get("fp", "")), fingerprint):
            if (
                kind.replaced
                and user.password_hash is None
                and payload.get("n") != user.invitation_count
            ):
                raise LinkInvalid(kind.replaced, replaced=True)
            raise LinkInvalid(kind.used, used=True)
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
