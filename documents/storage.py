"""Where PDF versions live: one file per SHA-256, written once, checked on every read."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import StorageFull, StoredFileCorrupted, StoredFileMissing

#: What the kernel says when the disk or the quota is full.
FULL = (errno.ENOSPC, errno.EDQUOT)


def write_new(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` whole (temporary file, fsync, hard link) unless ``path``
    exists: never a half-written file, never a replaced one. False when it existed.

    A full disk raises :class:`StorageFull` (the partial temporary file removed)."""
    return write_new_with(path, lambda out: out.write(data), len(data))


def write_new_with(path: Path, fill: Callable[[BinaryIO], object], size: int = 0) -> bool:
    """:func:`write_new` of what ``fill`` writes into the (readable, seekable) temporary
    file, so that a large result goes straight to disk instead of being held in memory
    first (``size``: what the error says when the disk is full, if known)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        if exc.errno in FULL:
            raise StorageFull(str(path.parent.parent), size) from exc
        raise
    try:
        with os.fdopen(fd, "w+b") as out:
            fill(out)
            out.flush()
            os.fsync(out.fileno())
            size = size or os.fstat(out.fileno()).st_size
        try:
            os.link(tmp, path)  # atomic, and fails if the path exists
        except FileExistsError:
            return False
        return True
    except OSError as exc:
        if exc.errno in FULL:
            raise StorageFull(str(path.parent.parent), size) from exc
        raise
    finally:
        os.unlink(tmp)


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
