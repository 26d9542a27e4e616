"""The shapes the imports part of the API takes and gives."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from portal.api.schemas import Text
from portal.imports.models import IMPORT_SOURCES, IMPORT_STATES, Import, ImportRow

FIRST_ERRORS = 100
KIND_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
# A file's name as the client names it: printable, no folder.
FileName = Annotated[Text, Field(min_length=1, max_length=255, pattern=r"^[^/\\\x00-\x1f]+$")]


class ImportQuery(BaseModel):
    dry_run: bool = Field(
        default=False,
        description='true: only check the file (the import stays "checked", or '
        '"rejected"; apply it on its page). false: check and, when no row has an error, '
        "apply it at once, all or nothing.",
    )
    filename: FileName | None = Field(
        default=None,
        description="The file's name, kept with the import; `<kind>.csv` or `<kind>.json` "
        "(after the Content-Type) when left out.",
    )


class ImportErrorOut(BaseModel):
    line: int = Field(
        description="The file's line (a CSV file's header is line 1), or the JSON item's number."
    )
    column: str | None
    key: str
    message: str


class ImportOut(BaseModel):
    id: int
    number: str
    kind: str
    source: Literal[IMPORT_SOURCES]  # type: ignore[valid-type]
    filename: str
    sha256: str
    size_bytes: int
    status: Literal[IMPORT_STATES] = Field(  # type: ignore[valid-type]
        description="checked (a dry run without errors), rejected (errors: nothing "
        "applied), applied, discarded, or duplicate (this file was applied before)."
    )
    message: str
    row_count: int
    new_count: int
    changed_count: int
    unchanged_count: int
    error_count: int
    created_at: datetime
    checked_at: datetime | None
    applied_at: datetime | None
    duplicate_of: str | None = Field(description="The applied import a duplicate copies.")
    errors: list[ImportErrorOut] = Field(
        description=f"The first {FIRST_ERRORS} rows in error, by line (the import's page "
        "lists them all)."
    )


def import_out(imp: Import, errors: list[ImportRow], duplicate_of: Import | None) -> ImportOut:
    return ImportOut(
        id=imp.id,
        number=imp.number,
        kind=imp.kind,
        source=imp.source,
        filename=imp.filename,
        sha256=imp.sha256,
        size_bytes=imp.size_bytes,
        status=imp.status,
        message=imp.message,
        row_count=imp.row_count,
        new_count=imp.new_count,
        changed_count=imp.changed_count,
        unchanged_count=imp.unchanged_count,
        error_count=imp.error_count,
        created_at=imp.created_at,
        checked_at=imp.checked_at,
        applied_at=imp.applied_at,
        duplicate_of=duplicate_of.number if duplicate_of is not None else None,
        errors=[
            ImportErrorOut(line=r.line, column=r.column, key=r.key, message=r.message)
            for r in errors
        ],
    )
