"""Wrong passwords slow an account down instead of locking it (issue #12, finding 6).

Five failures from anywhere used to lock any account, an admin's included, for 15
minutes. Now the per-address limit stays, while past LOGIN_MAX_FAILURES each further
attempt at an account waits 2, 4, 8 ... seconds (at most LOGIN_LOCK_MINUTES), answered
with one neutral message whatever the password and whether or not the e-mail exists.
The owner on a device that logged in before (a signed cookie tied to the user and its
password) is not slowed by anybody else's failures.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.accounts.models import LoginAttempt
from tests.factories import NOW, create_customer, create_user

WRONG = "That e-mail and password do not match an active account."
SLOWED = "Too many failed attempts. Please wait"
NEW_PASSWORD = "staple tide lantern"


def browser(app, address: str = "127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def attempt(client, email: str, password: str):
    return client.post_form("/login", {"email": email, "password": password})


def page(response) -> str:
    return response.get_data(as_text=True)


def known_device(app, email: str):
    """A browser the owner logged in on (and out of): it holds the device cookie."""
    laptop = browser(app, "198.51.100.20")
    assert attempt(laptop, email, "demo").status_code == 302
    laptop.post_form("/logout", form_url="/")
    return laptop


@pytest.mark.parametrize("role", ["admin", "customer"])
def test_strangers_wrong_passwords_do_not_lock_out_the_owner_on_a_known_device(
    app, session, frozen_now, role
):
    frozen_now(NOW)
    user = create_user(session, role=role, email="owner@example.com")
    session.commit()
    laptop = known_device(app, user.email)
    stranger = browser(app, "203.0.113.9")
    for _ in range(10):
        attempt(stranger, user.email, "guess")

    response = attempt(laptop, user.email, "demo")

    assert response.status_code == 302
    assert laptop.get("/profile").status_code == 200


def test_past_the_limit_each_failure_doubles_the_wait(app, session, frozen_now):
    frozen_now(NOW)
    user, _, _ = create_customer(session, email="jo@example.com")
    stranger = browser(app, "203.0.113.9")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert page(attempt(stranger, user.email, "guess")).count(WRONG) == 1
    owner = browser(app, "198.51.100.20")  # a new device: it waits like anyone

    frozen_now(NOW + timedelta(seconds=1))
    too_soon = attempt(owner, user.email, "demo")
    assert too_soon.status_code == 401 and SLOWED in page(too_soon)
    assert "wait 1 second" in page(too_soon)

    frozen_now(NOW + timedelta(seconds=2))  # 2 s after the fifth failure: one more try
    assert WRONG in page(attempt(stranger, user.email, "guess"))

    frozen_now(NOW + timedelta(seconds=2 + 3))  # after the sixth, 4 s
    assert SLOWED in page(attempt(owner, user.email, "demo"))
    frozen_now(NOW + timedelta(seconds=2 + 4))
    assert attempt(owner, user.email, "demo").status_code == 302


def test_the_wait_is_capped_at_the_lock_minutes(app, session, frozen_now):
    frozen_now(NOW)
    user, _, _ = create_customer(session, email="jo@example.com")
    for n in range(30):  # a botnet's failures, one per address
        session.add(LoginAttempt(email=user.email, remote_addr=f"192.0.2.{n}", at=NOW))
    session.commit()
    owner = browser(app, "198.51.100.20")
    lock = timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"])

    frozen_now(NOW + lock - timedelta(seconds=1))
    assert SLOWED in page(attempt(owner, user.email, "demo"))

    frozen_now(NOW + lock)
    assert attempt(owner, user.email, "demo").status_code == 302


def test_a_slowed_answer_is_the_same_for_a_right_password_a_wrong_one_and_an_unknown_email(
    app, session, frozen_now
):
    frozen_now(NOW)
    create_customer(session, email="jo@example.com")
    stranger = browser(app, "203.0.113.9")
    for email in ("jo@example.com", "nobody@example.com"):
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            attempt(stranger, email, "guess")

    answers = [
        attempt(browser(app, "198.51.100.20"), email, password)
        for email, password in [
            ("jo@example.com", "demo"),
            ("jo@example.com", "guess"),
            ("nobody@example.com", "demo"),
        ]
    ]

    assert {a.status_code for a in answers} == {401}
    messages = {page(a).split('role="alert">', 1)[1].split("<", 1)[0] for a in answers}
    assert len(messages) == 1 and SLOWED in messages.pop()


def test_the_per_address_limit_still_holds(app, session, frozen_now):
    frozen_now(NOW)
    create_customer(session, email="jo@example.com")
    office = browser(app, "203.0.113.9")
    for n in range(app.config["LOGIN_MAX_FAILURES"] * 4):
        attempt(office, f"guess{n}@example.com", "guess")

    response = attempt(office, "jo@example.com", "demo")

    assert response.status_code == 401
    assert f"Please wait {app.config['LOGIN_LOCK_MINUTES']} minutes" in page(response)


def test_a_known_device_is_trusted_only_for_its_own_user(app, session, frozen_now):
    frozen_now(NOW)
    create_customer(session, email="jo@example.com")
    create_customer(session, email="ann@example.com")
    session.commit()
    laptop = known_device(app, "jo@example.com")
    stranger = browser(app, "203.0.113.9")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(stranger, "ann@example.com", "guess")

    assert SLOWED in page(attempt(laptop, "ann@example.com", "demo"))


def test_a_known_device_is_slowed_after_failures_of_its_own(app, session, frozen_now):
    frozen_now(NOW)
    create_customer(session, email="jo@example.com")
    session.commit()
    laptop = known_device(app, "jo@example.com")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert WRONG in page(attempt(laptop, "jo@example.com", "guess"))

    assert SLOWED in page(attempt(laptop, "jo@example.com", "demo"))


def test_a_new_password_forgets_the_known_devices(app, session, frozen_now):
    frozen_now(NOW)
    create_customer(session, email="jo@example.com")
    session.commit()
    laptop = known_device(app, "jo@example.com")
    phone = browser(app, "198.51.100.30")
    attempt(phone, "jo@example.com", "demo")
    phone.post_form(
        "/profile/password",
        {"current_password": "demo", "password": NEW_PASSWORD},
        form_url="/profile",
    )
    phone.post_form("/logout", form_url="/")
    stranger = browser(app, "203.0.113.9")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(stranger, "jo@example.com", "guess")

    assert SLOWED in page(attempt(laptop, "jo@example.com", NEW_PASSWORD))
    assert attempt(phone, "jo@example.com", NEW_PASSWORD).status_code == 302


def test_a_forged_device_cookie_is_not_trusted(app, session, frozen_now):
    frozen_now(NOW)
    create_customer(session, email="jo@example.com")
    session.commit()
    laptop = known_device(app, "jo@example.com")
    value = laptop.get_cookie("portal_device").value
    forger = browser(app, "203.0.113.9")
    forger.set_cookie("portal_device", value[:-4] + ("AAAA" if value[-4:] != "AAAA" else "BBBB"))
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(forger, "jo@example.com", "guess")

    assert SLOWED in page(attempt(forger, "jo@example.com", "demo"))


def test_strangers_wrong_passwords_do_not_stop_the_owner_changing_the_password(
    app, session, frozen_now
):
    frozen_now(NOW)
    create_customer(session, email="jo@example.com")
    session.commit()
    laptop = browser(app, "198.51.100.20")
    attempt(laptop, "jo@example.com", "demo")
    stranger = browser(app, "203.0.113.9")
    for _ in range(10):
        attempt(stranger, "jo@example.com", "guess")

    response = laptop.post_form(
        "/profile/password",
        {"current_password": "demo", "password": NEW_PASSWORD},
        form_url="/profile",
    )

    assert response.status_code == 302


def test_strangers_wrong_passwords_do_not_stop_the_owner_making_an_api_token(
    app, session, frozen_now
):
    frozen_now(NOW)
    create_customer(session, email="jo@example.com")
    session.commit()
    laptop = browser(app, "198.51.100.20")
    attempt(laptop, "jo@example.com", "demo")
    stranger = browser(app, "203.0.113.9")
    for _ in range(10):
        attempt(stranger, "jo@example.com", "guess")

    response = laptop.post_form(
        "/profile/tokens", {"name": "Script", "expires": "30", "current_password": "demo"}
    )

    assert response.status_code == 201
