"""A rule's condition on one record's values, and when a change of it is a firing.

Pure: standard library only. The state stored per (rule, record) is the condition's last
value as text ("true"/"false" for turns_true/turns_false, the field's value for changed,
"seen" for created); a missing state counts as "false" for the flags, so a record the
rule has never seen fires when its condition is true, and only then.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from datetime import date, datetime

OPS = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    "!=": operator.ne,
}
OP_WORDS = {
    ">": "is more than",
    ">=": "is at least",
    "<": "is less than",
    "<=": "is at most",
    "=": "is",
    "!=": "is not",
}
FLAG_TRIGGERS = ("turns_true", "turns_false")
SEEN = "seen"
STATE_MAX = 200


def as_text(value: object) -> str:
    """A value as the state stores it (and the firing log shows it)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)[:STATE_MAX]


def as_json(value: object) -> object:
    """A value as a firing's inputs keep it (JSON: datetimes as ISO text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def condition(
    trigger: str, field: str | None, params: Mapping[str, object], values: Mapping[str, object]
) -> str | None:
    """The condition's value for a record with `values`; None when the values do not
    hold the rule's field (the change did not touch it: the rule has nothing to say)."""
    if trigger == "created":
        return SEEN
    if field is None or field not in values:
        return None
    value = values[field]
    if trigger == "changed":
        return as_text(value)
    threshold = params.get("threshold")
    if threshold is not None:
        op = OPS.get(str(params.get("op", ">")), operator.gt)
        truth = value is not None and op(value, threshold)
    else:
        truth = bool(value)
    return "true" if truth else "false"


def effective(trigger: str, stored: str | None) -> str | None:
    """The stored state, with a missing one read as "false" for the flags."""
    if stored is None and trigger in FLAG_TRIGGERS:
        return "false"
    return stored


def fires(
    trigger: str, stored: str | None, new: str, *, created: bool = False, before=None
) -> bool:
    """Whether moving from the stored state to `new` is a firing of the trigger.

    `before` is the field's value before the change (for "changed" when the rule has no
    state yet); `created` says the record was just made."""
    old = effective(trigger, stored)
    if trigger == "turns_true":
        return old != "true" and new == "true"
    if trigger == "turns_false":
        return old == "true" and new == "false"
    if trigger == "changed":
        if old is None:
            old = as_text(before)
        return old != new
    if trigger == "created":
        return created and stored is None
    return False


def needs_write(trigger: str, stored: str | None, new: str) -> bool:
    """Whether the stored state must change: a missing state is already "false" for the
    flags, so the 95% of a feed's records that stay false write nothing."""
    return effective(trigger, stored) != new


def transition_words(trigger: str, stored: str | None, new: str) -> str:
    old = effective(trigger, stored)
    return f"{old if old not in (None, '') else 'none'} → {new if new != '' else 'none'}"
