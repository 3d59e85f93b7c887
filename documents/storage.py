"""Where PDF versions live: one file per SHA-256, written once, checked on every read."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from common import write_new_with as _write_new_with

from .errors import StorageFull, StoredFileCorrupted, StoredFileMissing


def write_new(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` whole (temporary file, fsync, hard link) unless ``path``
    exists: never a half-written file, never a replaced one. False when it existed.

    A full disk raises :class:`StorageFull` (the partial temporary file removed)."""
    return write_new_with(path, lambda out: out.write(data), len(data))


def write_new_with(path: Path, fill: Callable[[BinaryIO], object], size: int = 0) -> bool:
    """:func:`write_new` of what ``fill`` writes into the (readable, seekable) temporary
    file, so that a large result goes straight to disk instead of being held in memory
    first (``size``: what the error says when the disk is full, if known); see
    :func:`common.write_new_with`."""
    return _write_new_with(path, fill, size,
                           full=lambda written: StorageFull(str(path.parent.parent), written))


@dataclass(frozen=True)
class FileStore:
    """A folder of immutable files named by their SHA-256 (``ab/abcdef….pdf``)."""

    root: Path

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.pdf"

    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            self.get(digest)  # same name, so same content — unless the copy was damaged
            return digest
        # False only if a concurrent writer stored it meanwhile: the same bytes, by name
        write_new(target, data)
        return digest

    def get(self, sha256: str) -> bytes:
        try:
            data = self.path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise StoredFileMissing(sha256) from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StoredFileCorrupted(sha256)
        return data
