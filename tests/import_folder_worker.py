"""A process that runs the scheduler's import job once, for the two-process test
(tests/integration/test_imports_folders.py): it builds the app on the given database
with the test kind's watched folder, waits for the start signal (a file appearing), so
that the processes start together, runs `pick_up_dropped_files` and prints what it took.

    python -m tests.import_folder_worker DATABASE_URL INSTANCE FOLDER GO_FILE
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from portal.app import create_app
from portal.imports import folders
from portal.imports.jobs import pick_up_dropped_files
from tests.import_kinds import KIND, skills_kind


def main(url: str, instance: str, folder: str, go: str) -> None:
    skills_kind()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "tests-only-secret-key",
            "INSTANCE_PATH": instance,
            "DATABASE_URL": url,
            "IMPORT_FOLDERS": {KIND: folder},
        }
    )
    taken: list[str] = []
    real_claim = folders.claim

    def claim(path):
        claimed = real_claim(path)
        if claimed is not None:
            taken.append(path.name)
        return claimed

    folders.claim = claim
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not Path(go).exists():
        if time.monotonic() > deadline:
            raise SystemExit("no start signal")
        time.sleep(0.01)
    pick_up_dropped_files(app)
    app.extensions["portal.engine"].dispose()
    print(json.dumps(taken), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
