"""Derived fields, in one place: pure, standard library only."""

from __future__ import annotations

# "Has aging confirmation(s)": true when the oldest aging is more than this many days;
# none (unknown) and 0 to 4 are false.
AGING_THRESHOLD_DAYS = 4


def has_aging_confirmations(oldest_aging_days: int | None) -> bool:
    return oldest_aging_days is not None and oldest_aging_days > AGING_THRESHOLD_DAYS


def derive_account(values: dict) -> dict:
    """The account's derived fields from its fed values (a dict with oldest_aging_days)."""
    return {"has_aging_confirmations": has_aging_confirmations(values.get("oldest_aging_days"))}
