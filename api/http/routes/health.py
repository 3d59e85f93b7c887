"""Is the service up: database reachable, files readable, server tokens present."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from common import KysoError

from ..deps import ServicesDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["health"])


@router.get("/health")
def health(db: SessionDep, svc: ServicesDep) -> dict[str, Any]:
    db.execute(text("SELECT 1"))
    tokens = {}
    for name in svc.settings.server_tokens:
        try:
            state = svc.settings.data.token(name).health()
            tokens[name] = {"ok": state.ok, "detail": state.detail}
        except (KysoError, OSError, ValueError) as exc:  # a token unconfigured or away
            tokens[name] = {"ok": False, "detail": str(exc)}
    return {"status": "ok", "database": "ok", "tokens": tokens,
            "profile": svc.settings.profile}
