"""Verification of uploaded files, for auditors and any signed-in member.

``POST /api/v1/verify`` answers one ``kyso.verify/1`` report per uploaded PDF, or,
with ``?format=html``, the printable HTML report of one file;
``POST /api/v1/verify/report.pdf`` answers the A4 PDF report of one file. Every
verification is an audit event. A JSON report carries a ``register`` block
(:meth:`documents.Match.to_dict`) when the file is a version this instance stored, or
names one of its documents through the verification link printed on it; else null.
Drafts and approvals of another body's documents are not shown.

Trust is the caller's: bundled and demo roots, province-wide anchors and the anchors of
the caller's own bodies (``?body_id=`` narrows it to one) — never another body's.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response

from documents import (
    Upload,
    register_match,
    verify_files,
)
from signer import Report, render_html, render_pdf

from ...errors import OneFileOnly
from ..deps import CurrentUser, ServicesDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["verification"])

Format = Literal["json", "html"]
Lang = Literal["vi", "en"]


# Plain functions (run in the thread pool, where pyHanko's blocking API may run): the
# database work must never block the event loop, which other requests need to finish and
# let go of SQLite's write lock.

def _read(upload: UploadFile) -> Upload:
    def read() -> bytes:
        upload.file.seek(0)
        return upload.file.read()
    return read


def _report_name(report: Report, suffix: str) -> str:
    """``Content-Disposition`` for the report of ``report.file`` (RFC 5987, no injection)."""
    stem = (report.file or "van-ban").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return f"inline; filename=\"bao-cao{suffix}\"; filename*=UTF-8''" \
           f"{quote(f'bao-cao-{stem}{suffix}', safe='')}"


@router.post("/verify", response_model=None)
def verify(files: list[UploadFile], user: CurrentUser, svc: ServicesDep,
                 db: SessionDep, format: Annotated[Format, Query()] = "json",
                 lang: Annotated[Lang, Query()] = "vi",
                 body_id: Annotated[int | None, Query()] = None
                 ) -> list[dict[str, Any]] | Response:
    """One report per uploaded PDF (schema ``kyso.verify/1``); ``format=html``: the HTML
    report of one file. ``body_id``: verify for that body (its own trust anchors; the
    caller must be a member), else for every body the caller is a member of."""
    if format == "html" and len(files) != 1:
        raise OneFileOnly(len(files))
    reports = verify_files(db, svc, user.id,
                           [(upload.filename or "", _read(upload)) for upload in files], body_id)
    if format == "html":
        return HTMLResponse(render_html(reports[0], lang),
                            headers={"Content-Disposition": _report_name(reports[0], ".html")})
    registers = [register_match(db, user.id, _read(upload), report, body_id)
                 for upload, report in zip(files, reports, strict=True)]
    return JSONResponse(jsonable_encoder([{**r.to_dict(), "register": block}
                                          for r, block in zip(reports, registers, strict=True)]))


@router.post("/verify/report.pdf", response_class=Response,
             responses={200: {"content": {"application/pdf": {}}}})
def verify_report_pdf(file: UploadFile, user: CurrentUser, svc: ServicesDep,
                      db: SessionDep, lang: Annotated[Lang, Query()] = "vi",
                      body_id: Annotated[int | None, Query()] = None) -> Response:
    """The printable A4 PDF report of one uploaded file (``body_id`` as for /verify)."""
    (report,) = verify_files(db, svc, user.id, [(file.filename or "", _read(file))], body_id)
    pdf = render_pdf(report, lang)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": _report_name(report, ".pdf")})
