"""The import job the scheduler process runs (registered in portal/scheduler.py)."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from portal.imports.folders import pick_up_folder
from portal.imports.kinds import kind_of

log = logging.getLogger(__name__)


def pick_up_dropped_files(app: Flask) -> None:
    """Import the files dropped into each watched folder (config IMPORT_FOLDERS: kind ->
    folder), each file once and in a transaction of its own."""
    with app.app_context():
        make_session = app.extensions["portal.sessionmaker"]
        for kind, folder in (app.config.get("IMPORT_FOLDERS") or {}).items():
            if not folder:
                continue
            if kind_of(kind) is None:
                log.debug("No import kind %r is registered: %s is not watched", kind, folder)
                continue
            pick_up_folder(Path(folder), kind, make_session)
