"""What an import kind (the account feed, the partner's report) gives the import framework.

The framework (portal/imports/services.py) stores the file, hashes it, records the
Import and its rows, refuses the same file twice, and runs the kind inside a savepoint.
A kind reads the stored file as a stream (never whole into memory), checks every row,
and with `apply=True` writes its changes only when no row had an error (the framework
rolls the savepoint back anyway when the result has errors or the kind raises).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.imports.models import Import


@dataclass(frozen=True)
class RowOutcome:
    line: int  # the file's line (CSV: the header is line 1) or the JSON item's number
    key: str  # the row's key (an account number, a contact id...)
    outcome: str  # "new" | "changed" | "unchanged" | "error"
    column: str | None = None  # for an error: the column it is about
    message: str = ""  # for an error: why; for a change: what ("oldest aging days 3 → 5")


class FileProblem(Exception):
    """The file as a whole cannot be read: bad encoding, a missing column, not CSV..."""

    def __init__(self, message: str, *, line: int | None = None, column: str | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass
class KindResult:
    # Outcomes worth a row: errors, new and changed rows (unchanged rows only counted,
    # unless the kind keeps them too).
    rows: list[RowOutcome] = field(default_factory=list)
    row_count: int = 0
    new_count: int = 0
    changed_count: int = 0
    unchanged_count: int = 0
    error_count: int = 0
    # What the kind wants kept on the Import (e.g. a report's date and sequence number).
    meta: dict = field(default_factory=dict)

    def add(self, outcome: RowOutcome, *, keep: bool = True) -> None:
        """Count `outcome` (and keep it, unless it is unchanged and `keep` is False)."""
        self.row_count += 1
        attr = f"{outcome.outcome}_count"
        setattr(self, attr, getattr(self, attr) + 1)
        if keep or outcome.outcome != "unchanged":
            self.rows.append(outcome)


class ImportKind(Protocol):
    kind: str  # "account_feed"
    label: str  # "Account feed"
    # The file types an upload may have, for the form's accept= ("text/csv", ".csv").
    accept: tuple[str, ...]
    # Optional (not part of the protocol): `help_text: str`, the file's format in a
    # sentence or two, shown on the upload form. A file sent through the API is named
    # `<kind>.csv` or `<kind>.json` after its Content-Type unless the client names it:
    # a kind that takes both tells them apart by `imp.filename`.

    def run(
        self,
        session: so.Session,
        path: Path,
        imp: Import,
        *,
        apply: bool,
        by: User | None,
    ) -> KindResult:
        """Check every row of the file at `path` (raise FileProblem when the file cannot
        be read at all); when `apply` and no row has an error, write the changes."""
        ...


_kinds: dict[str, ImportKind] = {}


def register_kind(kind: ImportKind) -> ImportKind:
    _kinds[kind.kind] = kind
    return kind


def kind_of(name: str) -> ImportKind | None:
    return _kinds.get(name)


def all_kinds() -> Iterable[ImportKind]:
    return list(_kinds.values())
