"""The images a signature shows: each body's seal and each person's handwritten signature.

One PNG per body and per person in the data directory::

    images/seals/<body id>.png
    images/signatures/<person id>.png

The worker reads them for every approval and organisation signature; whoever provides
them writes them here (today the demo's seeding, from its art; an administrator's upload
later). A signature whose image is missing is refused with the path to put it at: a real
document never gets another body's seal or another person's signature.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from documents import Document, Person

from .datadir import DataDir
from .errors import ImageMissing


@dataclass(frozen=True)
class Images:
    """The seal and signature images of one data directory."""

    root: Path

    @classmethod
    def of(cls, data: DataDir) -> Images:
        return cls(data.root / "images")

    def seal_path(self, body_id: int) -> Path:
        return self.root / "seals" / f"{body_id}.png"

    def signature_path(self, person_id: int) -> Path:
        return self.root / "signatures" / f"{person_id}.png"

    def seal_for(self, document: Document) -> bytes:
        """The seal of the body ``document`` belongs to."""
        path = self.seal_path(document.body_id)
        if not path.is_file():
            raise ImageMissing(f"hình con dấu của cơ quan số {document.body_id}",
                               f"seal image for body {document.body_id}", str(path))
        return path.read_bytes()

    def signature_for(self, person: Person) -> bytes:
        """``person``'s handwritten signature."""
        path = self.signature_path(person.id)
        if not path.is_file():
            raise ImageMissing(f"hình chữ ký của {person.full_name}",
                               f"handwritten-signature image for {person.full_name}", str(path))
        return path.read_bytes()

    def save_seal(self, body_id: int, png: bytes) -> None:
        _write(self.seal_path(body_id), png)

    def save_signature(self, person_id: int, png: bytes) -> None:
        _write(self.signature_path(person_id), png)


def _write(path: Path, content: bytes) -> None:
    """Replace ``path`` at once: a worker reading it sees the old image or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


__all__ = ["ImageMissing", "Images"]
