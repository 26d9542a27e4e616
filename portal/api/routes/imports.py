"""Imports: send a file to import (the account feed, as CSV or JSON), or read how one
went. Managers' tokens only, as the imports pages are for managers."""

from __future__ import annotations

from flask import current_app, request

from portal.accounts.models import User
from portal.api.errors import UnsupportedMediaType
from portal.api.import_schemas import FIRST_ERRORS, ImportOut, ImportQuery, import_out
from portal.api.registry import ID, PATH_WORD, operation
from portal.db import commit, get_session
from portal.errors import NotFound
from portal.imports import services as svc
from portal.imports.kinds import kind_of
from portal.imports.models import Import

MANAGER = ("manager",)
MEDIA_TYPES = {"text/csv": "csv", "application/json": "json"}


@operation(
    "POST",
    "/imports/<kind>",
    summary="Import a file (manager)",
    tag="imports",
    response=ImportOut,
    roles=MANAGER,
    query=ImportQuery,
    raw_body=tuple(MEDIA_TYPES),
    status=201,
)
def import_file(user: User, kind: str, query: ImportQuery) -> ImportOut:
    """The body is the file itself (`Content-Type: text/csv`, or `application/json` for
    a kind that takes JSON), at most PORTAL_IMPORT_MAX_MB. It is kept, checked row by
    row and, unless `dry_run=true`, applied all or nothing when no row has an error.
    The answer is the import: its status, counts and first errors with line, column and
    reason. The same file again is a "duplicate" and changes nothing."""
    if not PATH_WORD.match(kind) or kind_of(kind) is None:
        raise NotFound(f"There is no kind of import called {kind!r}.")
    media = request.mimetype
    if media not in MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"Send the file as {' or '.join(MEDIA_TYPES)} (not {media or 'no Content-Type'}).",
            field="Content-Type",
        )
    # The app takes bodies of 1 MiB; a file may be as large as an import. Set before the
    # body is touched: werkzeug checks it when the stream is opened, and while it is read.
    request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]
    filename = query.filename or f"{kind}.{MEDIA_TYPES[media]}"
    action = svc.check_file if query.dry_run else svc.import_now
    session = get_session()
    imp = action(session, kind, request.stream, filename, source="api", by=user)
    commit()
    return _out(imp)


@operation(
    "GET",
    f"/imports/<{ID}:import_id>",
    summary="An import and how it went (manager)",
    tag="imports",
    response=ImportOut,
    roles=MANAGER,
    # /imports/<a word> is where a file of that kind is sent (POST): a GET there is 405.
    errors=(405,),
)
def get_import(user: User, import_id: int) -> ImportOut:
    """The import's status, counts and first errors (line, column, reason)."""
    session = get_session()
    imp = session.get(Import, import_id)
    if imp is None:
        raise NotFound("There is no such import.")
    return _out(imp)


def _out(imp: Import) -> ImportOut:
    session = get_session()
    duplicate_of = session.get(Import, imp.duplicate_of_id) if imp.duplicate_of_id else None
    return import_out(imp, svc.first_errors(session, imp, FIRST_ERRORS), duplicate_of)
