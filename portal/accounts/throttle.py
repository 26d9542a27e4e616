"""Failed log-ins: a limit per client address, a growing delay per account, known devices.

Every wrong password is a `login_attempts` row (e-mail, address, device, time), kept for
`lock` (PORTAL_LOGIN_LOCK_MINUTES). Three rules read them:

* **Per address**: 4 x `max_failures` failures from one address within `lock` refuse
  every attempt from it until they age out (one address guessing many accounts).
* **Per account**: past `max_failures` failures at one e-mail within `lock`, each further
  attempt waits 2, 4, 8 ... seconds after the last failure, never more than `lock`. It
  slows a guesser down without locking the owner out for a quarter of an hour, and the
  answer is one neutral message whether the password was right and whether the e-mail
  exists (unknown e-mails are counted the same way).
* **Known devices**: a browser that logged in as the user before (a signed cookie,
  portal/accounts/browser.py) is exempt from both while it has fewer than
  `max_failures` failures of its own within `lock`: strangers' guesses never keep the
  owner out of their own account.

Attempts at one e-mail run one at a time (SQLite: BEGIN IMMEDIATE; PostgreSQL: an
advisory lock until the transaction ends), so a burst of parallel guesses cannot all
pass the check before any failure is recorded.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import LoginAttempt
from portal.errors import PortalError

ADDRESS_FACTOR = 4
# 2 ** 30 s is far past any lock: the exponent stops there so the number stays small.
_MAX_EXPONENT = 30


class RateLimited(PortalError):
    """Asked again too soon (a password guess, an e-mail); the message says when to try again."""

    status = 429


@dataclass(frozen=True)
class Policy:
    max_failures: int = 5
    lock: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        """The limits configured (PORTAL_LOGIN_MAX_FAILURES, PORTAL_LOGIN_LOCK_MINUTES)."""
        return cls(config["LOGIN_MAX_FAILURES"], timedelta(minutes=config["LOGIN_LOCK_MINUTES"]))


@dataclass(frozen=True)
class Attempt:
    """A password typed somewhere: the client's address, the known device it came from
    (a cookie the caller found valid for the account, or None) and the limits it meets."""

    remote_addr: str
    device: str | None = None
    policy: Policy = Policy()


def serialise_attempts(session: so.Session, email: str) -> None:
    """Make attempts at `email` wait for each other until this transaction ends."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite transactions begin IMMEDIATE: one writer at a time already
    key = int.from_bytes(hashlib.sha256(f"login:{email}".encode()).digest()[:8], "big", signed=True)
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def _failures(session: so.Session, where, since: datetime):
    return session.execute(
        sa.select(sa.func.count(), sa.func.max(LoginAttempt.at)).where(
            where, LoginAttempt.at >= since
        )
    ).one()


def address_blocked(session: so.Session, remote_addr: str, now: datetime, policy: Policy) -> bool:
    count, _ = _failures(session, LoginAttempt.remote_addr == remote_addr[:64], now - policy.lock)
    return count >= policy.max_failures * ADDRESS_FACTOR


def device_trusted(session: so.Session, device: str | None, now: datetime, policy: Policy) -> bool:
    """Whether a known device (already checked as the account's) may skip the limits."""
    if device is None:
        return False
    count, _ = _failures(session, LoginAttempt.device == device, now - policy.lock)
    return count < policy.max_failures


def account_wait(session: so.Session, email: str, now: datetime, policy: Policy) -> timedelta:
    """How long an attempt at `email` must still wait (zero when it may go ahead)."""
    count, last = _failures(session, LoginAttempt.email == email, now - policy.lock)
    if count < policy.max_failures or last is None:
        return timedelta(0)
    exponent = min(count - policy.max_failures + 1, _MAX_EXPONENT)
    wait = min(timedelta(seconds=2**exponent), policy.lock)
    return max(last + wait - now, timedelta(0))


def say_wait(wait: timedelta) -> str:
    """A wait in words, rounded up: "1 second", "40 seconds", "3 minutes"."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 120:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    return f"{math.ceil(seconds / 60)} minutes"


def refusal(
    session: so.Session,
    email: str,
    *,
    remote_addr: str,
    device: str | None,
    now: datetime,
    policy: Policy,
) -> str | None:
    """Why an attempt must be refused before its password is even checked, or None."""
    if device_trusted(session, device, now, policy):
        return None
    if address_blocked(session, remote_addr, now, policy):
        minutes = int(policy.lock.total_seconds() // 60)
        return f"Too many failed attempts. Please wait {minutes} minutes and try again."
    wait = account_wait(session, email, now, policy)
    if wait:
        return f"Too many failed attempts. Please wait {say_wait(wait)} and try again."
    return None


def record_failure(
    session: so.Session, email: str, *, remote_addr: str, device: str | None, now: datetime
) -> None:
    session.add(LoginAttempt(email=email, remote_addr=remote_addr[:64], device=device, at=now))
    session.flush()


def clear_failures(session: so.Session, email: str, device: str | None = None) -> None:
    """Forget failures after a success: a known device's own only (strangers' guesses
    keep counting), or all of the account's after a log-in from anywhere else."""
    query = sa.delete(LoginAttempt).where(LoginAttempt.email == email)
    if device is not None:
        query = query.where(LoginAttempt.device == device)
    session.execute(query)
