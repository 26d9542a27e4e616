"""Watched folders (portal/imports/folders.py, the scheduler's "pick-up-imports" job): a
dropped file is claimed, imported (checked and, if clean, applied), and moved to .done/
or to .rejected/ with its reason; two processes given the same files import each once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.imports.folders import pick_up_folder
from portal.imports.jobs import pick_up_dropped_files
from portal.imports.models import Import
from portal.workforce.models import Skill
from tests.factories import NOW
from tests.import_kinds import KIND, csv_bytes, skills_kind

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(tmp_path, app, frozen_now):
    skills_kind()
    frozen_now(NOW)
    path = tmp_path / "drop"
    path.mkdir()
    app.config["IMPORT_FOLDERS"] = {KIND: str(path)}
    return path


def drop(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def imports(session) -> list[Import]:
    session.expire_all()
    return list(session.scalars(sa.select(Import).order_by(Import.id)))


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_clean_file_is_applied_and_moved_to_done(app, session, folder):
    drop(folder, "skills.csv", csv_bytes(("oil", "Oil")))

    pick_up_dropped_files(app)

    [imp] = imports(session)
    assert (imp.status, imp.source, imp.filename, imp.created_by_id) == (
        "applied",
        "folder",
        "skills.csv",
        None,
    )
    assert session.scalar(sa.select(Skill.name).where(Skill.code == "oil")) == "Oil"
    assert names(folder / ".done") == [f"{imp.number}-skills.csv"]
    assert [p for p in names(folder) if not p.startswith(".")] == []
    assert names(folder / ".claimed") == []


def test_a_file_with_a_bad_row_is_moved_to_rejected_with_its_reason(app, session, folder):
    drop(folder, "skills.csv", csv_bytes(("oil", "Oil"), ("", "Nameless")))

    pick_up_dropped_files(app)

    [imp] = imports(session)
    assert imp.status == "rejected"
    assert session.scalar(sa.select(sa.func.count()).select_from(Skill)) == 0
    rejected = folder / ".rejected"
    assert names(rejected) == [
        f"{imp.number}-skills.csv",
        f"{imp.number}-skills.csv.reason.txt",
    ]
    reason = (rejected / f"{imp.number}-skills.csv.reason.txt").read_text()
    assert reason.startswith(f"{imp.number}: rejected. 1 row has an error: nothing was applied")
    assert f"on the import's page ({imp.number})" in reason


def test_the_same_file_dropped_again_is_a_duplicate_and_rejected(app, session, folder):
    data = csv_bytes(("oil", "Oil"))
    drop(folder, "monday.csv", data)
    pick_up_dropped_files(app)
    drop(folder, "monday.csv", data)

    pick_up_dropped_files(app)

    first, again = imports(session)
    assert (first.status, again.status) == ("applied", "duplicate")
    reason = (folder / ".rejected" / f"{again.number}-monday.csv.reason.txt").read_text()
    assert f"This file was applied as {first.number}" in reason


def test_a_name_dropped_every_day_never_overwrites_an_earlier_file(app, session, folder):
    drop(folder, "feed.csv", csv_bytes(("oil", "Oil")))
    pick_up_dropped_files(app)
    drop(folder, "feed.csv", csv_bytes(("oil", "Heating oil")))

    pick_up_dropped_files(app)

    assert len(names(folder / ".done")) == 2


def test_dotfiles_and_partial_files_are_left_alone(app, session, folder):
    for name in (".hidden.csv", "coming.csv.tmp", "coming.csv.part"):
        drop(folder, name, csv_bytes(("oil", "Oil")))
    (folder / "subfolder").mkdir()

    pick_up_dropped_files(app)

    assert imports(session) == []
    assert {".hidden.csv", "coming.csv.tmp", "coming.csv.part", "subfolder"} <= set(names(folder))


def test_a_file_over_the_size_limit_is_rejected_without_an_import(app, session, folder):
    app.config["IMPORT_MAX_BYTES"] = 10
    drop(folder, "big.csv", csv_bytes(("oil", "Oil"), ("gas", "Gas")))

    pick_up_dropped_files(app)

    assert imports(session) == []
    [note] = [n for n in names(folder / ".rejected") if n.endswith(".reason.txt")]
    assert note.endswith("-big.csv.reason.txt")
    assert "larger than" in (folder / ".rejected" / note).read_text()


def test_a_folder_of_a_kind_nobody_registered_is_not_watched(app, session, tmp_path):
    folder = tmp_path / "nobody"
    folder.mkdir()
    drop(folder, "x.csv", b"a\n")
    app.config["IMPORT_FOLDERS"] = {"no_such_kind": str(folder)}

    pick_up_dropped_files(app)

    assert names(folder) == ["x.csv"]


def test_a_file_another_process_claimed_first_is_skipped(app, session, folder, monkeypatch):
    import portal.imports.folders as folders

    drop(folder, "a.csv", csv_bytes(("oil", "Oil")))
    monkeypatch.setattr(folders.os, "rename", _raise_not_found)

    with app.app_context():
        done = pick_up_folder(folder, KIND, app.extensions["portal.sessionmaker"])

    assert done == [] and imports(session) == []


def _raise_not_found(*_args):
    raise FileNotFoundError("claimed by the other process")


@pytest.mark.slow
def test_two_processes_given_the_same_dropped_files_import_each_once(
    database_url, tmp_path, folder
):
    """Two real processes run the job at the same moment over 20 dropped files: each
    file is claimed by one of them and imported once (the database has one import per
    file, every one applied); nothing is left in the folder."""
    files = {f"day-{n:02d}.csv": csv_bytes((f"s{n}", f"Skill {n}")) for n in range(20)}
    for name, data in files.items():
        drop(folder, name, data)
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PORTAL_INSTANCE_PATH"] = str(tmp_path / "instance")
    command = [sys.executable, "-m", "tests.import_folder_worker"]
    args = [database_url, str(tmp_path / "instance"), str(folder), str(go)]
    workers = [
        subprocess.Popen(
            command + args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == b"ready"
        go.touch()
        outputs = [worker.communicate(timeout=120) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err.decode()
    taken = [json.loads(out.decode().splitlines()[-1]) for out, _err in outputs]

    assert sorted(taken[0] + taken[1]) == sorted(files)
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.select(Import.filename, Import.status)).all()
            skills = connection.scalar(sa.select(sa.func.count()).select_from(Skill))
    finally:
        engine.dispose()
    assert sorted(rows) == [(name, "applied") for name in sorted(files)]
    assert skills == 20
    assert len(names(folder / ".done")) == 20
    assert [n for n in names(folder) if not n.startswith(".")] == []


def test_a_file_a_dead_process_claimed_long_ago_is_put_back_and_imported(app, session, folder):
    claimed = folder / ".claimed"
    claimed.mkdir()
    drop(claimed, "20260601T052000-0badc0de-late.csv", csv_bytes(("oil", "Oil")))  # 40 min ago
    drop(claimed, "20260601T055000-0badc0de-busy.csv", csv_bytes(("gas", "Gas")))  # 10 min ago

    pick_up_dropped_files(app)

    [imp] = imports(session)
    assert (imp.filename, imp.status) == ("late.csv", "applied")
    assert names(claimed) == ["20260601T055000-0badc0de-busy.csv"]  # still being worked on
