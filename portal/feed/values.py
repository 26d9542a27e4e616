"""A feed's values from text (or JSON values): shared by the import and the hand edit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# A date more than this far ahead of the portal's clock is refused (clocks drift a little).
FUTURE_SLACK = timedelta(minutes=5)
MAX_DAYS = 36_500  # a hundred years: more is a mistake (and would not fit the column)


def parse_days(raw: object) -> int | None:
    """Oldest aging days: a whole number, 0 or more; empty (or JSON null) is unknown."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise ValueError(f"not a whole number: {raw!r}")
    if isinstance(raw, int):
        days = raw
    elif isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        days = int(raw.strip())
    else:
        raise ValueError(f"not a whole number: {raw!r}")
    if days < 0:
        raise ValueError(f"negative days: {days}")
    if days > MAX_DAYS:
        raise ValueError(f"more than {MAX_DAYS:,} days: {days}")
    return days


def parse_login(raw: object, now: datetime) -> datetime | None:
    """ISO 8601 with an offset or Z (2026-12-04T08:15:00Z), in UTC; empty is never."""
    if raw is None or raw == "":
        return None
    example = "a date and time with an offset, like 2026-12-04T08:15:00Z"
    if not isinstance(raw, str):
        raise ValueError(f"not {example}: {raw!r}")
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"not {example}: {raw!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"no offset (add Z for UTC, or +01:00...): {raw!r}")
    parsed = parsed.astimezone(UTC)
    if parsed > now + FUTURE_SLACK:
        raise ValueError(f"in the future: {raw}")
    return parsed
