"""Passwords once an account exists: changing one with the current one (the profile),
setting one through an e-mailed reset link, and what a new password ends.

Asking for a reset never tells a stranger whether an address is registered: every
request does the same work and gets the same answer.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts import emails, services, sessions, throttle, watchers
from portal.accounts.emails import PASSWORD_CHANGED, RESET, send_link_email
from portal.accounts.links import RESET_LINK, link_fingerprint, read_link
from portal.accounts.models import LoginAttempt, User
from portal.accounts.passwords import validate_new_password
from portal.accounts.throttle import Attempt, Policy, RateLimited
from portal.errors import Invalid
from portal.timeutil import now_utc

# Reset links: three an hour per address, refused silently (the answer never changes).
RESETS_PER_HOUR = 3


def check_current_password(
    session: so.Session,
    user: User,
    current_password: str,
    *,
    remote_addr: str,
    device: str | None = None,
    max_failures: int = 5,
    lock_minutes: int = 15,
) -> None:
    """Refuse unless `current_password` is the user's password: a step-up check before
    something a borrowed session must not do alone. A wrong guess counts as a log-in
    failure (the caller commits it), and too many slow the check as they slow log-in,
    except on a known device (`device`, see portal/accounts/throttle.py)."""
    policy = Policy(max_failures, timedelta(minutes=lock_minutes))
    _check_current_password(session, user, current_password, Attempt(remote_addr, device, policy))


def _check_current_password(
    session: so.Session, user: User, current_password: str, attempt: Attempt
) -> None:
    now = now_utc()
    throttle.serialise_attempts(session, user.email)
    if not throttle.device_trusted(session, attempt.device, now, attempt.policy):
        wait = throttle.account_wait(session, user.email, now, attempt.policy)
        if wait:
            raise RateLimited(
                f"Too many wrong passwords. Please wait {throttle.say_wait(wait)} and try again."
            )
    if not services.verify_password(user.password_hash, current_password or ""):
        throttle.record_failure(
            session, user.email, remote_addr=attempt.remote_addr, device=attempt.device, now=now
        )
        raise Invalid("That is not your current password.", field="current_password")


def change_password(
    session: so.Session,
    user: User,
    *,
    current_password: str,
    new_password: str,
    attempt: Attempt,
) -> User:
    """Set a new password after checking the current one (wrong guesses count as log-in
    failures, so a borrowed session cannot be used to guess it)."""
    _check_current_password(session, user, current_password, attempt)
    if current_password == new_password:
        raise Invalid("Choose a password different from the current one.", field="password")
    set_password(session, user, new_password)
    return user


def request_password_reset(session: so.Session, email: str) -> None:
    """E-mail a reset link when an active user has this address; silent in every case.

    Every request does the same work, so the time the answer takes does not say whether
    the address has an account (or has asked too often): the same look-up and count,
    one signed link, the e-mail rendered and written inside a savepoint, which is kept
    only when there is somebody to send it to. For nobody, the link is made for a
    stand-in user that is never stored.
    """
    email = services.normalise_email(email)
    found = session.scalar(sa.select(User).where(User.email == email))
    user = found if found is not None and found.active else None
    recipient = user or User(id=0, email=email, full_name="", password_hash=None)
    sent = emails.sent_since(session, recipient, RESET, now_utc() - timedelta(hours=1))
    fingerprint = link_fingerprint(recipient, "reset-password")
    savepoint = session.begin_nested()
    send_link_email(session, recipient, RESET, link_data={"fp": fingerprint})
    if user is not None and sent < RESETS_PER_HOUR:
        savepoint.commit()
    else:
        savepoint.rollback()


def read_reset_link(session: so.Session, token: str) -> User:
    """The user a reset link is for, while it is fresh and unused; LinkInvalid otherwise."""
    user, _payload = read_link(session, RESET_LINK, token)
    return user


def reset_password(session: so.Session, token: str, new_password: str) -> User:
    """Set a new password through a reset link; the link and other sessions stop working."""
    user = read_reset_link(session, token)
    set_password(session, user, new_password)
    # The link reached the mailbox, which proves the address as well as a verification.
    if user.email_verified_at is None:
        user.email_verified_at = now_utc()
    session.execute(sa.delete(LoginAttempt).where(LoginAttempt.email == user.email))
    session.flush()
    return user


def set_password(session: so.Session, user: User, new_password: str) -> None:
    """Store a new password (the rule checked), end every way in, and tell the user."""
    validate_new_password(new_password, email=user.email, full_name=user.full_name)
    user.password_hash = services.hash_password(new_password)
    session.flush()
    revoke_access(session, user)
    send_link_email(session, user, PASSWORD_CHANGED)


def revoke_access(session: so.Session, user: User) -> None:
    """End every way in: the user's sessions (on every device), the manage links of
    e-mails sent so far, and whatever lasting access the floors above keep for the user
    (its API tokens, its calendar feed key: portal/accounts/watchers.py). A new password
    must shut out whoever stole the old one, and whatever they made or were sent with
    it. Known-device cookies end too: they carry a fingerprint of the password."""
    now = now_utc()
    sessions.end_user_sessions(session, user, now, "password")
    user.links_revoked_at = now
    watchers.access_revoked(session, user, now)
    session.flush()
