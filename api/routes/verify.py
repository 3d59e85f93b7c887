"""Verification of uploaded files, for auditors and any signed-in member.

``POST /api/v1/verify`` answers one ``kyso.verify/1`` report per uploaded PDF, or,
with ``?format=html``, the printable HTML report of one file;
``POST /api/v1/verify/report.pdf`` answers the A4 PDF report of one file. Every
verification is an audit event.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from certs import KysoError, validation_context
from documents.audit import AuditAction, record
from signer import Report, async_verify_pdf
from signer.report_render import render_html, render_pdf

from ..deps import CurrentUser, ServicesDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["verification"])

Format = Literal["json", "html"]
Lang = Literal["vi", "en"]


class OneFileOnly(KysoError):
    def __init__(self, count: int) -> None:
        super().__init__(f"báo cáo HTML/PDF dành cho đúng một tệp (đã gửi {count})",
                         f"an HTML/PDF report is for exactly one file ({count} sent)")


async def _verify(upload: UploadFile, user: Any, svc: Any, db: Session) -> Report:
    data = await upload.read()
    report = await async_verify_pdf(data, lambda: validation_context(svc.trust),
                                    upload.filename or "", svc.trust)
    record(db, AuditAction.VERIFY, actor=user.username, object_type="file",
           object_id=report.sha256, details={"verdict": str(report.verdict),
                                             "file": upload.filename or ""})
    return report


def _report_name(report: Report, suffix: str) -> str:
    """``Content-Disposition`` for the report of ``report.file`` (RFC 5987, no injection)."""
    stem = (report.file or "van-ban").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return f"inline; filename=\"bao-cao{suffix}\"; filename*=UTF-8''" \
           f"{quote(f'bao-cao-{stem}{suffix}', safe='')}"


@router.post("/verify", response_model=None)
async def verify(files: list[UploadFile], user: CurrentUser, svc: ServicesDep,
                 db: SessionDep, format: Annotated[Format, Query()] = "json",
                 lang: Annotated[Lang, Query()] = "vi") -> list[dict[str, Any]] | Response:
    """One report per uploaded PDF (schema ``kyso.verify/1``); ``format=html``: the HTML
    report of one file."""
    if format == "html" and len(files) != 1:
        raise OneFileOnly(len(files))
    reports = [await _verify(upload, user, svc, db) for upload in files]
    db.commit()
    if format == "html":
        return HTMLResponse(render_html(reports[0], lang),
                            headers={"Content-Disposition": _report_name(reports[0], ".html")})
    return JSONResponse(jsonable_encoder([r.to_dict() for r in reports]))


@router.post("/verify/report.pdf", response_class=Response,
             responses={200: {"content": {"application/pdf": {}}}})
async def verify_report_pdf(file: UploadFile, user: CurrentUser, svc: ServicesDep,
                            db: SessionDep, lang: Annotated[Lang, Query()] = "vi") -> Response:
    """The printable A4 PDF report of one uploaded file."""
    report = await _verify(file, user, svc, db)
    db.commit()
    pdf = await asyncio.to_thread(render_pdf, report, lang)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": _report_name(report, ".pdf")})
