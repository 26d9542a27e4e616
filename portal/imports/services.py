"""An import's life (portal/imports/models.py): kept and checked, then applied or
discarded; a file applied once is a "duplicate" ever after.

Everything happens in the caller's transaction: the route or the job commits. The kind
(portal/imports/kinds.py) always runs inside a savepoint, so what it wrote is undone
whenever the outcome is not "applied": a dry run always, an apply when a row turned bad
since the dry run, or when the kind raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from portal.accounts.models import User
from portal.db import insert_many
from portal.errors import Invalid, NotFound
from portal.formatting import fmt_datetime, org_zone
from portal.imports.kinds import FileProblem, ImportKind, KindResult, kind_of
from portal.imports.models import IMPORT_SOURCES, ROW_OUTCOMES, Import, ImportRow
from portal.imports.storage import store_stream, stored_file
from portal.pagination import Page, paginate
from portal.timeutil import now_utc
from portal.webhooks.services import queue_to_subscribers

# Row outcomes are written in batches of this many (one statement each on PostgreSQL).
ROW_BATCH = 10_000
FILENAME_MAX = 255


@dataclass(frozen=True)
class ImportSettings:
    folder: Path  # where raw files are kept (PORTAL_IMPORT_DIR)
    max_bytes: int  # the largest file taken (PORTAL_IMPORT_MAX_MB)


def import_settings() -> ImportSettings:
    """The app's import folder and size limit."""
    config = current_app.config
    return ImportSettings(Path(config["IMPORT_DIR"]), int(config["IMPORT_MAX_BYTES"]))


def kind_or_invalid(kind: str) -> ImportKind:
    """The registered kind called `kind`; Invalid when there is none."""
    found = kind_of(kind)
    if found is None:
        raise Invalid(f"There is no kind of import called {kind!r}.", field="kind")
    return found


def raw_file_path(imp: Import) -> Path:
    """Where the import's raw file is kept (for its download)."""
    return stored_file(import_settings().folder, imp.stored_path)


# --- checking and applying ------------------------------------------------------------------


def check_file(
    session: so.Session,
    kind: str,
    stream: BinaryIO,
    filename: str,
    *,
    source: str,
    by: User | None,
) -> Import:
    """Keep the file and dry-run it: "checked" (no error: ready to apply), "rejected"
    (errors, each row named) or "duplicate" (this file was applied before)."""
    imp, found = _received(session, kind, stream, filename, source=source, by=by)
    if imp.status == "duplicate":
        return imp
    result, problem = _dry_run(session, found, imp, by=by)
    _record(session, imp, result, problem)
    return imp


def import_now(
    session: so.Session,
    kind: str,
    stream: BinaryIO,
    filename: str,
    *,
    source: str,
    by: User | None,
) -> Import:
    """Keep the file and, when no row has an error, apply it at once ("applied"); else
    "rejected" or "duplicate", nothing applied. The watched folders and the API use it.

    One run of the kind does both: applying checks every row first and writes nothing
    when one is bad, which is what a dry run followed at once by the apply would do."""
    imp, found = _received(session, kind, stream, filename, source=source, by=by)
    if imp.status == "duplicate":
        return imp
    _apply(session, found, imp, by=by)
    return imp


def apply_import(session: so.Session, imp: Import, *, by: User | None) -> Import:
    """Apply a checked import, all or nothing: the kind checks every row again against
    the data as it is now; a row that turned bad since the dry run rejects the whole
    import (its rows then show why) and nothing is written."""
    _lock(session, imp)
    if imp.status == "applied":
        when = fmt_datetime(imp.applied_at, org_zone())
        raise Invalid(f"{imp.number} was applied on {when}: nothing to do.")
    if imp.status != "checked":
        raise Invalid(f"Only a checked import can be applied; {imp.number} is {imp.status}.")
    if _mark_if_duplicate(session, imp):
        return imp
    _apply(session, kind_or_invalid(imp.kind), imp, by=by)
    return imp


def discard_import(session: so.Session, imp: Import, *, by: User | None) -> Import:
    """Drop a checked import without applying it (its file and rows stay on record)."""
    _lock(session, imp)
    if imp.status != "checked":
        raise Invalid(f"Only a checked import can be discarded; {imp.number} is {imp.status}.")
    imp.status = "discarded"
    imp.message = f"Discarded by {by.full_name}." if by is not None else "Discarded."
    session.flush()
    return imp


def _received(
    session: so.Session,
    kind: str,
    stream: BinaryIO,
    filename: str,
    *,
    source: str,
    by: User | None,
) -> tuple[Import, ImportKind]:
    """Keep the file and record the Import ("checked" for now, or "duplicate")."""
    found = kind_or_invalid(kind)
    if source not in IMPORT_SOURCES:
        raise ValueError(f"unknown import source {source!r}")
    settings = import_settings()
    kept = store_stream(stream, settings.folder, max_bytes=settings.max_bytes)
    imp = Import(
        kind=found.kind,
        source=source,
        filename=_plain_name(filename),
        sha256=kept.sha256,
        size_bytes=kept.size,
        stored_path=kept.path,
        status="checked",
        message="",
        created_by_id=by.id if by is not None else None,
        created_at=now_utc(),
        meta={},
    )
    session.add(imp)
    session.flush()
    _mark_if_duplicate(session, imp)
    return imp, found


def _plain_name(filename: str) -> str:
    """The file's own name, without any folder a browser or a client sent with it."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return (name or "unnamed")[:FILENAME_MAX]


def _mark_if_duplicate(session: so.Session, imp: Import) -> bool:
    """Mark `imp` a duplicate when another import of the same file was applied."""
    applied = session.scalar(
        sa.select(Import).where(
            Import.kind == imp.kind,
            Import.sha256 == imp.sha256,
            Import.status == "applied",
            Import.id != imp.id,
        )
    )
    if applied is None:
        return False
    imp.status = "duplicate"
    imp.duplicate_of_id = applied.id
    imp.checked_at = now_utc()
    imp.message = (
        f"This file was applied as {applied.number} on "
        f"{fmt_datetime(applied.applied_at, org_zone())}: nothing to do."
    )
    session.flush()
    return True


def _lock(session: so.Session, imp: Import) -> None:
    """Read the import again under a row lock: two people pressing Apply (or Apply and
    Discard) at once are served one after the other, the second seeing the first's end."""
    session.flush()
    session.execute(
        sa.select(Import)
        .where(Import.id == imp.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _dry_run(
    session: so.Session, kind: ImportKind, imp: Import, *, by: User | None
) -> tuple[KindResult, FileProblem | None]:
    """Run the kind with apply=False in a savepoint that is always rolled back (a kind
    that writes by mistake writes nothing). Returns the result, or the file's problem."""
    savepoint = session.begin_nested()
    try:
        return kind.run(session, raw_file_path(imp), imp, apply=False, by=by), None
    except FileProblem as problem:
        return KindResult(), problem
    finally:
        savepoint.rollback()


def _apply(session: so.Session, kind: ImportKind, imp: Import, *, by: User | None) -> None:
    """Run the kind with apply=True in a savepoint and record the outcome: "applied", or
    "rejected" (nothing written), or "duplicate" when a concurrent apply of the same
    file won the race (the partial unique index refuses the second)."""
    path = raw_file_path(imp)
    savepoint = session.begin_nested()
    try:
        result = kind.run(session, path, imp, apply=True, by=by)
        session.flush()  # the kind's own writes: their errors are the kind's, not a race
    except FileProblem as problem:
        savepoint.rollback()
        _record(session, imp, KindResult(), problem)
        return
    except BaseException:
        savepoint.rollback()
        raise
    if result.error_count:
        savepoint.rollback()
        _record(session, imp, result, None)
        return
    try:
        with session.begin_nested():  # the status alone: the index may refuse it
            imp.status = "applied"
            imp.applied_at = now_utc()
            imp.applied_by_id = by.id if by is not None else None
            session.flush()
    except sa.exc.IntegrityError:
        savepoint.rollback()
        session.refresh(imp)
        if not _mark_if_duplicate(session, imp):
            raise
        return
    savepoint.commit()
    _record(session, imp, result, None)
    queue_to_subscribers(session, WEBHOOK_EVENT, lambda: import_data(imp), imp.applied_at)


# The webhook event an applied import sends (to the endpoints subscribed to it).
WEBHOOK_EVENT = "import.applied"


def import_data(imp: Import) -> dict:
    """The `import.applied` webhook's data: what came in and what it did (no row's
    content: the organisation's systems fetch the details from the API)."""
    return {
        "import": {
            "id": imp.id,
            "number": imp.number,
            "kind": imp.kind,
            "source": imp.source,
            "filename": imp.filename,
            "sha256": imp.sha256,
            "rows": imp.row_count,
            "new": imp.new_count,
            "changed": imp.changed_count,
            "unchanged": imp.unchanged_count,
            "applied_at": imp.applied_at.isoformat() if imp.applied_at else None,
        }
    }


def _record(
    session: so.Session, imp: Import, result: KindResult, problem: FileProblem | None
) -> None:
    """Store the run's counts and row outcomes on `imp` (replacing an earlier run's) and
    set its status from them, unless it is "applied" already."""
    session.execute(sa.delete(ImportRow).where(ImportRow.import_id == imp.id))
    _store_rows(session, imp.id, result)
    imp.row_count = result.row_count
    imp.new_count = result.new_count
    imp.changed_count = result.changed_count
    imp.unchanged_count = result.unchanged_count
    imp.error_count = result.error_count
    imp.checked_at = now_utc()
    if result.meta:
        imp.meta = {**(imp.meta or {}), **result.meta}
    if problem is not None:
        imp.status = "rejected"
        imp.message = _storable(problem_message(problem))
    elif result.error_count:
        imp.status = "rejected"
        imp.message = (
            f"{result.error_count:,} row{'' if result.error_count == 1 else 's'} "
            f"{'has an error' if result.error_count == 1 else 'have errors'}: nothing was "
            "applied. Correct the file and upload it again."
        )
    elif imp.status != "applied":
        imp.status = "checked"
        imp.message = ""
    else:
        imp.message = ""
    session.flush()


def problem_message(problem: FileProblem) -> str:
    """The file's problem with where it is: "Not valid UTF-8 (line 3, column days)"."""
    where = []
    if problem.line is not None:
        where.append(f"line {problem.line}")
    if problem.column:
        where.append(f"column {problem.column}")
    return f"{problem.message} ({', '.join(where)})" if where else problem.message


def _store_rows(session: so.Session, import_id: int, result: KindResult) -> None:
    """Write the run's row outcomes: COPY on PostgreSQL (150,000 rows in about a second,
    against five with INSERT ... SELECT unnest), batched inserts elsewhere."""
    rows = (
        (
            import_id,
            row.line,
            _storable(row.key or "")[:120],
            _known_outcome(row.outcome),
            _storable(row.column)[:60] if row.column else None,
            _storable(row.message or ""),
        )
        for row in result.rows
    )
    if session.get_bind().dialect.name == "postgresql":
        _copy_rows(session, rows)
        return
    names = ("import_id", "line", "key", "outcome", "column", "message")
    batch: list[dict] = []
    for row in rows:
        batch.append(dict(zip(names, row, strict=True)))
        if len(batch) >= ROW_BATCH:
            insert_many(session, ImportRow.__table__, batch)
            batch = []
    insert_many(session, ImportRow.__table__, batch)


def _copy_rows(session: so.Session, rows) -> None:
    # The session's own connection, so the rows are in its transaction (and savepoint).
    cursor = session.connection().connection.driver_connection.cursor()
    statement = 'COPY import_rows (import_id, line, key, outcome, "column", message) FROM STDIN'
    with cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _storable(text: str) -> str:
    """Text from a file as the database can keep it: PostgreSQL refuses NUL and lone
    surrogates (a key or a message may quote a broken row)."""
    if text.isascii() and "\x00" not in text:
        return text
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _known_outcome(outcome: str) -> str:
    if outcome not in ROW_OUTCOMES:
        raise ValueError(f"unknown row outcome {outcome!r}")
    return outcome


# --- reading --------------------------------------------------------------------------------


def get_import(session: so.Session, import_id: int) -> Import:
    """The import with that id; NotFound otherwise."""
    imp = session.get(Import, import_id)
    if imp is None:
        raise NotFound("There is no such import.")
    return imp


def list_imports(
    session: so.Session, kind: str | None = None, page: int = 1, *, per_page: int = 25
) -> Page:
    """Imports, newest first, of one kind or all."""
    query = sa.select(Import).options(so.selectinload(Import.created_by))
    if kind:
        query = query.where(Import.kind == kind)
    query = query.order_by(Import.created_at.desc(), Import.id.desc())
    return paginate(session, query, page, per_page)


def rows_of(
    session: so.Session,
    imp: Import,
    outcome: str | None = None,
    page: int = 1,
    *,
    per_page: int = 50,
) -> Page:
    """The import's stored row outcomes, errors first, then by line; or one outcome's."""
    query = sa.select(ImportRow).where(ImportRow.import_id == imp.id)
    if outcome:
        if outcome not in ROW_OUTCOMES:
            raise Invalid(f"There is no row outcome {outcome!r}.", field="outcome")
        query = query.where(ImportRow.outcome == outcome)
    errors_first = sa.case((ImportRow.outcome == "error", 0), else_=1)
    query = query.order_by(errors_first, ImportRow.line, ImportRow.id)
    return paginate(session, query, page, per_page)


def first_errors(session: so.Session, imp: Import, limit: int = 100) -> list[ImportRow]:
    """The import's first `limit` errors, by line (what the API answers with)."""
    return list(
        session.scalars(
            sa.select(ImportRow)
            .where(ImportRow.import_id == imp.id, ImportRow.outcome == "error")
            .order_by(ImportRow.line, ImportRow.id)
            .limit(limit)
        )
    )


def summary(imp: Import) -> str:
    """ "1,204 rows: 3 new, 40 changed, 1,161 unchanged, 0 errors"."""
    rows = f"{imp.row_count:,} row{'' if imp.row_count == 1 else 's'}"
    errors = f"{imp.error_count:,} error{'' if imp.error_count == 1 else 's'}"
    return (
        f"{rows}: {imp.new_count:,} new, {imp.changed_count:,} changed, "
        f"{imp.unchanged_count:,} unchanged, {errors}"
    )
