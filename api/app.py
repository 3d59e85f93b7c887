"""The HTTP service: FastAPI app factory, the composition root of the web side."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from certs import KysoError
from documents import FileStore

from .deps import Services
from .errors import kyso_error_handler
from .routes import (
    admin,
    agent,
    auth,
    bodies,
    documents,
    health,
    notifications,
    queue,
    register,
    verify,
)
from .settings import Settings
from .worker import make_celery, open_database_url


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        data = settings.data
        data.activate_softhsm()
        app.state.services = Services(
            settings=settings,
            sessions=open_database_url(settings),
            store=FileStore(data.files),
            trust=data.trust_store(),
            celery=make_celery(settings),
        )
        yield

    app = FastAPI(title="Kyso", version="0.1.0", lifespan=lifespan,
                  description="Ký số và phát hành văn bản điện tử / sign and issue "
                              "official documents")
    app.add_exception_handler(KysoError, kyso_error_handler)
    for module in (health, auth, bodies, documents, notifications, queue, agent, register,
                   verify, admin):
        app.include_router(module.router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return ("<!doctype html><html lang='vi'><meta charset='utf-8'><title>Kyso</title>"
                "<h1>Kyso — ký số văn bản</h1><p>Giao diện web đang được xây dựng. "
                "API: <a href='/docs'>/docs</a></p></html>")

    return app
