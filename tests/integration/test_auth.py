"""Log-in and log-out through the real forms, on SQLite and PostgreSQL."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from argon2 import Type

from portal.accounts.services import create_user as register_user
from portal.timeutil import now_utc
from tests.factories import create_agent, create_customer, create_user

WRONG = "That e-mail and password do not match an active account."


@pytest.mark.parametrize(
    ("role", "home"),
    [
        ("customer", "/appointments"),
        ("agent", "/staff/"),
        ("scheduler", "/staff/"),
        ("manager", "/staff/"),
        ("admin", "/staff/"),
    ],
)
def test_logging_in_with_the_right_password_lands_on_the_role_home(session, auth, role, home):
    if role == "customer":
        user, _, _ = create_customer(session)
    elif role == "agent":
        user = create_agent(session).user
    else:
        user = create_user(session, role=role)

    response = auth.login(user.email, follow_redirects=True)

    assert response.status_code == 200
    assert response.request.path == home


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(session, auth):
    user, _, _ = create_customer(session)

    wrong_password = auth.login(user.email, "not-the-password")
    unknown_email = auth.login("nobody@example.com", "demo")

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert WRONG in wrong_password.get_data(as_text=True)
    assert WRONG in unknown_email.get_data(as_text=True)


def test_after_too_many_failures_even_the_right_password_is_refused(app, session, auth, frozen_now):
    frozen_now(now_utc())
    user, _, _ = create_customer(session)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert auth.login(user.email, "not-the-password").status_code == 401

    response = auth.login(user.email, "demo")

    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "Too many failed attempts" in page
    # Issue #12, finding 6: the account is slowed down (2 s after the last failure, then
    # 4, 8 ...; see test_login_delay.py), no longer locked for LOGIN_LOCK_MINUTES.
    assert "wait 2 seconds" in page


def test_logging_out_needs_a_post(session, client, auth):
    user, _, _ = create_customer(session)
    auth.login(user.email)

    assert client.get("/logout").status_code == 405
    assert client.get("/appointments").status_code == 200


def test_logging_out_without_the_csrf_token_is_refused(session, client, auth):
    user, _, _ = create_customer(session)
    auth.login(user.email)

    assert client.post("/logout").status_code == 400
    assert client.get("/appointments").status_code == 200


def test_logging_out_with_the_csrf_token_ends_the_session(session, client, auth):
    user, _, _ = create_customer(session)
    auth.login(user.email)

    response = auth.logout()

    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"
    assert client.get("/appointments").status_code == 302


def test_a_login_post_without_a_csrf_token_is_refused(session, client):
    user, _, _ = create_customer(session)

    response = client.post("/login", data={"email": user.email, "password": "demo"})

    assert response.status_code == 400
    assert client.get("/appointments").status_code == 302


def test_passwords_are_stored_as_argon2id_hashes(session):
    user = register_user(
        session,
        email="hashed@example.com",
        full_name="Hashed",
        role="customer",
        password="correct horse battery",
    )

    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse battery" not in user.password_hash


def test_the_production_password_hasher_meets_the_owasp_minimum(real_password_hasher):
    # OWASP's argon2id floor: 19 MiB of memory and 2 passes (or more memory, fewer passes).
    assert real_password_hasher.type is Type.ID
    assert real_password_hasher.memory_cost >= 19 * 1024
    assert real_password_hasher.time_cost >= 2
    assert real_password_hasher.hash("demo").startswith("$argon2id$")


def test_remember_me_sets_a_remember_cookie(session, client, auth):
    user, _, _ = create_customer(session)

    auth.login(user.email, remember=True)

    assert client.get_cookie("remember_token") is not None


def test_without_remember_me_there_is_no_remember_cookie(session, client, auth):
    user, _, _ = create_customer(session)

    auth.login(user.email)

    assert client.get_cookie("remember_token") is None


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/appointments",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
    ],
)
def test_next_does_not_redirect_off_site(session, auth, target):
    user, _, _ = create_customer(session)

    response = auth.login(user.email, next=target)

    assert response.status_code == 302
    location = response.location
    # Browsers read a backslash in a URL as a slash: "/\evil" means "//evil".
    normalised = location.replace("\\", "/")
    parts = urlsplit(normalised)
    assert parts.netloc in ("", "localhost"), location
    assert not normalised.startswith("//"), location


def test_next_to_a_page_of_ours_is_followed(session, auth):
    user, _, _ = create_customer(session)

    response = auth.login(user.email, next="/appointments")

    assert urlsplit(response.location).path == "/appointments"


def test_an_inactive_user_cannot_log_in(session, client, auth):
    user, _, _ = create_customer(session, active=False)

    response = auth.login(user.email)

    assert response.status_code == 401
    assert WRONG in response.get_data(as_text=True)
    assert client.get("/appointments").status_code == 302


def test_a_successful_log_in_clears_the_failure_count(app, session, auth):
    user, _, _ = create_customer(session)
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        auth.login(user.email, "not-the-password")
    auth.login(user.email)
    auth.logout()

    auth.login(user.email, "not-the-password")
    response = auth.login(user.email)

    assert response.status_code == 302
