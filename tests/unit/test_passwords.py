"""The password rule (portal.accounts.passwords) on its own: what it refuses, what it
says, and that a password longer than zxcvbn takes is still judged."""

from __future__ import annotations

import pytest

from portal.accounts.passwords import (
    MAX_LENGTH,
    SCORED_LENGTH,
    password_weakness,
    validate_new_password,
)
from portal.errors import Invalid


def refusal(password: str, **who: str) -> str:
    with pytest.raises(Invalid) as refused:
        validate_new_password(password, **who)
    assert refused.value.field == "password"
    return refused.value.message


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Summer2024!", "This is similar to a commonly used password."),
        ("qwertyuiop1", "This is similar to a commonly used password."),
        ("iloveyou2", "This is a very common password."),
        ("12345678", "This is a top-10 common password."),
        ("zzzzzzzzzzzz", 'Repeats like "aaa" are easy to guess.'),
    ],
)
def test_guessable_passwords_are_refused_with_zxcvbns_reason(password, why):
    message = refusal(password)

    assert message.startswith("That password is too easy to guess. ")
    assert why in message
    assert "Add another word or two." in message


@pytest.mark.parametrize("password", ["jo.bloggs@example.com", "bloggs1985", "JoBloggs!"])
def test_the_persons_own_email_and_name_count_against_it(password):
    message = refusal(password, email="jo.bloggs@example.com", full_name="Jo Bloggs")

    assert "It uses your name or e-mail address, which others know." in message


@pytest.mark.parametrize(
    "password",
    ["correct horse battery", "staple tide lantern", "harbour lights at dusk", "Tr0ub4dor&3x"],
)
def test_hard_to_guess_passwords_pass(password):
    validate_new_password(password, email="jo@example.com", full_name="Jo Bloggs")


def test_length_is_checked_first():
    assert refusal("Ab1!xyz") == "Use at least 8 characters."
    assert refusal("x" * (MAX_LENGTH + 1)) == f"Use at most {MAX_LENGTH} characters."


def test_a_password_longer_than_zxcvbn_takes_is_judged_on_its_first_72_characters():
    passphrase = ("tide tables for the north pier " * 7)[:MAX_LENGTH]
    assert len(passphrase) == 200 > SCORED_LENGTH

    validate_new_password(passphrase)  # no ValueError from zxcvbn, and accepted
    assert password_weakness("q" * 200) is not None
    assert password_weakness("q" * SCORED_LENGTH + "harbour lights at dusk") is not None
