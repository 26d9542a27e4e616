"""Personal API tokens: create (the secret is shown once), list, revoke, and look up.

A secret is "pt_" and 40 URL-safe characters (240 bits) from `secrets`. So much entropy
needs no slow password hash: a SHA-256 of the secret is what the database keeps and
what a request is looked up by, in one indexed query. The "pt_" prefix lets secret
scanners and people recognise a leaked token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.credentials import check_current_password
from portal.accounts.emails import tell_token_created
from portal.accounts.models import User
from portal.api.models import ApiToken
from portal.audit.services import record_change, snapshot
from portal.errors import Invalid, NotFound
from portal.timeutil import now_utc

PREFIX = "pt_"
HINT_LENGTH = 9  # "pt_" and six characters of the secret
MAX_NAME = 80
MAX_ACTIVE_TOKENS = 20


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    session: so.Session,
    user: User,
    name: str,
    *,
    expires_at: datetime | None = None,
    secret: str | None = None,
    by: User | None = None,
) -> tuple[ApiToken, str]:
    """Make a token for `user`; returns it with its secret, which is never stored.

    `secret` is for the demo data only, whose token is printed beside the demo log-ins;
    every other token gets a random one. `by`: who made it, for the audit log (None for
    the command line)."""
    name = (name or "").strip()
    if not name:
        raise Invalid("Give the token a name, so you know later what uses it.", field="name")
    if len(name) > MAX_NAME:
        raise Invalid(f"Keep the name under {MAX_NAME} characters.", field="name")
    now = now_utc()
    if expires_at is not None and expires_at <= now:
        raise Invalid("The expiry must be in the future.", field="expires_at")
    if not user.active:
        raise Invalid("An inactive user cannot have API tokens.", field="user")
    if len(list_tokens(session, user)) >= MAX_ACTIVE_TOKENS:
        raise Invalid(
            f"You have {MAX_ACTIVE_TOKENS} tokens already: revoke one you no longer use.",
            field="name",
        )
    if secret is None:
        secret = PREFIX + secrets.token_urlsafe(30)
    elif not secret.startswith(PREFIX):
        raise ValueError(f"an API token starts with {PREFIX!r}")
    token = ApiToken(
        user_id=user.id,
        name=name,
        hint=secret[:HINT_LENGTH],
        secret_hash=hash_secret(secret),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    record_change(session, by, "create", token, None, _audited(token))
    return token, secret


def _audited(token: ApiToken) -> dict:
    # The hash is left out: the log says which token, never anything that opens one.
    return snapshot(token, "user_id", "name", "hint", "expires_at", "revoked_at")


def create_own_token(
    session: so.Session,
    user: User,
    name: str,
    *,
    current_password: str,
    expires_at: datetime | None = None,
    **check: Any,
) -> tuple[ApiToken, str]:
    """What the tokens page does: a user makes a token for itself after typing its
    current password (a stolen session alone cannot mint lasting access: wrong guesses
    count as log-in failures, as `check` says, see check_current_password), and the user
    is e-mailed about it."""
    check_current_password(session, user, current_password, **check)
    token, secret = create_token(session, user, name, expires_at=expires_at, by=user)
    tell_token_created(session, user, token.name)
    return token, secret


def list_tokens(session: so.Session, user: User) -> list[ApiToken]:
    """The user's tokens that still work (not revoked, not expired), newest first."""
    now = now_utc()
    return list(
        session.scalars(
            sa.select(ApiToken)
            .where(
                ApiToken.user_id == user.id,
                ApiToken.revoked_at.is_(None),
                sa.or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
            )
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(session: so.Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; anybody else's is NotFound."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound("There is no such token.")
    before = _audited(token)
    token.revoked_at = now_utc()
    session.flush()
    record_change(session, user, "revoke", token, before, _audited(token))
    return token


def revoke_tokens_named(
    session: so.Session, user: User, name: str, *, by: User | None = None
) -> int:
    """Revoke every working token of `user` called `name` (the CLI's way); how many."""
    found = [t for t in list_tokens(session, user) if t.name == name.strip()]
    for token in found:
        before = _audited(token)
        token.revoked_at = now_utc()
        session.flush()
        record_change(session, by, "revoke", token, before, _audited(token))
    session.flush()
    return len(found)


def find_usable_token(session: so.Session, secret: str) -> ApiToken | None:
    """The working token with this secret, its user active; None for anything else."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(
        sa.select(ApiToken)
        .where(ApiToken.secret_hash == hash_secret(secret))
        .options(so.joinedload(ApiToken.user))
    )
    if token is None or not token.is_usable(now_utc()) or not token.user.active:
        return None
    return token


def revoke_all_tokens(session: so.Session, user: User, now: datetime) -> None:
    """End every working token of the user (a new password: portal/accounts/watchers.py)."""
    session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )
