"""Where PDF versions live: one file per SHA-256, written once, checked on every read."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import StoredFileCorrupted, StoredFileMissing


def write_new(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` whole (temporary file, fsync, hard link) unless ``path``
    exists: never a half-written file, never a replaced one. False when it existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)  # atomic, and fails if the path exists
        except FileExistsError:
            return False
        return True
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
