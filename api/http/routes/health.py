"""Is the service up and can it do its work: database, broker, workers, background work,
TSA and OCSP, server tokens (:mod:`api.health`; the rule is in docs/operations.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from common import KysoError

from ...health import health_report
from ..deps import ServicesDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["health"])


@router.get("/health", responses={503: {
    "description": "``down``, or ``degraded`` with ``strict=true``: the reasons in the body"}})
def health(db: SessionDep, svc: ServicesDep, strict: bool = False) -> JSONResponse:
    """``ok``/``degraded`` answer 200 (``degraded`` answers 503 with ``strict=true``);
    ``down`` (no database) answers 503."""
    report = health_report(db, svc.settings, svc.celery)
    tokens: dict[str, Any] = {}
    for name in svc.settings.server_tokens:
        try:
            state = svc.settings.data.token(name).health()
            tokens[name] = {"ok": state.ok, "detail": state.detail}
        except (KysoError, OSError, ValueError) as exc:  # a token unconfigured or away
            tokens[name] = {"ok": False, "detail": str(exc)}
    failing = report.status == "down" or (strict and report.status != "ok")
    return JSONResponse({**report.json(), "tokens": tokens},
                        status_code=503 if failing else 200,
                        headers={"Cache-Control": "no-store"})
