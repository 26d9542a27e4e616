"""Keeping an import's raw file: streamed to disk while it is hashed, never read whole.

A file is kept under IMPORT_DIR as `<sha[:2]>/<sha>`: the same bytes are kept once, and
a kept file is never changed (its name is its content). It is written to a temporary
file in the same folder, flushed to disk (fsync) and then renamed into place (the folder
synced too), so a crash leaves either the whole file or none; a reader never sees half
of one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from portal.errors import Invalid

CHUNK_BYTES = 64 * 1024


class TooLarge(Invalid):
    """The file is over the import size limit (nothing is kept)."""


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to the import folder: "ab/ab12..."
    sha256: str
    size: int


def size_limit_message(max_bytes: int) -> str:
    return (
        f"The file is larger than {max_bytes // (1024 * 1024)} MB, the most an import may "
        "be: split it, or ask an administrator to raise PORTAL_IMPORT_MAX_MB."
    )


def store_stream(stream: BinaryIO, folder: Path, *, max_bytes: int) -> StoredFile:
    """Copy `stream` to `folder` in 64 KiB chunks, hashing it on the way; refuse it
    (TooLarge, nothing kept) as soon as it passes `max_bytes`."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    handle, temp_name = tempfile.mkstemp(prefix=".incoming-", suffix=".tmp", dir=folder)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := stream.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(size_limit_message(max_bytes), field="file")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        relative = f"{sha[:2]}/{sha}"
        target = folder / relative
        target.parent.mkdir(exist_ok=True)
        os.replace(temp, target)  # the same bytes, if a copy is there already
        _sync_folder(target.parent)  # the rename itself survives a crash too
        return StoredFile(relative, sha, size)
    finally:
        temp.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def stored_file(folder: Path, relative: str) -> Path:
    """The kept file's path, refusing any `relative` that would leave `folder`."""
    root = folder.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"{relative!r} is not inside the import folder")
    return path
