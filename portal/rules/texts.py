"""Text with {placeholders}: a case's subject and a rule's e-mail. Checked on save (an
unknown placeholder or a stray brace is refused, naming it), filled when a rule fires."""

from __future__ import annotations

import string

from portal.errors import Invalid

PLACEHOLDERS = {
    "account_name": "The account's name",
    "account_number": "The account's number at the confirmation service",
    "contact_name": 'The contact\'s name ("there" when the case has no contact)',
    "oldest_aging_days": "The account's oldest aging, in days",
    "case_number": "The case's number (CS-000123)",
}
# A case's subject is written before the case has a number.
SUBJECT_PLACEHOLDERS = {k: v for k, v in PLACEHOLDERS.items() if k != "case_number"}


def check_text(text: str, field: str, allowed: dict[str, str] = PLACEHOLDERS) -> str:
    """`text` when each of its placeholders is known; Invalid naming the first that is not."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise Invalid(
            "A brace is not closed: write placeholders as {account_name}, and a brace "
            "itself as {{ or }}.",
            field=field,
        ) from None
    names = ", ".join("{" + name + "}" for name in allowed)
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            shown = "{" + (name or "") + "}"
            raise Invalid(f"Unknown placeholder {shown}: use {names}.", field=field)
    return text


def fill(text: str, values: dict[str, object]) -> str:
    """`text` with its placeholders filled (an unknown one is left as it was written)."""
    safe = {
        name: "" if values.get(name) is None else str(values.get(name)) for name in PLACEHOLDERS
    }
    try:
        return string.Formatter().vformat(text, (), _Keep(safe))
    except (ValueError, IndexError):  # checked on save; a hand-made row is sent as written
        return text


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
