"""Sessions kept on the server (issue #12: finding 2 and point 9), on SQLite and PostgreSQL.

A browser holds only random ids; the `user_sessions` row behind them decides. So log-out,
"log out everywhere", a new password and a deactivation end a session wherever its
cookies were copied to, and a session ends by itself after 30 idle minutes or 12 hours
(a remembered one after 30 days). Polling parts of a page do not keep a session alive.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from portal.accounts.models import UserSession
from portal.settings.services import change_role
from tests.conftest import app_config
from tests.factories import NOW, create_customer, create_user

NEW_PASSWORD = "staple tide lantern"
FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
# What the board's own poll sends (templates/dispatch/_board.html: <div id="board" ...>).
BOARD_POLL = {"HX-Request": "true", "HX-Trigger": "board", "HX-Target": "board"}
BOARD = "/dispatch/?view=day&date=2026-06-01"


@pytest.fixture
def customer(session):
    user, _, _ = create_customer(session, email="jo@example.com")
    return user


def copy_cookies(source, target) -> None:
    """Give `target` every cookie `source` holds (what a thief copies out of a browser)."""
    for cookie in list(source._cookies.values()):
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def log_in(app, email: str, *, remember: bool = False, user_agent: str | None = None):
    browser = app.test_client()
    if user_agent:
        browser.environ_base["HTTP_USER_AGENT"] = user_agent
    data = {"email": email, "password": "demo", **({"remember": "y"} if remember else {})}
    assert browser.post_form("/login", data).status_code == 302
    return browser


def lands_on_log_in(response) -> bool:
    return response.status_code == 302 and urlsplit(response.location).path == "/login"


# --- finding 2: log-out ends the session on the server -------------------------------------


@pytest.mark.parametrize("remember", [False, True], ids=["session", "remember-me"])
def test_cookies_replayed_after_log_out_get_the_log_in_page(app, session, customer, remember):
    browser = log_in(app, "jo@example.com", remember=remember)
    thief = app.test_client()
    copy_cookies(browser, thief)
    assert thief.get("/appointments").status_code == 200

    browser.post_form("/logout", form_url="/")

    response = thief.get("/appointments", follow_redirects=True)
    assert response.request.path == "/login"
    assert "<h1>Log in</h1>" in response.get_data(as_text=True)


def test_a_remember_me_cookie_alone_is_refused_after_log_out(app, session, customer):
    browser = log_in(app, "jo@example.com", remember=True)
    remember_token = browser.get_cookie("remember_token").value
    browser.post_form("/logout", form_url="/")
    thief = app.test_client()
    thief.set_cookie("remember_token", remember_token)

    assert lands_on_log_in(thief.get("/profile"))


def test_log_out_revokes_the_row(app, session, customer):
    browser = log_in(app, "jo@example.com")

    browser.post_form("/logout", form_url="/")

    [row] = session.scalars(sa.select(UserSession)).all()
    assert row.revoked_at is not None


# --- what the table keeps -----------------------------------------------------------------


def test_a_log_in_records_who_where_and_with_what(app, session, customer, frozen_now):
    frozen_now(NOW)

    log_in(app, "jo@example.com", user_agent=FIREFOX_ON_WINDOWS)

    [row] = session.scalars(sa.select(UserSession)).all()
    assert row.user_id == customer.id
    assert row.created_at == row.last_seen_at == NOW
    assert row.ip == "127.0.0.1"
    assert row.user_agent == FIREFOX_ON_WINDOWS
    assert row.remember_until is None and row.revoked_at is None
    assert len(row.token_hash) == 64  # a SHA-256 digest: the id itself is never stored


def test_the_session_id_is_random_and_stored_only_as_its_digest(app, session, customer):
    browser = log_in(app, "jo@example.com")

    stored = {row.token_hash for row in session.scalars(sa.select(UserSession))}
    cookie = browser.get_cookie("session").value
    assert not any(digest in cookie for digest in stored)


def test_each_log_in_gets_a_session_of_its_own(app, session, customer):
    log_in(app, "jo@example.com")
    log_in(app, "jo@example.com")

    rows = session.scalars(sa.select(UserSession)).all()
    assert len(rows) == 2 and rows[0].token_hash != rows[1].token_hash


def test_cookies_from_before_the_log_in_do_not_become_logged_in(app, session, customer):
    browser = app.test_client()
    browser.get("/login")
    planted = app.test_client()
    copy_cookies(browser, planted)

    browser.post_form("/login", {"email": "jo@example.com", "password": "demo"})

    assert browser.get("/appointments").status_code == 200
    assert lands_on_log_in(planted.get("/appointments"))


# --- idle timeout and absolute lifetime ---------------------------------------------------


def test_a_session_ends_after_30_idle_minutes(app, session, customer, frozen_now):
    frozen_now(NOW)
    browser = log_in(app, "jo@example.com")
    frozen_now(NOW + timedelta(minutes=29))
    assert browser.get("/appointments").status_code == 200

    frozen_now(NOW + timedelta(minutes=29 + 31))

    response = browser.get("/appointments", follow_redirects=True)
    assert response.request.path == "/login"
    assert "after 30 minutes without activity" in response.get_data(as_text=True)


def test_activity_keeps_a_session_alive_until_its_12_hours_are_up(
    app, session, customer, frozen_now
):
    frozen_now(NOW)
    browser = log_in(app, "jo@example.com")
    for step in range(1, 36):  # a page every 20 minutes, for 11 h 40 min
        frozen_now(NOW + timedelta(minutes=20 * step))
        assert browser.get("/appointments").status_code == 200, step

    frozen_now(NOW + timedelta(hours=12, seconds=1))

    assert lands_on_log_in(browser.get("/appointments"))


def test_the_limits_come_from_the_configuration(database_url, tmp_path, session, frozen_now):
    from portal.app import create_app
    from tests.conftest import PortalClient

    app = create_app(
        app_config(database_url, tmp_path / "short", SESSION_IDLE_MINUTES=5, SESSION_MAX_HOURS=1)
    )
    app.test_client_class = PortalClient
    try:
        create_customer(session, email="short@example.com")
        session.commit()
        frozen_now(NOW)
        browser = log_in(app, "short@example.com")
        frozen_now(NOW + timedelta(minutes=4))
        assert browser.get("/appointments").status_code == 200
        frozen_now(NOW + timedelta(minutes=10))
        assert lands_on_log_in(browser.get("/appointments"))
    finally:
        app.extensions["portal.engine"].dispose()


def test_the_boards_polling_does_not_count_as_activity(app, session, frozen_now):
    create_user(session, role="scheduler", email="sam@example.com")
    frozen_now(NOW)
    browser = log_in(app, "sam@example.com")
    frozen_now(NOW + timedelta(minutes=10))
    assert browser.get(BOARD).status_code == 200  # a person opened the board
    for seconds in range(20, 30 * 60, 120):  # the board polls itself for 30 minutes
        frozen_now(NOW + timedelta(minutes=10, seconds=seconds))
        assert browser.get(BOARD, headers=BOARD_POLL).status_code == 200

    frozen_now(NOW + timedelta(minutes=10 + 30, seconds=30))
    poll = browser.get(BOARD, headers=BOARD_POLL)

    # An htmx request is told to load the log-in page as a whole page, rather than
    # being redirected and swapping the log-in form into the board.
    assert poll.status_code == 401
    assert urlsplit(poll.headers["HX-Redirect"]).path == "/login"


def test_a_click_inside_the_board_is_activity(app, session, frozen_now):
    create_user(session, role="scheduler", email="sam@example.com")
    frozen_now(NOW)
    browser = log_in(app, "sam@example.com")
    frozen_now(NOW + timedelta(minutes=25))
    # A request htmx sends for a link in the board: HX-Trigger names the link, not "board".
    assert browser.get(BOARD, headers={"HX-Request": "true", "HX-Target": "board"}).status_code
    frozen_now(NOW + timedelta(minutes=50))

    assert browser.get(BOARD).status_code == 200


# --- remember me ----------------------------------------------------------------------------


def test_remember_me_brings_back_a_closed_browser_within_30_days(
    app, session, customer, frozen_now
):
    frozen_now(NOW)
    phone = log_in(app, "jo@example.com", remember=True)

    frozen_now(NOW + timedelta(days=29, hours=23))
    phone.delete_cookie("session")  # the browser was closed
    assert phone.get("/profile").status_code == 200

    frozen_now(NOW + timedelta(days=30, minutes=1))
    phone.delete_cookie("session")
    assert lands_on_log_in(phone.get("/profile"))


def test_remember_me_outlasts_the_idle_limit_but_not_30_days(app, session, customer, frozen_now):
    frozen_now(NOW)
    phone = log_in(app, "jo@example.com", remember=True)

    frozen_now(NOW + timedelta(days=3))
    assert phone.get("/profile").status_code == 200
    frozen_now(NOW + timedelta(days=30, seconds=1))
    assert lands_on_log_in(phone.get("/profile"))


def test_the_remember_me_cookie_lasts_30_days(app, session, customer, frozen_now):
    browser = app.test_client()
    data = {"email": "jo@example.com", "password": "demo", "remember": "y"}

    response = browser.post_form("/login", data)

    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_")]
    assert f"Max-Age={30 * 24 * 3600}" in header
    assert "HttpOnly" in header and "SameSite=Lax" in header


def test_a_restored_session_gets_a_new_id(app, session, customer):
    phone = log_in(app, "jo@example.com", remember=True)
    before = session.scalar(sa.select(UserSession.token_hash))
    phone.delete_cookie("session")

    phone.get("/profile")

    session.expire_all()
    assert session.scalar(sa.select(UserSession.token_hash)) != before


# --- what ends every session at once ---------------------------------------------------------


def test_a_password_change_ends_every_session_and_keeps_this_browser_logged_in(
    app, session, customer
):
    laptop = log_in(app, "jo@example.com")
    phone = log_in(app, "jo@example.com", remember=True)
    thief = app.test_client()
    copy_cookies(laptop, thief)

    laptop.post_form(
        "/profile/password",
        {"current_password": "demo", "password": NEW_PASSWORD},
        form_url="/profile",
    )

    assert laptop.get("/profile").status_code == 200
    assert lands_on_log_in(thief.get("/profile"))
    phone.delete_cookie("session")
    assert lands_on_log_in(phone.get("/profile"))
    live = session.scalar(
        sa.select(sa.func.count()).select_from(UserSession).where(UserSession.revoked_at.is_(None))
    )
    assert live == 1


def test_deactivating_a_user_ends_its_sessions(app, session):
    admin = create_user(session, role="admin", email="root@example.com")
    user = create_user(session, role="scheduler", email="gone@example.com")
    session.commit()
    browser = log_in(app, "gone@example.com")
    console = log_in(app, admin.email)

    console.post_form(f"/settings/users/{user.id}/deactivate", form_url="/settings/users/new")

    assert lands_on_log_in(browser.get("/staff/"))
    rows = session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)).all()
    assert rows and all(row.revoked_at is not None for row in rows)


def test_a_role_change_gives_the_session_a_new_id(app, session):
    admin = create_user(session, role="admin", email="root@example.com")
    user = create_user(session, role="scheduler", email="sam@example.com")
    session.commit()
    browser = log_in(app, "sam@example.com")
    copy = app.test_client()
    copy_cookies(browser, copy)

    change_role(session, admin, user, "manager")
    session.commit()

    assert browser.get("/staff/").status_code == 200  # the owner carries on, with a new id
    assert lands_on_log_in(copy.get("/staff/"))  # the old id opens nothing


# --- cookies ------------------------------------------------------------------------------


def test_over_https_the_cookies_are_host_prefixed_secure_httponly_and_lax(
    database_url, tmp_path, session
):
    from portal.app import create_app
    from tests.conftest import PortalClient

    app = create_app(
        app_config(
            database_url,
            tmp_path / "https",
            SESSION_COOKIE_SECURE=True,
            REMEMBER_COOKIE_SECURE=True,
        )
    )
    app.test_client_class = PortalClient
    try:
        create_customer(session, email="tls@example.com")
        session.commit()
        browser = app.test_client()
        token = browser.csrf_token("/login")
        response = browser.post(
            "/login",
            data={"email": "tls@example.com", "password": "demo", "remember": "y"},
            headers={"X-CSRFToken": token},
        )

        cookies = {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}
        assert {"__Host-session", "__Host-remember_token", "__Host-portal_device"} <= set(cookies)
        for name in ("__Host-session", "__Host-remember_token", "__Host-portal_device"):
            header = cookies[name]
            assert "Secure" in header and "HttpOnly" in header, header
            assert "SameSite=Lax" in header and "Path=/" in header, header
            assert "Domain=" not in header, header
        assert browser.get("/appointments").status_code == 200
    finally:
        app.extensions["portal.engine"].dispose()


def test_over_plain_http_the_cookies_keep_plain_names(app, session, customer):
    browser = log_in(app, "jo@example.com", remember=True)

    assert browser.get_cookie("session") is not None
    assert browser.get_cookie("remember_token") is not None
    assert browser.get_cookie("__Host-session") is None


def test_the_api_ignores_session_cookies(app, session, customer):
    browser = log_in(app, "jo@example.com")

    assert browser.get("/api/v1/me").status_code == 401


# --- the profile's list and "log out everywhere" ----------------------------------------


def test_the_profile_lists_the_active_sessions_with_this_one_marked(
    app, session, customer, frozen_now
):
    frozen_now(NOW)
    laptop = log_in(app, "jo@example.com", user_agent=FIREFOX_ON_WINDOWS)
    phone = log_in(app, "jo@example.com", user_agent=SAFARI_ON_IPHONE)
    ended = log_in(app, "jo@example.com")
    ended.post_form("/logout", form_url="/")

    page = laptop.get("/profile").get_data(as_text=True)

    section = page.split('id="sessions-h"', 1)[1].split("</section>", 1)[0]
    assert "Firefox on Windows" in section and "Safari on an iPhone" in section
    assert section.count('<li class="session"') == 2  # the ended one is not listed
    assert "This device" in section.split("Safari on an iPhone")[0]
    assert "127.0.0.1" in section
    assert phone.get("/profile").status_code == 200


def test_logging_out_everywhere_ends_every_session(app, session, customer):
    laptop = log_in(app, "jo@example.com")
    phone = log_in(app, "jo@example.com", remember=True)

    response = laptop.post_form("/profile/sessions/end-all", form_url="/profile")

    assert lands_on_log_in(response)
    assert lands_on_log_in(laptop.get("/profile"))
    assert lands_on_log_in(phone.get("/profile"))
    phone.delete_cookie("session")
    assert lands_on_log_in(phone.get("/profile"))


def test_one_other_session_can_be_ended_from_the_profile(app, session, customer):
    laptop = log_in(app, "jo@example.com", user_agent=FIREFOX_ON_WINDOWS)
    phone = log_in(app, "jo@example.com", user_agent=SAFARI_ON_IPHONE)
    phone_row = session.scalars(sa.select(UserSession).order_by(UserSession.id.desc())).first()

    response = laptop.post_form(f"/profile/sessions/{phone_row.id}/end", form_url="/profile")

    assert response.status_code == 302
    assert lands_on_log_in(phone.get("/profile"))
    assert laptop.get("/profile").status_code == 200


def test_nobody_ends_another_users_session(app, session, customer):
    create_customer(session, email="other@example.com")
    session.commit()
    theirs = log_in(app, "other@example.com")
    their_row = session.scalars(sa.select(UserSession)).first()
    mine = log_in(app, "jo@example.com")

    response = mine.post_form(f"/profile/sessions/{their_row.id}/end", form_url="/profile")

    assert response.status_code == 404
    assert theirs.get("/profile").status_code == 200


# --- clean-up -------------------------------------------------------------------------------


def test_the_purge_job_deletes_sessions_that_can_never_be_used_again(
    app, session, customer, frozen_now, monkeypatch
):
    from portal import scheduler
    from portal.accounts.jobs import purge_sessions

    (spec,) = [s for s in scheduler.JOBS if s.id == "purge-sessions"]
    assert spec.func == "portal.accounts.jobs:purge_sessions"
    frozen_now(NOW)
    log_in(app, "jo@example.com").post_form("/logout", form_url="/")  # revoked
    log_in(app, "jo@example.com")  # idle from NOW
    remembered = log_in(app, "jo@example.com", remember=True)  # 30 days
    frozen_now(NOW + timedelta(minutes=40))
    live = log_in(app, "jo@example.com")  # new

    purge_sessions(app)

    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 2
    assert live.get("/profile").status_code == 200
    remembered.delete_cookie("session")
    assert remembered.get("/profile").status_code == 200


def test_a_session_dropped_for_a_changed_browser_ends_on_the_server_too(app, session, customer):
    browser = log_in(app, "jo@example.com")
    browser.environ_base["HTTP_USER_AGENT"] = FIREFOX_ON_WINDOWS  # not the one it logged in with

    assert lands_on_log_in(browser.get("/appointments"))
    browser.get("/login")

    [row] = session.scalars(sa.select(UserSession)).all()
    assert row.revoked_at is not None and row.revoked_reason == "protection"
