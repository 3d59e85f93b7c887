"""The web application in Vietnamese: server-rendered pages (Jinja2 + htmx) for every role.

Thin routes over the same functions as the JSON API (``api/http/routes``) and ``documents``,
with the same authorisation checks; the session is the JSON login's HttpOnly cookie;
form posts carry a per-session CSRF token. :func:`mount` adds the pages and their static
files to the FastAPI application.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from .pages import admin, auditor, clerk, drafter, files, login, signer
from .rendering import STATIC

STATIC_PATH = "/static/ui"

router = APIRouter(include_in_schema=False)
for _module in (login, files, drafter, signer, clerk, auditor, admin):
    router.include_router(_module.router)


def mount(app: FastAPI) -> None:
    """The pages (``/``, ``/dang-nhap``, ``/chuyen-vien`` …) and ``/static/ui``."""
    app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="ui-static")


__all__ = ["STATIC_PATH", "mount", "router"]
