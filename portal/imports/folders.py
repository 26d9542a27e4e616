"""Watched folders: files dropped into a kind's folder are imported by the scheduler
process, each once, however many scheduler processes watch the folder.

A file is claimed by renaming it into `<folder>/.claimed/` (a rename within one file
system is atomic: of two processes renaming the same file, one wins and the other gets
FileNotFoundError and moves on). The winner imports it (import_now: check and, if
clean, apply, in one transaction), commits, and moves it to `.done/` when it was applied
or to `.rejected/` beside `<name>.reason.txt` saying why. The database backs this up: an
applied file (same kind, same sha256) is never applied again, so a file that came back
(dropped again, or claimed by a process that died after committing, and put back
once the claim is STALE_CLAIM old) is a "duplicate" and changes nothing.

Writers should drop a file whole: write it under a dot-name or with `.tmp` or `.part`
at the end, then rename it; those names are never picked up.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy.orm as so

from portal.errors import PortalError
from portal.imports.models import Import
from portal.imports.services import import_now
from portal.timeutil import now_utc

log = logging.getLogger(__name__)

CLAIMED, DONE, REJECTED = ".claimed", ".done", ".rejected"
PARTIAL_SUFFIXES = (".tmp", ".part", ".partial")
# A claim this old belongs to a process that died before it finished (an import takes
# seconds): the file is put back to be picked up again. Should the import have been
# applied after all, the database makes the second one a "duplicate".
STALE_CLAIM = timedelta(minutes=30)
_STAMP = "%Y%m%dT%H%M%S"


@dataclass(frozen=True)
class PickedUp:
    """What became of one dropped file."""

    name: str
    import_number: str | None  # None when no import could be recorded
    status: str  # the import's status, or "failed"
    moved_to: Path


def waiting_files(folder: Path) -> Iterator[Path]:
    """The regular files in `folder` ready to be imported, oldest name first (no
    dotfiles, no partial `.tmp`/`.part` files, nothing in the bookkeeping folders)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name.startswith(".") or entry.name.endswith(PARTIAL_SUFFIXES):
            continue
        if entry.is_file(follow_symlinks=False):
            yield Path(entry.path)


def claim(path: Path) -> Path | None:
    """Move `path` into `.claimed/` under a name of its own; None when another process
    claimed it first."""
    claimed = path.parent / CLAIMED
    claimed.mkdir(exist_ok=True)
    target = claimed / f"{now_utc():{_STAMP}}-{secrets.token_hex(4)}-{path.name}"
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None  # lost the race: somebody else has it
    return target


def original_name(claimed: Path) -> str:
    """The name the file was dropped with (the claim's name without its prefix)."""
    return claimed.name.split("-", 2)[-1]


def release_stale_claims(folder: Path, now: datetime) -> list[Path]:
    """Put back into `folder` the files claimed longer than STALE_CLAIM ago."""
    released = []
    try:
        entries = list(os.scandir(folder / CLAIMED))
    except FileNotFoundError:
        return released
    for entry in entries:
        try:
            claimed_at = datetime.strptime(entry.name.split("-", 1)[0], _STAMP)
        except ValueError:
            continue  # not one of our claims
        if now - claimed_at.replace(tzinfo=UTC) < STALE_CLAIM:
            continue
        target = folder / original_name(Path(entry.path))
        if target.exists():
            target = folder / f"returned-{entry.name}"
        try:
            os.rename(entry.path, target)
        except FileNotFoundError:
            continue  # another process put it back (or finished it) first
        log.warning("Put back %s: claimed at %s and never finished", target.name, claimed_at)
        released.append(target)
    return released


def pick_up_folder(
    folder: Path,
    kind: str,
    session_factory: Callable[[], so.Session],
) -> list[PickedUp]:
    """Import every file waiting in `folder` as `kind`, each in its own transaction
    (after putting back the files a dead process had claimed)."""
    folder.mkdir(parents=True, exist_ok=True)
    release_stale_claims(folder, now_utc())
    done: list[PickedUp] = []
    for path in waiting_files(folder):
        claimed = claim(path)
        if claimed is not None:
            done.append(_import_claimed(claimed, folder, kind, session_factory))
    return done


def _import_claimed(
    claimed: Path, folder: Path, kind: str, session_factory: Callable[[], so.Session]
) -> PickedUp:
    name = original_name(claimed)
    session = session_factory()
    try:
        with claimed.open("rb") as stream:
            imp = import_now(session, kind, stream, name, source="folder", by=None)
        session.commit()
    except PortalError as err:  # too large, say: no import was kept
        session.rollback()
        return _settle(claimed, folder, name, None, "failed", err.message)
    except Exception as err:
        session.rollback()
        log.exception("Importing %s from %s failed", name, folder)
        reason = f"The import failed ({type(err).__name__}); the scheduler's log says more."
        return _settle(claimed, folder, name, None, "failed", reason)
    finally:
        session.close()
    reason = _reason(imp)
    log.info("Picked up %s from %s: %s %s", name, folder, imp.number, imp.status)
    return _settle(claimed, folder, name, imp.number, imp.status, reason)


def _reason(imp: Import) -> str:
    if imp.status == "applied":
        return ""
    text = f"{imp.number}: {imp.status}. {imp.message}".strip()
    if imp.error_count:
        text += f"\nThe rows and their errors are on the import's page ({imp.number})."
    return text


def _settle(
    claimed: Path, folder: Path, name: str, number: str | None, status: str, reason: str
) -> PickedUp:
    """Move the claimed file to `.done/` (applied) or `.rejected/` with its reason."""
    where = folder / (DONE if status == "applied" else REJECTED)
    where.mkdir(exist_ok=True)
    # The import's number, or the claim's stamp: a name dropped daily never collides.
    prefix = number or claimed.name.removesuffix("-" + name)
    target = where / f"{prefix}-{name}"
    if reason:
        note = target.with_name(target.name + ".reason.txt")
        note.write_text(reason + "\n", encoding="utf-8")
    os.replace(claimed, target)
    return PickedUp(name, number, status, target)
