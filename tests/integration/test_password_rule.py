"""One password rule everywhere a password is chosen: sign-up, reset, invitations (of a
customer's contact and of staff), the profile and `portal create-user`. Passwords that
only look long enough are refused with the reason, in words; a long passphrase is
answered, never a 500."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from portal.accounts.emails import SUBJECT_INVITE, SUBJECT_RESET, SUBJECT_STAFF_INVITE
from portal.accounts.invitations import invite_contact, invite_staff_user
from portal.accounts.models import User
from portal.notifications.models import OutboxMessage
from tests.factories import create_account, create_customer, create_territory, create_user

# Finding 5's examples: the length rule let each of them through.
WEAK = ["Summer2024!", "qwertyuiop1", "iloveyou2"]
GOOD = "harbour lights at dusk"
# 200 characters (the most a password may have): zxcvbn itself refuses more than 72.
LONG = ("tide tables for the north pier " * 7)[:200]
REFUSED = "That password is too easy to guess."


def link_path(session, to: str, subject: str, prefix: str) -> str:
    message = session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.recipient == to, OutboxMessage.subject == subject)
        .order_by(OutboxMessage.id.desc())
    ).first()
    match = re.search(rf"https?://\S+/{prefix}/[A-Za-z0-9_.\-]+", message.body_text)
    return urlsplit(match.group(0)).path


def refusal(response) -> str:
    assert response.status_code == 422, response.status_code
    page = response.get_data(as_text=True)
    assert REFUSED in page
    return page


@pytest.mark.parametrize("weak", WEAK)
def test_sign_up_refuses_a_guessable_password_and_says_why(session, client, weak):
    create_territory(session, name="London", prefixes=["SW"])
    data = {
        "full_name": "Jo Bloggs",
        "email": "jo@example.com",
        "password": weak,
        "time_zone": "Europe/London",
        "label": "Home",
        "street": "1 Acacia Avenue",
        "city": "London",
        "postal_code": "SW1A 1AA",
        "country": "GB",
    }

    page = refusal(client.post_form("/signup", data))

    assert "common" in page  # zxcvbn's own warning: it is (like) a common password
    assert "Add another word or two" in page
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_sign_up_refuses_the_persons_own_name_as_a_password(session, client):
    create_territory(session, name="London", prefixes=["SW"])
    data = {
        "full_name": "Philippa Kowalczyk",
        "email": "pk@example.com",
        "password": "kowalczyk1990",
        "time_zone": "Europe/London",
        "label": "Home",
        "street": "1 Acacia Avenue",
        "city": "London",
        "postal_code": "SW1A 1AA",
        "country": "GB",
    }

    page = refusal(client.post_form("/signup", data))

    assert "It uses your name or e-mail address, which others know." in page


@pytest.mark.parametrize("weak", WEAK)
def test_a_reset_refuses_a_guessable_password(session, client, auth, weak):
    create_customer(session, email="jo@example.com")
    client.post_form("/reset", {"email": "jo@example.com"})
    path = link_path(session, "jo@example.com", SUBJECT_RESET, "reset")

    refusal(client.post_form(path, {"password": weak}))

    assert auth.login("jo@example.com", weak).status_code == 401
    assert auth.login("jo@example.com", "demo").status_code == 302


@pytest.mark.parametrize("weak", WEAK)
def test_a_contacts_invitation_refuses_a_guessable_password(session, client, weak):
    scheduler = create_user(session, role="scheduler")
    invite_contact(
        session,
        create_account(session),
        full_name="New Person",
        email="new@example.com",
        invited_by=scheduler,
    )
    path = link_path(session, "new@example.com", SUBJECT_INVITE, "invite")

    refusal(client.post_form(path, {"password": weak, "time_zone": "Europe/London"}))

    user = session.scalar(sa.select(User).where(User.email == "new@example.com"))
    assert user.password_hash is None


@pytest.mark.parametrize("weak", WEAK)
def test_a_staff_invitation_refuses_a_guessable_password(session, client, weak):
    admin = create_user(session, role="admin")
    invite_staff_user(
        session,
        admin,
        full_name="New Tech",
        email="tech@example.com",
        role="agent",
        time_zone="Europe/London",
    )
    path = link_path(session, "tech@example.com", SUBJECT_STAFF_INVITE, "invite")

    refusal(client.post_form(path, {"password": weak, "time_zone": "Europe/London"}))

    user = session.scalar(sa.select(User).where(User.email == "tech@example.com"))
    assert user.password_hash is None


@pytest.mark.parametrize("weak", WEAK)
def test_the_profile_refuses_a_guessable_new_password(session, client, auth, weak):
    create_customer(session, email="jo@example.com")
    auth.login("jo@example.com")

    refusal(
        client.post_form(
            "/profile/password",
            {"current_password": "demo", "password": weak},
            form_url="/profile",
        )
    )

    auth.logout()
    assert auth.login("jo@example.com", "demo").status_code == 302


@pytest.mark.parametrize("weak", WEAK)
def test_create_user_refuses_a_guessable_password(session, runner, weak):
    result = runner.invoke(
        args=[
            "create-user",
            *("--email", "chloe@example.com", "--name", "Chloe Martin"),
            *("--role", "scheduler", "--password", weak),
        ]
    )

    assert result.exit_code != 0
    assert REFUSED in result.output
    assert session.scalar(sa.select(User).where(User.email == "chloe@example.com")) is None


def test_create_user_refuses_a_password_made_of_the_users_name(session, runner):
    result = runner.invoke(
        args=[
            "create-user",
            *("--email", "chloe@example.com", "--name", "Chloe Martin"),
            *("--role", "scheduler", "--password", "chloemartin"),
        ]
    )

    assert result.exit_code != 0
    assert "your name or e-mail address" in result.output


@pytest.mark.parametrize(
    ("password", "accepted"),
    [(LONG, True), ("a" * 200, False), (GOOD + " " + "x" * 150, True)],
    ids=["passphrase", "one-letter", "good-then-padding"],
)
def test_a_200_character_password_gets_an_answer(session, client, auth, password, accepted):
    assert len(password) > 72
    create_customer(session, email="jo@example.com")
    auth.login("jo@example.com")

    response = client.post_form(
        "/profile/password",
        {"current_password": "demo", "password": password[:200]},
        form_url="/profile",
    )

    if accepted:
        assert response.status_code in (200, 302)  # the profile again, or sent to it
        auth.logout()
        assert auth.login("jo@example.com", password[:200]).status_code == 302
    else:
        refusal(response)
