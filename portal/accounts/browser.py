"""What a browser holds for a log-in, read back on every request (the web side of
portal/accounts/sessions.py).

Three cookies, `__Host-` prefixed when PORTAL_SECURE_COOKIES is on (Secure, Path=/, no
Domain: no other host or path can set or shadow them) and plain over `make run`'s http:

* `session`: Flask's signed cookie. It keeps the CSRF token and flashes, and the
  session id whose digest names the `user_sessions` row. The row decides: a cookie
  copied anywhere stops working when the row is revoked or expires.
* `remember_token`: only with "remember me": a second random id of the same row, which
  brings the session back after the browser was closed (with a new session id), for
  30 days at most, and dies with the row.
* `portal_device`: the known-device cookie (signed; user, random id, password
  fingerprint), set at each log-in for a year. It grants nothing by itself: it only
  spares its owner the delay strangers' wrong passwords put on the account
  (portal/accounts/throttle.py), and a new password voids it.

Flask-Login keeps `current_user`; its own remember-me cookie is not used (its name is
pointed at a cookie we never set), and its user loader accepts only the user of a live
row found for this request.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy.orm as so
from flask import (
    Flask,
    after_this_request,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    request,
    url_for,
)
from flask import session as cookie_session
from flask_login import login_user, logout_user
from flask_login.utils import login_url

from portal.accounts import sessions, throttle
from portal.accounts.links import password_fingerprint
from portal.accounts.models import User, UserSession
from portal.accounts.services import normalise_email
from portal.db import get_session
from portal.timeutil import now_utc
from portal.tokens import TokenInvalid, make_token, read_token

SESSION_ID_KEY = "sid"
SESSION_COOKIE = "session"
REMEMBER_COOKIE = "remember_token"
DEVICE_COOKIE = "portal_device"
DEVICE_LIFETIME = timedelta(days=365)
# Cookies of the password-fingerprint scheme this replaced: dropped when seen.
LEGACY_COOKIES = ("portal_pwfp",)
# Never set: Flask-Login's remember-me reads this name, and so finds nothing.
UNUSED_FLASK_LOGIN_COOKIE = "portal_flask_login_remember_unused"

# The elements that poll themselves (hx-trigger="every ..."): templates/booking/
# _windows.html, dispatch/_board.html, reports/_progress.html, cases/_work.html and
# staff/_sla_panel.html. htmx names the element
# that sent a request in HX-Trigger, so a poll is told apart from a click inside it.
POLLING_ELEMENTS = frozenset({"windows", "board", "run-state", "case-work", "sla-panel"})

# Bandit took the "password" key (why a session ended) for a hard-coded password.
_PASSWORD_CHANGED = "Your password was changed, so please log in again."  # nosec B105  # notice
ENDED_MESSAGES = {
    "idle": "You were logged out after {idle} minutes without activity. Please log in again.",
    "lifetime": "You were logged out {hours} hours after logging in. Please log in again.",
    "remember": "This device kept you logged in for 30 days. Please log in again.",
    "password": _PASSWORD_CHANGED,
    "everywhere": "You were logged out on every device. Please log in again.",
}
ENDED_DEFAULT = "Your session has ended. Please log in again."


def cookie_name(base: str) -> str:
    """`__Host-<base>` over https (PORTAL_SECURE_COOKIES), the plain name otherwise."""
    return f"__Host-{base}" if current_app.config.get("SESSION_COOKIE_SECURE") else base


def init_app(app: Flask) -> None:
    """Cookie names and flags, and the hook that finds this request's session."""
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))
    app.config["SESSION_COOKIE_NAME"] = f"__Host-{SESSION_COOKIE}" if secure else SESSION_COOKIE
    app.config["SESSION_COOKIE_PATH"] = "/"
    app.config["SESSION_COOKIE_DOMAIN"] = None
    app.config["REMEMBER_COOKIE_NAME"] = UNUSED_FLASK_LOGIN_COOKIE
    app.before_request(load_session)


# --- every request ------------------------------------------------------------------------


def is_polling() -> bool:
    """A page's own htmx poll: a GET sent by one of the POLLING_ELEMENTS."""
    return (
        request.method == "GET"
        and request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Trigger") in POLLING_ELEMENTS
    )


def _serves_browsers() -> bool:
    # The API authenticates with tokens only and never reads these cookies.
    return request.endpoint != "static" and not request.path.startswith("/api/")


def load_session() -> None:
    """Find this request's live session (before any view): its row, or nobody.

    A session id whose row has ended is forgotten (and the person told why on the next
    page); a remember-me token brings its live row back under a new session id; a role
    changed since the id was issued gets a new id too. Activity is written at most once
    a minute, and never for a page's own polling.
    """
    g.portal_session = None
    if not _serves_browsers():
        return
    session_id = cookie_session.get(SESSION_ID_KEY)
    remember_token = request.cookies.get(cookie_name(REMEMBER_COOKIE))
    if session_id is None and remember_token is None:
        if "_user_id" in cookie_session:  # a cookie from before sessions were kept here
            _forget()
        return
    db, now = get_session(), now_utc()
    limits = sessions.Limits.from_config(current_app.config)
    row, ended = _row_for(db, session_id, now, limits)
    new_id, restored = None, False
    if row is None and remember_token is not None:
        remembered = sessions.find_remembered(db, remember_token)
        if remembered is not None and sessions.ended_because(remembered, now, limits) is None:
            row, restored = remembered, True
            new_id = sessions.renew_id(db, row)
        else:
            _drop_cookie(REMEMBER_COOKIE)
    if row is None:
        _forget()
        if ended is not None:
            flash(_ended_message(ended, limits), "info")
        return
    if not restored and "_user_id" not in cookie_session:
        # Flask-Login dropped the log-in ("strong" protection: the address or browser
        # changed under it): the session ends here too, not only in this cookie.
        sessions.end_session(row, now, "protection")
        db.commit()
        _forget()
        return
    if new_id is None and row.role != row.user.role:
        new_id = sessions.renew_id(db, row)
    seen = sessions.note_seen(
        row, now, ip=_address(), user_agent=_user_agent(), polling=is_polling()
    )
    if new_id is not None or seen:
        db.commit()  # nothing else has happened in this request yet
    if new_id is not None:
        if restored:
            cookie_session.clear()
        cookie_session[SESSION_ID_KEY] = new_id
        if restored:
            login_user(row.user, fresh=False)
    g.portal_session = row


def _row_for(db: so.Session, session_id, now, limits) -> tuple[UserSession | None, str | None]:
    """The live row of a session id, or None and why it ended ("revoked", "idle", ...)."""
    if not isinstance(session_id, str):
        return None, None
    row = sessions.find_session(db, session_id)
    if row is None:
        return None, "revoked"
    why = sessions.ended_because(row, now, limits)
    if why is None:
        return row, None
    return None, (row.revoked_reason or why) if why == "revoked" else why


def _ended_message(reason: str, limits: sessions.Limits) -> str:
    template = ENDED_MESSAGES.get(reason, ENDED_DEFAULT)
    return template.format(
        idle=int(limits.idle.total_seconds() // 60),
        hours=int(limits.lifetime.total_seconds() // 3600),
    )


def loaded_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the user of this request's live session, only."""
    row = g.get("portal_session")
    if row is None or str(row.user_id) != user_id:
        return None
    return row.user


def current_row() -> UserSession | None:
    return g.get("portal_session")


def unauthorized():
    """Not logged in: the log-in page. An htmx request (a poll after the session ended)
    is told to load it as a whole page, not to swap the log-in form into a list."""
    manager = current_app.login_manager
    if request.headers.get("HX-Request") == "true":
        page = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = page.path + (f"?{page.query}" if page.query else "")
        response = make_response("", 401)
        response.headers["HX-Redirect"] = url_for(
            manager.login_view, next=back if back.startswith("/") else None
        )
        return response
    flash(manager.login_message, manager.login_message_category)
    return redirect(login_url(manager.login_view, next_url=request.url))


# --- log-in and log-out (routes call these, then commit) -------------------------------------


def log_in(user: User, *, remember: bool = False, remember_until=None) -> None:
    """A new session for `user` in this browser: a new row and a new id (nothing carried
    over from before the log-in), the remember-me cookie if asked, the device cookie."""
    cookie_session.clear()
    issued = sessions.start_session(
        get_session(),
        user,
        now_utc(),
        ip=_address(),
        user_agent=_user_agent(),
        remember=remember,
        remember_until=remember_until,
    )
    cookie_session[SESSION_ID_KEY] = issued.session_id
    login_user(user)
    g.portal_session = issued.row
    if issued.remember_token is not None:
        lifetime = issued.row.remember_until - issued.row.created_at
        _set_cookie(REMEMBER_COOKIE, issued.remember_token, lifetime)
    elif cookie_name(REMEMBER_COOKIE) in request.cookies:
        _drop_cookie(REMEMBER_COOKIE)
    remember_device(user)
    for legacy in LEGACY_COOKIES:
        if legacy in request.cookies:
            _drop_cookie(legacy, prefixed=False)


def renew_after_password_change(user: User) -> None:
    """The new password ended every session; this browser, which set it, carries on in
    a new one (remembered until the same day, if it was)."""
    row = current_row()
    remember_until = row.remember_until if row is not None else None
    log_in(user, remember=remember_until is not None, remember_until=remember_until)


def log_out(reason: str = "logout") -> None:
    """End this browser's session on the server and forget its cookies."""
    row = current_row()
    if row is not None:
        sessions.end_session(row, now_utc(), reason)
        get_session().flush()
    _forget()


def _forget() -> None:
    cookie_session.clear()
    logout_user()
    g.portal_session = None
    if cookie_name(REMEMBER_COOKIE) in request.cookies:
        _drop_cookie(REMEMBER_COOKIE)
    for legacy in LEGACY_COOKIES:
        if legacy in request.cookies:
            _drop_cookie(legacy, prefixed=False)


# --- the known-device cookie ------------------------------------------------------------------


@dataclass(frozen=True)
class _DeviceClaim:
    user_id: int
    nonce: str
    fingerprint: str


def _read_device_claim() -> _DeviceClaim | None:
    raw = request.cookies.get(cookie_name(DEVICE_COOKIE))
    if not raw:
        return None
    try:
        payload = read_token("device", raw, max_age=int(DEVICE_LIFETIME.total_seconds()))
    except TokenInvalid:
        return None
    if not (
        isinstance(payload, dict)
        and isinstance(payload.get("u"), int)
        and isinstance(payload.get("d"), str)
        and isinstance(payload.get("fp"), str)
    ):
        return None
    return _DeviceClaim(payload["u"], payload["d"], payload["fp"])


def _device_id(claim: _DeviceClaim | None, user: User | None) -> str | None:
    if claim is None or user is None or claim.user_id != user.id:
        return None
    if not hmac.compare_digest(claim.fingerprint, password_fingerprint(user, "device")):
        return None  # set under an earlier password
    return sessions.digest(claim.nonce)


def device_for(db: so.Session, email: str) -> str | None:
    """The id of this browser's known-device cookie, when it is valid for the user who
    has `email` (its signature is checked before any lookup, so it tells a stranger
    nothing), else None."""
    claim = _read_device_claim()
    if claim is None:
        return None
    user = db.get(User, claim.user_id)
    if user is None or user.email != normalise_email(email):
        return None
    return _device_id(claim, user)


def device_for_user(user: User) -> str | None:
    return _device_id(_read_device_claim(), user)


def password_attempt(device: str | None) -> throttle.Attempt:
    """A password typed in this request: from this client, on this known device (from
    `device_for` or `device_for_user`), under the configured limits."""
    return throttle.Attempt(_address(), device, throttle.Policy.from_config(current_app.config))


def remember_device(user: User) -> None:
    """(Re)set the known-device cookie for `user`, under the current password; a browser
    keeps its device id across log-ins of the same user."""
    claim = _read_device_claim()
    nonce = claim.nonce if claim is not None and claim.user_id == user.id else None
    payload = {
        "u": user.id,
        "d": nonce or secrets.token_urlsafe(16),
        "fp": password_fingerprint(user, "device"),
    }
    _set_cookie(DEVICE_COOKIE, make_token("device", payload), DEVICE_LIFETIME)


# --- helpers ----------------------------------------------------------------------------------


def _address() -> str:
    return request.remote_addr or "unknown"


def _user_agent() -> str:
    return request.headers.get("User-Agent", "")


def _set_cookie(base: str, value: str, lifetime: timedelta) -> None:
    name = cookie_name(base)
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))

    @after_this_request
    def _set(response):
        response.set_cookie(
            name,
            value,
            max_age=int(lifetime.total_seconds()),
            path="/",
            secure=secure,
            httponly=True,
            samesite="Lax",
        )
        return response


def _drop_cookie(base: str, *, prefixed: bool = True) -> None:
    name = cookie_name(base) if prefixed else base
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))

    @after_this_request
    def _drop(response):
        # A __Host- cookie is only replaced by one with the same flags, deletion included.
        response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="Lax")
        return response
