"""The pages' static files (htmx, the style sheet, the scripts) under versioned names.

Each file is served as ``/static/ui/<name>.<hash>.<ext>`` (the first 12 hex digits of its
SHA-256), cached by the browser for a year without asking again (``immutable``): a changed
file gets another name, which the pages (``no-cache``) name at once. The plain name still
answers, revalidated on every use (an old page or bookmark)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"
STATIC_PATH = "/static/ui"
#: A versioned file never changes: a year, without revalidation.
IMMUTABLE = "public, max-age=31536000, immutable"
#: A page, or a static file asked for by its plain name: asked again on every use.
REVALIDATE = "no-cache"


def versioned_name(name: str, data: bytes) -> str:
    """``htmx.min.js`` → ``htmx.min.<12 hex digits of its SHA-256>.js``."""
    stem, dot, ext = name.rpartition(".")
    digest = hashlib.sha256(data).hexdigest()[:12]
    return f"{stem}.{digest}.{ext}" if dot else f"{name}.{digest}"


class Assets:
    """The versioned name of every file of a static directory (read once, at start)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.versioned = {p.name: versioned_name(p.name, p.read_bytes())
                          for p in sorted(directory.iterdir()) if p.is_file()}
        self.plain = {v: k for k, v in self.versioned.items()}

    def url(self, name: str) -> str:
        """The URL the pages use for static file ``name`` (an unknown name fails)."""
        return f"{STATIC_PATH}/{self.versioned[name]}"


class VersionedStaticFiles(StaticFiles):
    """StaticFiles answering versioned names with the long cache, plain ones revalidated."""

    def __init__(self, assets: Assets, **options: Any) -> None:
        super().__init__(directory=assets.directory, **options)
        self.assets = assets

    async def get_response(self, path: str, scope: Scope) -> Response:
        plain = self.assets.plain.get(path)
        response = await super().get_response(plain or path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = IMMUTABLE if plain else REVALIDATE
        return response


ASSETS = Assets(STATIC)
