"""The feed itself (no log-in: the signed secret in the URL is the credential) and the
button that makes or resets a user's link."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required

from portal.calendar_feeds import bp
from portal.calendar_feeds import services as feeds
from portal.db import commit, get_session
from portal.errors import PortalError
from portal.ratelimit import RateLimited
from portal.timeutil import now_utc


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    session = get_session()
    config = current_app.config
    try:
        user = feeds.open_feed(
            session,
            token,
            config["SECRET_KEY"],
            client=request.remote_addr or "unknown",
            now=now_utc(),
            limit=config.get("CALENDAR_FEED_RATE_LIMIT", feeds.RATE_LIMIT),
            refusal_limit=config.get("CALENDAR_FEED_REFUSAL_LIMIT", feeds.REFUSAL_LIMIT),
            window_seconds=config.get(
                "CALENDAR_FEED_RATE_WINDOW_SECONDS", feeds.RATE_WINDOW_SECONDS
            ),
        )
    except RateLimited as err:
        commit()  # a refused request counts too
        return _too_many(err)
    commit()
    if user is None:
        abort(404)
    text = feeds.build_feed(
        feeds.feed_appointments(session, user, now_utc()),
        for_staff=user.is_staff,
        base_url=current_app.config["BASE_URL"],
        now=now_utc(),
    )
    response = Response(text, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="appointments.ics"'
    # Personal data behind a secret URL: no shared cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


def _too_many(err: RateLimited) -> Response:
    response = Response(err.message + "\n", status=429, mimetype="text/plain")
    response.headers["Retry-After"] = str(err.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/calendar/link")
@login_required
def reset():
    had_one = feeds.get_feed(get_session(), current_user) is not None
    try:
        feeds.reset_feed(get_session(), current_user)
    except PortalError:
        abort(404)
    commit()
    if had_one:
        flash("Your calendar link is new: the old one no longer works.", "success")
    else:
        flash("Your calendar link is ready: add it to your calendar app.", "success")
    return redirect(_back())


def _back() -> str:
    if current_user.is_staff:
        return url_for("staff.home") + "#calendar-h"
    return url_for("accounts.profile") + "#calendar-h"


@bp.app_context_processor
def _calendar_feed_helper():
    return {"calendar_feed": calendar_feed}


def calendar_feed() -> dict:
    """For the calendar panel: whether the viewer can have a feed, and its URLs if made."""
    if not current_user.is_authenticated:
        return {"available": False, "url": None}
    session = get_session()
    if not feeds.can_have_feed(session, current_user):
        return {"available": False, "url": None}
    feed = feeds.get_feed(session, current_user)
    if feed is None:
        return {"available": True, "url": None}
    path = url_for(
        "calendar_feeds.feed", token=feeds.feed_token(feed, current_app.config["SECRET_KEY"])
    )
    url = current_app.config["BASE_URL"] + path
    return {"available": True, "url": url, "webcal": "webcal://" + url.split("://", 1)[1]}
