"""A file written whole or not at all, never over an existing one.

Shared by the stored versions (:class:`documents.FileStore`) and the files the ``kyso``
commands write (``kyso sign``'s output), so that a command need not load the document
layer (SQLAlchemy and every table) to write one file.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

#: What the kernel says when the disk or the quota is full.
FULL = (errno.ENOSPC, errno.EDQUOT)


def write_new_with(path: Path, fill: Callable[[BinaryIO], object], size: int = 0, *,
                   full: Callable[[int], BaseException] | None = None) -> bool:
    """Write what ``fill`` writes into a (readable, seekable) temporary file beside
    ``path``, ``fsync`` it once, and hard-link it to ``path`` unless ``path`` exists:
    never a half-written file, never a replaced one. False when ``path`` existed.

    A large result goes straight to disk instead of being held in memory first. When the
    disk or the quota is full the partial temporary file is removed and ``full(size)``
    raised from the ``OSError`` (``size``: what it says, if known; else what was
    written), or the ``OSError`` itself without ``full``."""

    def disk_full(exc: OSError, written: int) -> BaseException:
        return full(written) if full is not None and exc.errno in FULL else exc

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise disk_full(exc, size) from exc
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
        raised = disk_full(exc, size)
        if raised is exc:
            raise
        raise raised from exc
    finally:
        os.unlink(tmp)
