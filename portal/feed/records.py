"""The record types rules may watch, and the fields (and derived flags) each has."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldInfo:
    name: str
    label: str
    kind: str  # "int", "bool", "datetime", "str"
    derived: bool = False


RECORD_TYPES: dict[str, tuple[FieldInfo, ...]] = {
    "account": (
        FieldInfo("oldest_aging_days", "Oldest aging (days)", "int"),
        FieldInfo("has_aging_confirmations", "Has aging confirmation(s)", "bool", derived=True),
        FieldInfo("owner_user_id", "Owner (sales)", "int"),
    ),
    "contact": (FieldInfo("last_external_login_at", "Last log-in at the service", "datetime"),),
}
RECORD_LABELS = {"account": "Account", "contact": "Contact"}


def field_info(record_type: str, name: str) -> FieldInfo | None:
    for info in RECORD_TYPES.get(record_type, ()):
        if info.name == name:
            return info
    return None
