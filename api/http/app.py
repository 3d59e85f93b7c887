"""The HTTP service: FastAPI app factory, the composition root of the web side."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from common import KysoError
from documents import FileStore

from .. import web
from ..database import open_database_url
from ..datadir import private_files
from ..settings import Settings
from ..trust import base_trust
from ..worker.runtime import make_celery
from .csrf import api_csrf
from .deps import Services
from .errors import kyso_error_handler, out_of_range_handler, validation_error_handler
from .limits import BodyLimit
from .routes import (
    admin,
    agent,
    auth,
    bodies,
    channels,
    documents,
    golive,
    health,
    notifications,
    public,
    queue,
    register,
    verify,
    vgca,
)

#: Responses shorter than this are sent as they are (gzip would save too little).
GZIP_MINIMUM = 1024
NOT_GZIPPED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf", "application/octet-stream",
               "application/x-pkcs12", "application/pkcs7-mime", "application/pkix-cert")


def create_app(settings: Settings | None = None) -> FastAPI:
    private_files()  # the database, broker and stored files: for the service's account only
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        data = settings.data
        data.activate_softhsm()
        sessions = open_database_url(settings)
        app.state.services = Services(
            settings=settings,
            sessions=sessions,
            store=FileStore(data.files),
            trust=base_trust(data, sessions),
            celery=make_celery(settings),
        )
        yield

    app = FastAPI(title="Kyso", version="0.1.0", lifespan=lifespan,
                  description="Ký số và phát hành văn bản điện tử / sign and issue "
                              "official documents")
    app.add_exception_handler(KysoError, kyso_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(OverflowError, out_of_range_handler)
    app.add_exception_handler(DataError, out_of_range_handler)
    # the JSON API: a state-changing call made with the session cookie needs the session's
    # CSRF token or an Origin of this site (api/http/csrf.py); the public page takes no login
    for module in (health, auth, bodies, documents, notifications, queue, agent, register,
                   verify, admin, golive, channels, vgca):
        app.include_router(module.router, dependencies=[Depends(api_csrf)])
    app.include_router(public.router)
    app.include_router(vgca.ticket_router)  # called by the VGCA Sign Service itself

    web.mount(app)  # the web pages: "/", /dang-nhap, one page per role

    # pages, fragments, JSON and static text gzipped for old office PCs on slow links;
    # not PDFs (compressed inside already, and signed bytes are served as stored), images
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM, compresslevel=6,
                       exclude_content_types=NOT_GZIPPED)

    # the body of any request stops being read past KYSO_MAX_UPLOAD_MB (413)
    app.add_middleware(BodyLimit, limit_mb=settings.max_upload_mb)
    if settings.trusted_proxy_list:
        # only these peers may say who the client is and whether it came over HTTPS
        # (the client address is what login throttling and the public page count)
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)

    return app
