"""The `portal` commands an operator runs by hand: migrate on a fresh checkout,
create-user (staff, and customers of an account), and the local webhook sink."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from portal.accounts.models import Contact, User
from portal.accounts.services import add_contact
from portal.app import create_app
from tests.factories import create_account, create_location, create_territory, create_user

PASSWORD = "harbour lights at dusk"


def test_migrate_on_a_fresh_checkout_with_a_secret_key_makes_the_instance_folder(
    monkeypatch, tmp_path
):
    for name in [n for n in os.environ if n.startswith("PORTAL_")]:
        monkeypatch.delenv(name)
    instance = tmp_path / "checkout" / "instance"
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("PORTAL_SECRET_KEY", "set-by-the-operator")
    app = create_app()
    try:
        result = app.test_cli_runner().invoke(args=["migrate"])
    finally:
        app.extensions["portal.engine"].dispose()

    assert result.exit_code == 0, result.output
    assert "newest schema" in result.output
    assert (instance / "portal.db").is_file()
    assert not (instance / "secret_key").exists()  # the operator's key is the one used


# --- create-user ----------------------------------------------------------------------------


def create_user_args(*extra: str, email: str = "chloe@example.com") -> list[str]:
    return [
        "create-user",
        "--email",
        email,
        "--name",
        "Chloe Martin",
        "--password",
        PASSWORD,
        *extra,
    ]


def user_named(session, email: str = "chloe@example.com") -> User | None:
    session.expire_all()
    return session.scalar(sa.select(User).where(User.email == email))


def test_create_user_makes_a_customer_of_the_account_given_by_number(session, runner, client, auth):
    account = create_account(session, name="Harbour Lane Dental")
    session.commit()

    result = runner.invoke(
        args=create_user_args("--role", "customer", "--account", str(account.id))
    )

    assert result.exit_code == 0, result.output
    assert "Created customer chloe@example.com of Harbour Lane Dental." in result.output
    user = user_named(session)
    assert (user.role, user.account_id) == ("customer", account.id)
    assert user.email_verified_at is not None  # an admin vouches for the address
    assert auth.login("chloe@example.com", PASSWORD).headers["Location"] == "/"


def test_create_user_finds_the_account_by_its_name_in_any_case(session, runner):
    account = create_account(session, name="Harbour Lane Dental")
    session.commit()

    result = runner.invoke(
        args=create_user_args("--role", "customer", "--account", "harbour lane DENTAL")
    )

    assert result.exit_code == 0, result.output
    assert user_named(session).account_id == account.id


def test_a_contact_on_file_with_the_address_gets_the_log_in_rather_than_a_twin(session, runner):
    account = create_account(session)
    add_contact(session, account, full_name="Chloe Martin", email="chloe@example.com")
    session.commit()

    result = runner.invoke(
        args=create_user_args("--role", "customer", "--account", str(account.id))
    )

    assert result.exit_code == 0, result.output
    (contact,) = session.scalars(sa.select(Contact).where(Contact.account_id == account.id))
    assert contact.user_id == user_named(session).id


def test_a_customer_gets_the_time_zone_of_the_accounts_territory(session, runner):
    account = create_account(session)
    create_location(
        session, account, territory=create_territory(session, time_zone="America/New_York")
    )
    session.commit()

    runner.invoke(args=create_user_args("--role", "customer", "--account", str(account.id)))

    assert user_named(session).time_zone == "America/New_York"


@pytest.mark.parametrize("reference", ["4242", "Nobody Ltd"])
def test_an_unknown_account_is_refused_and_nobody_is_created(session, runner, reference):
    create_account(session, name="Harbour Lane Dental")
    session.commit()

    result = runner.invoke(args=create_user_args("--role", "customer", "--account", reference))

    assert result.exit_code == 1
    assert "There is no customer account" in result.output
    assert reference in result.output
    assert user_named(session) is None


def test_two_accounts_of_one_name_ask_for_the_number(session, runner):
    first = create_account(session, name="Corner Shop")
    second = create_account(session, name="Corner Shop")
    session.commit()

    result = runner.invoke(args=create_user_args("--role", "customer", "--account", "Corner Shop"))

    assert result.exit_code == 1
    assert f"numbers {first.id}, {second.id}" in result.output
    assert user_named(session) is None


def test_a_customer_without_an_account_is_refused_with_what_to_do_instead(session, runner):
    result = runner.invoke(args=create_user_args("--role", "customer"))

    assert result.exit_code == 2
    assert "give --account" in result.output
    assert "/signup" in result.output
    assert user_named(session) is None


def test_staff_are_given_no_account(session, runner):
    account = create_account(session)
    session.commit()

    result = runner.invoke(
        args=create_user_args("--role", "scheduler", "--account", str(account.id))
    )

    assert result.exit_code == 2
    assert "--account is for customers only" in result.output
    assert user_named(session) is None


def test_create_user_still_makes_staff_users(session, runner):
    result = runner.invoke(args=create_user_args("--role", "manager"))

    assert result.exit_code == 0, result.output
    assert "Created manager chloe@example.com." in result.output
    user = user_named(session)
    assert (user.role, user.account_id) == ("manager", None)


def test_a_taken_address_is_refused_by_create_user(session, runner):
    account = create_account(session)
    create_user(session, email="chloe@example.com")
    session.commit()

    result = runner.invoke(
        args=create_user_args("--role", "customer", "--account", str(account.id))
    )

    assert result.exit_code == 1
    assert "already exists" in result.output
