"""The auditor's page: drop signed files to verify them and read each report (the
printable HTML report, embedded), and the audit trail with filters."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import Response

from documents.accounts import Role
from documents.audit import AuditAction, list_events
from signer.report_render import render_html, verdict_words

from ...http.errors import MissingInput
from ...http.routes import verify as verify_routes
from ..context import Ctx, PageCtx, PostCtx
from ..rendering import render
from ..routing import UiRoute

router = APIRouter(route_class=UiRoute, include_in_schema=False)
PATH = "/kiem-tra"
#: Most events shown at once.
MAX_EVENTS = 500


def _trail_context(ctx: Ctx, action: str | None, actor: str | None, object_id: str | None,
                   limit: int) -> dict[str, Any]:
    body = ctx.require(Role.AUDITOR, Role.ADMIN)
    chosen = AuditAction[action] if action and action in AuditAction.__members__ else None
    events = list_events(ctx.db, limit=max(1, min(limit, MAX_EVENTS)), action=chosen,
                         actor=actor or None, object_id=object_id or None, body_id=body.id)
    rows = [{"seq": e.seq, "at": e.occurred_at, "actor": e.actor, "action": e.action.name,
             "action_vi": e.action.value, "object": f"{e.object_type} {e.object_id}",
             "details": _details(e.details)} for e in events]
    return {"ctx": ctx, "events": rows, "actions": list(AuditAction),
            "filters": {"action": action or "", "actor": actor or "",
                        "object_id": object_id or "", "limit": limit}}


def _details(text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if not isinstance(value, dict):
        return str(value)
    return "; ".join(f"{k}: {v}" for k, v in value.items())


@router.get(PATH)
def auditor_page(request: Request, ctx: PageCtx, action: str | None = None,
                 actor: str | None = None, object_id: str | None = None,
                 limit: int = 50) -> Response:
    ctx.require(Role.AUDITOR)
    return render(request, "auditor.html", _trail_context(ctx, action, actor, object_id,
                                                          limit))


@router.get(PATH + "/nhat-ky")
def audit_trail(request: Request, ctx: PageCtx, action: str | None = None,
                actor: str | None = None, object_id: str | None = None,
                limit: int = 50) -> Response:
    return render(request, "_audit.html", _trail_context(ctx, action, actor, object_id, limit))


@router.post(PATH + "/xac-minh")
def verify_files(request: Request, ctx: PostCtx, files: list[UploadFile]) -> Response:
    """Each dropped file verified as ``POST /api/v1/verify`` does (an audit event each);
    the report shown as its printable HTML page. A plain function: verification blocks,
    FastAPI runs it in its thread pool."""
    body = ctx.require(Role.AUDITOR, Role.ADMIN, Role.CLERK)
    uploads = [f for f in files if f.filename]
    if not uploads:
        raise MissingInput(["files"])
    trust = verify_routes.trust_of(ctx.db, ctx.user, ctx.svc, body.id)  # this body's trust
    reports = []
    for upload in uploads:
        report = verify_routes.verify_upload(upload, ctx.user, ctx.svc, ctx.db, trust)
        reports.append({"file": report.file, "verdict": str(report.verdict),
                        "verdict_vi": verdict_words(report.verdict),
                        "signers": [s.signer for s in report.signatures],
                        "html": render_html(report, "vi")})
    ctx.db.commit()
    return render(request, "_reports.html", {"ctx": ctx, "reports": reports})
