"""The web application in Vietnamese: server-rendered pages (Jinja2 + htmx) for every role.

Thin routes over the same acts as the JSON API: the use-case layer of ``documents``
(``documents/usecases/``), with the same authorisation checks, audit events and queued work
(a page never imports ``api.http.routes``: ``tests/test_usecases.py``); the session is
the JSON login's HttpOnly cookie; form posts carry a per-session CSRF token.
:func:`mount` adds the pages and their static files to the FastAPI application.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException

from .assets import ASSETS, STATIC_PATH, VersionedStaticFiles
from .pages import admin, auditor, channels, clerk, drafter, files, golive, login, setup, signer
from .routing import http_error_page

router = APIRouter(include_in_schema=False)
for _module in (login, setup, files, drafter, signer, channels, clerk, auditor, admin, golive):
    router.include_router(_module.router)


def mount(app: FastAPI) -> None:
    """The pages (``/``, ``/dang-nhap``, ``/chuyen-vien`` …), ``/static/ui`` (versioned
    names: :mod:`.assets`), and the
    Vietnamese page of an unknown address or a wrong method outside ``/api/``."""
    app.include_router(router)
    app.add_exception_handler(StarletteHTTPException, http_error_page)
    app.mount(STATIC_PATH, VersionedStaticFiles(ASSETS), name="ui-static")


__all__ = ["STATIC_PATH", "mount", "router"]
