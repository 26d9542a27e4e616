"""Password reset by e-mailed link, and what a new password does to other sessions,
on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from portal.accounts.emails import SUBJECT_PASSWORD_CHANGED, SUBJECT_RESET
from portal.accounts.models import LoginAttempt, User
from portal.api.tokens import create_token
from portal.calendar_feeds import services as feeds
from portal.notifications.models import OutboxMessage
from portal.timeutil import now_utc
from tests.conftest import SECRET_KEY
from tests.factories import create_customer

NEW_PASSWORD = "staple tide lantern"
ANSWER = "If an account exists for that address, we have sent it a link"


def emails(session, to: str, subject: str | None = None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.recipient == to)
    if subject is not None:
        query = query.where(OutboxMessage.subject == subject)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def reset_path(message: OutboxMessage) -> str:
    match = re.search(r"https?://\S+/reset/[A-Za-z0-9_.\-]+", message.body_text)
    assert match, message.body_text
    return urlsplit(match.group(0)).path


def main_of(page: str) -> str:
    return re.search(r"<main.*</main>", page, re.S).group(0)


@pytest.fixture
def customer(session):
    user, _, _ = create_customer(session, email="jo@example.com")
    return user


def ask_for_reset(client, email: str):
    return client.post_form("/reset", {"email": email}, follow_redirects=True)


def emailed_reset_path(client, session, email: str = "jo@example.com") -> str:
    ask_for_reset(client, email)
    return reset_path(emails(session, email, SUBJECT_RESET)[-1])


def test_asking_for_a_reset_answers_the_same_for_known_and_unknown_addresses(
    app, session, customer
):
    known = ask_for_reset(app.test_client(), "jo@example.com")
    unknown = ask_for_reset(app.test_client(), "nobody@example.com")

    assert known.status_code == unknown.status_code == 200
    assert known.request.path == unknown.request.path == "/reset/sent"
    assert main_of(known.get_data(as_text=True)) == main_of(unknown.get_data(as_text=True))
    assert ANSWER in known.get_data(as_text=True)
    assert len(emails(session, "jo@example.com", SUBJECT_RESET)) == 1
    assert emails(session, "nobody@example.com") == []


def test_the_emailed_link_sets_a_new_password(session, client, auth, customer):
    path = emailed_reset_path(client, session)

    form = client.get(path)
    response = client.post_form(path, {"password": NEW_PASSWORD})

    assert form.status_code == 200
    assert "Choose a new password" in form.get_data(as_text=True)
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"
    assert auth.login("jo@example.com", NEW_PASSWORD).status_code == 302


def test_the_old_password_stops_working_after_a_reset(session, client, auth, customer):
    path = emailed_reset_path(client, session)
    client.post_form(path, {"password": NEW_PASSWORD})

    response = auth.login("jo@example.com", "demo")

    assert response.status_code == 401


def test_a_reset_link_cannot_be_used_twice(session, client, auth, customer):
    path = emailed_reset_path(client, session)
    client.post_form(path, {"password": NEW_PASSWORD})

    again = client.get(path)
    with_form = client.post(path, data={"password": "another fine password"})

    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    assert 'href="/reset"' in again.get_data(as_text=True)
    assert with_form.status_code in (400, 410)
    assert auth.login("jo@example.com", NEW_PASSWORD).status_code == 302


def test_an_expired_reset_link_is_refused(session, client, customer, frozen_now):
    start = frozen_now(now_utc())
    path = emailed_reset_path(client, session)
    frozen_now(start + timedelta(hours=1, minutes=1))

    response = client.get(path)

    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)


def test_an_expired_reset_link_cannot_set_a_password(session, client, auth, customer, frozen_now):
    start = frozen_now(now_utc())
    path = emailed_reset_path(client, session)
    token = client.csrf_token(path)
    frozen_now(start + timedelta(hours=1, minutes=1))

    response = client.post(path, data={"password": NEW_PASSWORD, "csrf_token": token})

    assert response.status_code == 410
    assert auth.login("jo@example.com", "demo").status_code == 302


def test_a_weak_new_password_is_refused_and_the_link_still_works(session, client, auth, customer):
    path = emailed_reset_path(client, session)

    weak = client.post_form(path, {"password": "password1"})
    strong = client.post_form(path, {"password": NEW_PASSWORD})

    assert weak.status_code == 422
    assert "too easy to guess" in weak.get_data(as_text=True)
    assert strong.status_code == 302
    assert auth.login("jo@example.com", NEW_PASSWORD).status_code == 302


def test_a_reset_clears_log_in_failures(app, session, client, auth, customer):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        auth.login("jo@example.com", "wrong password")
    assert "Too many failed attempts" in auth.login("jo@example.com", "demo").get_data(as_text=True)
    path = emailed_reset_path(client, session)

    client.post_form(path, {"password": NEW_PASSWORD})

    assert session.scalar(sa.select(sa.func.count()).select_from(LoginAttempt)) == 0
    assert auth.login("jo@example.com", NEW_PASSWORD).status_code == 302


def test_a_reset_tells_the_owner_that_the_password_changed(session, client, customer):
    path = emailed_reset_path(client, session)

    client.post_form(path, {"password": NEW_PASSWORD})

    [notice] = emails(session, "jo@example.com", SUBJECT_PASSWORD_CHANGED)
    assert "/reset" in notice.body_text


def test_a_reset_revokes_the_users_api_tokens(session, client, customer):
    _, secret = create_token(session, customer, "Made with a stolen session")
    path = emailed_reset_path(client, session)

    client.post_form(path, {"password": NEW_PASSWORD})

    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401


def test_a_reset_stops_the_calendar_link(session, client, customer):
    feed = feeds.reset_feed(session, customer)
    url = f"/calendar/{feeds.feed_token(feed, SECRET_KEY)}.ics"
    path = emailed_reset_path(client, session)

    client.post_form(path, {"password": NEW_PASSWORD})

    assert client.get(url).status_code == 404


def test_a_reset_says_that_api_tokens_and_calendar_links_were_revoked(session, client, customer):
    path = emailed_reset_path(client, session)

    response = client.post_form(path, {"password": NEW_PASSWORD}, follow_redirects=True)

    assert "API tokens and calendar links were revoked" in response.get_data(as_text=True)


def test_a_reset_logs_out_the_other_sessions(app, session, client, customer):
    laptop = app.test_client()
    laptop.post_form("/login", {"email": "jo@example.com", "password": "demo"})
    assert laptop.get("/profile").status_code == 200
    path = emailed_reset_path(client, session)

    client.post_form(path, {"password": NEW_PASSWORD})

    response = laptop.get("/profile")
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"


def test_a_remembered_device_is_logged_out_after_a_reset(app, session, client, customer):
    phone = app.test_client()
    phone.post_form("/login", {"email": "jo@example.com", "password": "demo", "remember": "y"})
    phone.delete_cookie("session")  # the browser was closed; the remember-me cookie stays
    assert phone.get("/profile").status_code == 200
    phone.delete_cookie("session")
    path = emailed_reset_path(client, session)

    client.post_form(path, {"password": NEW_PASSWORD})

    assert phone.get("/profile").status_code == 302


def test_reset_requests_are_limited_to_three_an_hour_per_address(
    session, client, customer, frozen_now
):
    start = frozen_now(now_utc())
    answers = [ask_for_reset(client, "jo@example.com") for _ in range(5)]

    assert {a.status_code for a in answers} == {200}
    assert len(emails(session, "jo@example.com", SUBJECT_RESET)) == 3
    frozen_now(start + timedelta(hours=1, minutes=1))
    ask_for_reset(client, "jo@example.com")
    assert len(emails(session, "jo@example.com", SUBJECT_RESET)) == 4


def test_a_reset_also_verifies_the_email_address(session, client):
    user, _, _ = create_customer(session, email="jo@example.com", email_verified_at=None)
    path = emailed_reset_path(client, session)

    client.post_form(path, {"password": NEW_PASSWORD})

    assert session.get(User, user.id).email_verified_at is not None


def test_an_inactive_user_is_sent_no_reset_link(session, client):
    create_customer(session, email="gone@example.com", active=False)

    response = ask_for_reset(client, "gone@example.com")

    assert ANSWER in response.get_data(as_text=True)
    assert emails(session, "gone@example.com") == []


def test_a_bad_email_on_the_reset_form_gets_422(client):
    response = client.post_form("/reset", {"email": "not an address"})

    assert response.status_code == 422
    assert "Enter an e-mail address like name@example.com." in response.get_data(as_text=True)


def test_logging_out_forgets_the_remember_me_cookie(session, client, auth, customer):
    auth.login("jo@example.com", remember=True)

    auth.logout()
    client.delete_cookie("session")

    assert client.get_cookie("remember_token") is None
    assert client.get("/profile").status_code == 302
