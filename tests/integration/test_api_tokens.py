"""Personal API tokens: made and revoked on the profile's tokens page and by the CLI,
stored only as a hash, and the only way into the API (no session cookie, no CSRF)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.api.models import ApiToken
from portal.api.tokens import create_token, hash_secret
from portal.notifications.models import OutboxMessage
from tests.factories import create_customer, create_user
from tests.integration.api_world import NOW, bearer, make_world

SECRET = re.compile(r'value="(pt_[A-Za-z0-9_\-]{40})"')


@pytest.fixture
def world(session, frozen_now):
    return make_world(session, frozen_now)


def test_the_profile_links_to_the_tokens_page(client, session, auth):
    create_customer(session, email="ada@example.com")
    auth.login("ada@example.com")

    page = client.get("/profile").get_data(as_text=True)

    assert 'href="/profile/tokens"' in page


def test_a_token_made_on_the_page_is_shown_once_and_stored_only_as_a_hash(client, session, auth):
    create_user(session, role="agent", email="bo@example.com")
    auth.login("bo@example.com")

    response = client.post_form(
        "/profile/tokens", {"name": "Calendar sync", "expires": "30", "current_password": "demo"}
    )

    assert response.status_code == 201
    secret = SECRET.search(response.get_data(as_text=True)).group(1)
    token = session.scalar(sa.select(ApiToken))
    assert token.secret_hash == hash_secret(secret)
    assert secret not in {token.name, token.hint, token.secret_hash}
    assert token.expires_at is not None
    listing = client.get("/profile/tokens").get_data(as_text=True)
    assert "Calendar sync" in listing and secret not in listing


def test_a_token_without_a_name_is_refused_on_the_page(client, session, auth):
    create_customer(session, email="ada@example.com")
    auth.login("ada@example.com")

    response = client.post_form(
        "/profile/tokens", {"name": "", "expires": "never", "current_password": "demo"}
    )

    assert response.status_code == 422
    assert session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def count_tokens(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(ApiToken))


@pytest.mark.parametrize(
    ("password", "message"),
    [("", "Enter your current password."), ("not it", "That is not your current password.")],
)
def test_making_a_token_without_the_right_current_password_is_refused_on_that_field(
    client, session, auth, password, message
):
    create_customer(session, email="ada@example.com")
    auth.login("ada@example.com")

    response = client.post_form(
        "/profile/tokens", {"name": "Script", "expires": "30", "current_password": password}
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(rf'id="current_password-error">{re.escape(message)}</p>', page)
    assert count_tokens(session) == 0


def test_wrong_current_passwords_on_the_token_page_count_towards_the_lock(
    app, client, session, auth
):
    create_customer(session, email="ada@example.com")
    auth.login("ada@example.com")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post_form("/profile/tokens", {"name": "Script", "current_password": "guess"})

    response = client.post_form("/profile/tokens", {"name": "Script", "current_password": "demo"})

    assert response.status_code == 429
    assert "Too many wrong passwords" in response.get_data(as_text=True)
    assert count_tokens(session) == 0


def test_making_a_token_emails_its_owner(client, session, auth):
    create_customer(session, email="ada@example.com")
    auth.login("ada@example.com")

    client.post_form(
        "/profile/tokens", {"name": "Office sync", "expires": "30", "current_password": "demo"}
    )

    [message] = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == "ada@example.com")
    ).all()
    assert message.subject == "A new API token was made for your account"
    assert "Office sync" in message.body_text
    assert "/profile/tokens" in message.body_text


def test_a_revoked_token_no_longer_opens_the_api(client, session, auth):
    user, _, _ = create_customer(session, email="ada@example.com")
    token, secret = create_token(session, user, "Old script")
    auth.login("ada@example.com")

    response = client.post_form(f"/profile/tokens/{token.id}/revoke", form_url="/profile/tokens")

    assert response.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_nobody_revokes_another_users_token(client, session, auth):
    create_customer(session, email="ada@example.com")
    stranger, _, _ = create_customer(session)
    token, _ = create_token(session, stranger, "Theirs")
    auth.login("ada@example.com")

    response = client.post_form(f"/profile/tokens/{token.id}/revoke", form_url="/profile/tokens")

    assert response.status_code == 404
    session.refresh(token)
    assert token.revoked_at is None


def test_the_cli_prints_a_working_token(app, client, session, runner):
    create_user(session, role="scheduler", email="sam@example.com")
    session.commit()

    result = runner.invoke(args=["create-token", "--email", "sam@example.com", "--name", "ci"])

    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("pt_")
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["role"] == "scheduler"


def test_a_token_made_with_the_cli_is_e_mailed_to_its_user(session, runner):
    create_user(session, role="scheduler", email="sam@example.com")
    session.commit()

    runner.invoke(args=["create-token", "--email", "sam@example.com", "--name", "ci"])

    session.expire_all()
    recipients = session.scalars(sa.select(OutboxMessage.recipient)).all()
    assert recipients == ["sam@example.com"]


def test_the_cli_revokes_tokens_by_name(client, session, runner):
    user = create_user(session, role="scheduler", email="sam@example.com")
    _, secret = create_token(session, user, "ci")
    session.commit()

    result = runner.invoke(args=["revoke-token", "--email", "sam@example.com", "--name", "ci"])

    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_no_token_gives_401_problem(client, world):
    response = client.get("/api/v1/services")

    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] == "unauthenticated"


def test_a_session_cookie_alone_gives_401(client, auth, world):
    auth.login("ada@example.com")

    response = client.get("/api/v1/me")

    assert response.status_code == 401


def test_the_api_needs_no_csrf_token(client, world):
    response = world.book(client)

    assert response.status_code == 201


def test_an_expired_token_gives_401(client, session, world, frozen_now):
    _, secret = create_token(
        session, world.customer, "short", expires_at=NOW + timedelta(minutes=5)
    )
    frozen_now(NOW + timedelta(minutes=6))

    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_a_token_of_a_deactivated_user_gives_401(client, session, world):
    world.customer.active = False

    assert client.get("/api/v1/me", headers=world.headers()).status_code == 401


def test_using_a_token_records_when(client, session, world):
    client.get("/api/v1/me", headers=world.headers())

    token = session.scalar(sa.select(ApiToken).where(ApiToken.user_id == world.customer.id))
    assert token.last_used_at == NOW


def test_a_token_over_its_rate_limit_gets_429_with_retry_after(app, client, world):
    app.config.update(API_RATE_LIMIT=2, API_RATE_WINDOW_SECONDS=60)
    for _ in range(2):
        assert client.get("/api/v1/me", headers=world.headers()).status_code == 200

    response = client.get("/api/v1/me", headers=world.headers())

    assert response.status_code == 429
    assert response.get_json()["code"] == "rate_limited"
    assert response.headers["Retry-After"] == "60"  # the clock is frozen at a window start


def test_the_rate_limit_counts_each_user_apart(app, client, world):
    app.config.update(API_RATE_LIMIT=1)
    client.get("/api/v1/me", headers=world.headers())

    assert client.get("/api/v1/me", headers=world.headers("scheduler")).status_code == 200


def test_all_of_a_users_tokens_share_one_rate_limit(app, client, session, world):
    app.config.update(API_RATE_LIMIT=1)
    _, second = create_token(session, world.customer, "second script")
    client.get("/api/v1/me", headers=world.headers())

    response = client.get("/api/v1/me", headers=bearer(second))

    assert response.status_code == 429
    assert response.get_json()["code"] == "rate_limited"


def test_after_30_refused_tokens_in_a_minute_an_address_gets_429_with_retry_after(client, world):
    bad = bearer("pt_" + "x" * 40)
    answers = [client.get("/api/v1/me", headers=bad).status_code for _ in range(30)]

    response = client.get("/api/v1/me", headers=bad)

    assert answers == [401] * 30
    assert response.status_code == 429
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] == "rate_limited"
    assert response.headers["Retry-After"] == "60"  # the clock is frozen at a window start


def test_an_address_over_the_refusal_limit_waits_even_with_a_valid_token(app, client, world):
    app.config.update(API_AUTH_FAILURE_LIMIT=2)
    for _ in range(2):
        client.get("/api/v1/me", headers=bearer("pt_guess"))

    assert client.get("/api/v1/me", headers=world.headers()).status_code == 429


def test_refusals_are_counted_per_client_address(app, client, world):
    app.config.update(API_AUTH_FAILURE_LIMIT=2)
    for _ in range(2):
        client.get("/api/v1/me", headers=bearer("pt_guess"))

    elsewhere = client.get(
        "/api/v1/me", headers=world.headers(), environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )

    assert elsewhere.status_code == 200


def test_refusals_start_again_in_the_next_window(app, client, world, frozen_now):
    app.config.update(API_AUTH_FAILURE_LIMIT=1, API_RATE_WINDOW_SECONDS=60)
    client.get("/api/v1/me", headers=bearer("pt_guess"))
    frozen_now(NOW + timedelta(seconds=61))

    assert client.get("/api/v1/me", headers=world.headers()).status_code == 200


def test_the_rate_limit_starts_again_in_the_next_window(app, client, world, frozen_now):
    app.config.update(API_RATE_LIMIT=1, API_RATE_WINDOW_SECONDS=60)
    client.get("/api/v1/me", headers=world.headers())
    frozen_now(NOW + timedelta(seconds=61))

    assert client.get("/api/v1/me", headers=world.headers()).status_code == 200


def test_revoking_a_token_id_beyond_the_database_range_is_404(client, session, auth):
    create_customer(session, email="ada@example.com")
    auth.login("ada@example.com")

    response = client.post_form("/profile/tokens/2147483648/revoke", form_url="/profile/tokens")

    assert response.status_code == 404
