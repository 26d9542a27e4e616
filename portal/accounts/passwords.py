"""The rule for a new password, in one place: sign-up, reset, invitations, the profile
and `portal create-user` all call `validate_new_password`.

Length alone lets through "Summer2024!" and "iloveyou2". zxcvbn estimates how many
guesses an attacker with the usual lists (common passwords, words, names, keyboard
patterns, dates, l33t) would need; a score below 3 (about 10^8 guesses, an offline
attack's hour) is refused, with zxcvbn's own warning and suggestions, which say why in
plain words. The person's e-mail address and name count as words an attacker knows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from zxcvbn import zxcvbn

from portal.errors import Invalid

MIN_LENGTH = 8
MAX_LENGTH = 200
MIN_SCORE = 3
# zxcvbn refuses anything longer (ValueError), and its cost grows quickly with length. A
# longer passphrase is judged on its first 72 characters: the rest only adds to it.
SCORED_LENGTH = 72


def validate_new_password(password: str, *, email: str = "", full_name: str = "") -> None:
    """Refuse a password that is too short, too long or too easy to guess (Invalid on the
    field "password", saying why and what would be better)."""
    if len(password) < MIN_LENGTH:
        raise Invalid(f"Use at least {MIN_LENGTH} characters.", field="password")
    if len(password) > MAX_LENGTH:
        raise Invalid(f"Use at most {MAX_LENGTH} characters.", field="password")
    problem = password_weakness(password, user_inputs=_known_words(email, full_name))
    if problem:
        raise Invalid(problem, field="password")


def password_weakness(password: str, *, user_inputs: Sequence[str] = ()) -> str | None:
    """Why `password` is too easy to guess, in words for its owner; None when it is not."""
    result = zxcvbn(password[:SCORED_LENGTH], user_inputs=list(user_inputs))
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    reasons = [feedback.get("warning") or ""]
    if any(m.get("dictionary_name") == "user_inputs" for m in result["sequence"]):
        reasons.append("It uses your name or e-mail address, which others know.")
    reasons += feedback.get("suggestions") or ["Add another word or two."]
    return " ".join(["That password is too easy to guess."] + [r for r in reasons if r])


def _known_words(email: str, full_name: str) -> list[str]:
    """The e-mail address, its parts and the name's words: what an attacker aiming at
    this person tries first."""
    email, full_name = email.strip().lower(), full_name.strip().lower()
    local = email.split("@")[0]
    words = [email, local, full_name, re.sub(r"\W+", "", full_name), re.sub(r"\W+", "", local)]
    words += re.split(r"\W+", f"{email} {full_name}")
    return [w for w in dict.fromkeys(words) if len(w) >= 3]
