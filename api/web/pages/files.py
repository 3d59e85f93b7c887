"""A document's PDF versions shown in the browser's own PDF viewer (inline), with the
same membership check and audit event as the JSON API's download."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from documents import VersionKind, latest_version
from documents.audit import AuditAction, record

from ...http.errors import NotFound
from ...http.routes.documents import visible_document
from ..context import PageCtx
from ..routing import UiRoute

router = APIRouter(route_class=UiRoute, include_in_schema=False)


@router.get("/van-ban/{document_id}/{kind}.pdf")
def show_version(document_id: str, kind: str, ctx: PageCtx) -> Response:
    document = visible_document(ctx.db, ctx.user, document_id)
    try:
        version = latest_version(ctx.db, document, VersionKind[kind.upper()])
    except KeyError as exc:
        raise NotFound(f"phiên bản {kind} / version {kind}") from exc
    if version is None:
        raise NotFound(f"phiên bản {kind} / version {kind}")
    data = ctx.svc.store.get(version.sha256)
    record(ctx.db, AuditAction.DOWNLOAD, actor=ctx.user.username, body_id=document.body_id,
           object_type="document", object_id=document.id,
           details={"kind": version.kind.name, "sha256": version.sha256, "inline": True})
    ctx.db.commit()
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{document.id}-{kind.lower()}.pdf"',
        "X-Content-Type-Options": "nosniff"})
