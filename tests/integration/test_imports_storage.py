"""Keeping an import's raw file (portal/imports/storage.py): streamed in chunks while it
is hashed, never read whole, refused past the size limit with nothing left behind."""

from __future__ import annotations

import hashlib
import io
import tracemalloc

import pytest

from portal.imports.storage import CHUNK_BYTES, TooLarge, store_stream, stored_file

MB = 1024 * 1024


class GeneratedStream(io.RawIOBase):
    """`size` bytes of CSV-like text made as they are read; records each read's size."""

    def __init__(self, size: int):
        self.left = size
        self.reads: list[int] = []
        self.digest = hashlib.sha256()
        self._line = b"ACC-000123,42,2026-12-01T10:00:00Z\n" * 16

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        if size is None or size < 0:
            raise AssertionError("the whole stream was asked for at once")
        n = min(size, self.left)
        out = (self._line * (n // len(self._line) + 1))[:n]
        self.left -= n
        self.digest.update(out)
        return out


def test_a_file_is_kept_under_its_sha256(tmp_path):
    data = b"code,name\noil,Oil\n"

    kept = store_stream(io.BytesIO(data), tmp_path, max_bytes=MB)

    sha = hashlib.sha256(data).hexdigest()
    assert (kept.sha256, kept.size, kept.path) == (sha, len(data), f"{sha[:2]}/{sha}")
    assert (tmp_path / kept.path).read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == [sha[:2]]  # no temporary file left


def test_the_same_bytes_twice_are_kept_once(tmp_path):
    first = store_stream(io.BytesIO(b"a,b\n"), tmp_path, max_bytes=MB)
    second = store_stream(io.BytesIO(b"a,b\n"), tmp_path, max_bytes=MB)

    assert first == second
    assert len(list((tmp_path / first.path).parent.iterdir())) == 1


def test_a_sixty_megabyte_file_streams_through_a_few_kilobytes_of_memory(tmp_path):
    stream = GeneratedStream(60 * MB)
    tracemalloc.start()
    try:
        kept = store_stream(stream, tmp_path, max_bytes=100 * MB)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert kept.size == 60 * MB
    assert kept.sha256 == stream.digest.hexdigest()
    assert peak < 2 * MB, f"peak {peak / MB:.1f} MB"
    assert set(stream.reads) == {CHUNK_BYTES}


def test_a_file_over_the_limit_is_refused_while_streaming_and_nothing_is_kept(tmp_path):
    stream = GeneratedStream(60 * MB)

    with pytest.raises(TooLarge, match="larger than 50 MB"):
        store_stream(stream, tmp_path, max_bytes=50 * MB)

    assert stream.left == 10 * MB - CHUNK_BYTES  # it stopped at the chunk past the limit
    assert list(tmp_path.iterdir()) == []


def test_a_kept_path_cannot_leave_the_folder(tmp_path):
    with pytest.raises(ValueError):
        stored_file(tmp_path, "../secret_key")
    assert stored_file(tmp_path, "ab/abc") == (tmp_path / "ab" / "abc").resolve()
