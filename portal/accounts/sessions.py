"""Log-in sessions kept on the server (ASVS V7): the `user_sessions` rows and their rules.

A browser holds two random ids at most: the session id (in Flask's signed session
cookie) and, with "remember me", a remember-me token (a cookie of its own). The row
holds their SHA-256 digests. A row is live while it is not revoked and

* without "remember me": less than `idle` since it was last seen and less than
  `lifetime` since log-in (PORTAL_SESSION_IDLE_MINUTES, PORTAL_SESSION_MAX_HOURS);
* with it: until `remember_until`, 30 days after log-in at most. "Remember me" stretches
  the idle limit; it never outlives a revocation, which ends the row and both ids at once.

Log-out revokes the row; a new password, a deactivation or "log out everywhere" revokes
every row of the user. A new log-in makes a new row, and a role change or a return
through the remember-me cookie gives the row a new session id, so an id copied before
then opens nothing. The browser side (cookies, Flask's session) is in
portal/accounts/browser.py; nothing here touches a request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User, UserSession

REMEMBER_FOR = timedelta(days=30)
# "Last seen" is written at most this often: a minute of precision on the idle limit
# saves a write on nearly every request.
SEEN_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Limits:
    """How long a session lasts without "remember me": idle, and in all."""

    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)

    @classmethod
    def from_config(cls, config) -> Limits:
        return cls(
            idle=timedelta(minutes=config.get("SESSION_IDLE_MINUTES", 30)),
            lifetime=timedelta(hours=config.get("SESSION_MAX_HOURS", 12)),
        )


@dataclass(frozen=True)
class Issued:
    """A new or renewed session: the row and the ids for the browser (shown only now)."""

    row: UserSession
    session_id: str
    remember_token: str | None = None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_id() -> str:
    return secrets.token_urlsafe(32)


def ended_because(row: UserSession, now: datetime, limits: Limits) -> str | None:
    """Why the row is no longer live (revoked, remember, idle, lifetime), or None."""
    if row.revoked_at is not None:
        return "revoked"
    if not row.user.active:
        return "revoked"
    if row.remember_until is not None:
        return "remember" if now >= row.remember_until else None
    if now - row.created_at >= limits.lifetime:
        return "lifetime"
    if now - row.last_seen_at >= limits.idle:
        return "idle"
    return None


def start_session(
    session: so.Session,
    user: User,
    now: datetime,
    *,
    ip: str,
    user_agent: str,
    remember: bool = False,
    remember_until: datetime | None = None,
) -> Issued:
    """A new session for `user`; with `remember`, a remember-me token too (30 days, or
    until `remember_until` when a session is renewed after a new password)."""
    session_id = _new_id()
    remember_token = _new_id() if remember else None
    row = UserSession(
        user=user,
        token_hash=digest(session_id),
        remember_hash=digest(remember_token) if remember_token else None,
        role=user.role,
        created_at=now,
        last_seen_at=now,
        ip=ip[:64],
        user_agent=user_agent[:400],
        remember_until=(remember_until or now + REMEMBER_FOR) if remember else None,
        revoked_reason="",
    )
    session.add(row)
    session.flush()
    return Issued(row, session_id, remember_token)


def find_session(session: so.Session, session_id: str) -> UserSession | None:
    """The row a session id belongs to, live or not (the caller asks `ended_because`)."""
    return session.scalar(
        sa.select(UserSession)
        .where(UserSession.token_hash == digest(session_id))
        .options(so.joinedload(UserSession.user))
    )


def find_remembered(session: so.Session, remember_token: str) -> UserSession | None:
    return session.scalar(
        sa.select(UserSession)
        .where(UserSession.remember_hash == digest(remember_token))
        .options(so.joinedload(UserSession.user))
    )


def renew_id(session: so.Session, row: UserSession) -> str:
    """Give the session a new id (the old one opens nothing from now on) and take the
    user's present role as the one it runs under."""
    session_id = _new_id()
    row.token_hash = digest(session_id)
    row.role = row.user.role
    session.flush()
    return session_id


def note_seen(row: UserSession, now: datetime, *, ip: str, user_agent: str, polling: bool) -> bool:
    """Record a request as activity (True when the row changed). A page's own polling is
    not activity: a dispatch board left open must not keep its session alive."""
    if polling or now - row.last_seen_at < SEEN_EVERY:
        return False
    row.last_seen_at = now
    row.ip = ip[:64]
    row.user_agent = user_agent[:400]
    return True


def end_session(row: UserSession, now: datetime, reason: str) -> None:
    if row.revoked_at is None:
        row.revoked_at = now
        row.revoked_reason = reason


def end_user_sessions(session: so.Session, user: User, now: datetime, reason: str) -> int:
    """Revoke every live session of `user` at once; how many were live."""
    result = session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return result.rowcount or 0


def live_sessions(
    session: so.Session, user: User, now: datetime, limits: Limits
) -> list[UserSession]:
    """The user's live sessions, the most recently seen first."""
    rows = session.scalars(
        sa.select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return [row for row in rows if ended_because(row, now, limits) is None]


def get_own_session(session: so.Session, user: User, row_id: int) -> UserSession | None:
    """One of the user's own sessions by its row id; None for anyone else's."""
    row = session.get(UserSession, row_id)
    return row if row is not None and row.user_id == user.id else None


def purge_ended_sessions(session: so.Session, now: datetime, limits: Limits) -> int:
    """Delete rows that can never be live again (revoked, or past every limit)."""
    cutoff_seen = now - limits.idle
    cutoff_made = now - limits.lifetime
    result = session.execute(
        sa.delete(UserSession).where(
            sa.or_(
                UserSession.revoked_at.is_not(None),
                sa.and_(
                    UserSession.remember_until.is_(None),
                    sa.or_(
                        UserSession.last_seen_at <= cutoff_seen,
                        UserSession.created_at <= cutoff_made,
                    ),
                ),
                UserSession.remember_until <= now,
            )
        )
    )
    return result.rowcount or 0


# --- the device, in plain words ---------------------------------------------------------

# Checked in order: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "an iPhone"),
    ("iPad", "an iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "a Mac"),
    ("Macintosh", "a Mac"),
    ("Linux", "Linux"),
)


def describe_device(user_agent: str) -> str:
    """The browser and system a User-Agent names, in words ("Firefox on Windows")."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser:
        return browser
    if system:
        return f"A browser on {system}"
    return "An unknown browser or program"
