"""Who keeps a customer's data: one `register` call per system, read by the export and
the anonymisation (portal/privacy/services.py).

A low module with no imports from the domains, so any system can register itself:

    register("orders", export=export_orders, anonymise=anonymise_orders)

`export(session, subject)` returns JSON-ready data for the download (or None to add
nothing); `anonymise(session, subject)` removes or replaces the person's details in the
system's tables and files. After every hook has run, a sweep replaces any remaining
mention of the person's name, e-mail or phone in every text, JSON and binary column,
so a hook only has to do what a text replacement cannot (clear an address, revoke a
token, delete a file). Tables listed in `KEEP_AS_IS` are left alone by that sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy.orm as so

# Append-only tables (the database refuses UPDATE): nothing personal is written there.
KEEP_AS_IS: set[str] = {"audit_log", "alembic_version"}


@dataclass
class Subject:
    """The customer whose data is exported or anonymised, and what identifies it."""

    user: Any
    contacts: list[Any]
    account: Any | None
    now: datetime
    instance_path: Path
    # Lower-cased texts that identify the person (name, e-mail, phone, typed names).
    needles: list[str] = field(default_factory=list)
    # The person's e-mail addresses as stored (before anonymisation replaces them).
    emails: list[str] = field(default_factory=list)
    placeholder_name: str = ""
    placeholder_email: str = ""


@dataclass(frozen=True)
class PersonalData:
    name: str
    export: Callable[[so.Session, Subject], Any] | None
    anonymise: Callable[[so.Session, Subject], None] | None


_SYSTEMS: dict[str, PersonalData] = {}


def register(
    name: str,
    *,
    export: Callable[[so.Session, Subject], Any] | None = None,
    anonymise: Callable[[so.Session, Subject], None] | None = None,
) -> None:
    """Add a system's part to the customer's download and to its anonymisation."""
    _SYSTEMS[name] = PersonalData(name, export, anonymise)


def systems() -> list[PersonalData]:
    """The registered systems, in the order they registered."""
    return list(_SYSTEMS.values())
