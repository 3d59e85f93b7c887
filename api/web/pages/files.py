"""A document's PDF versions shown in the browser's own PDF viewer (inline), with the
same membership check and audit event as the JSON API's download."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from documents import download_version

from ..context import PageCtx
from ..routing import UiRoute

router = APIRouter(route_class=UiRoute, include_in_schema=False)


@router.get("/van-ban/{document_id}/{kind}.pdf")
def show_version(document_id: str, kind: str, ctx: PageCtx, lan: int | None = None
                 ) -> Response:
    """The latest version of ``kind``, or with ``?lan=n`` its n-th (a corrected draft's)."""
    found = download_version(ctx.db, ctx.svc, ctx.user.id, document_id, kind, inline=True,
                             ordinal=lan)
    name = f"{document_id}-{kind.lower()}" + (f"-lan-{lan}" if lan else "")
    return Response(found.data, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{name}.pdf"',
        "X-Content-Type-Options": "nosniff"})
