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
from sqlalchemy.orm import Session

from certs import TrustStore
from documents import bodies_of, match_claimed, match_file, public_relation
from documents.audit import AuditAction, record
from signer import Report
from signer.qr import qr_links
from signer.report_render import render_html, render_pdf

from ...errors import OneFileOnly
from ..deps import CurrentUser, ServicesDep, SessionDep
from ..errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["verification"])

Format = Literal["json", "html"]
Lang = Literal["vi", "en"]


# Plain functions (run in the thread pool, where pyHanko's blocking API may run): the
# database work must never block the event loop, which other requests need to finish and
# let go of SQLite's write lock.

def trust_of(db: Session, user: Any, svc: Any, body_id: int | None = None) -> TrustStore:
    """What a member's verification trusts: the bundled and demo roots, the province-wide
    anchors and the anchors of ``body_id`` — or, without one, of every body the caller
    is a member of. Another body's anchors never count (a body the caller is not a
    member of is 404, as everywhere)."""
    member = [b.id for b in bodies_of(db, user)]
    if body_id is not None and body_id not in member:
        raise NotFound(f"cơ quan {body_id} / body {body_id}")
    store: TrustStore = svc.trust_for(db, [body_id] if body_id is not None else member)
    return store


def verify_upload(upload: UploadFile, user: Any, svc: Any, db: Session,
                  trust: TrustStore | None = None) -> Report:
    """Verify one uploaded file and record the VERIFY audit event (the caller commits).

    ``trust`` (default :func:`trust_of` the caller's bodies) is what the file is checked
    against. What the session did so far is committed first: no transaction (on SQLite,
    no write lock) is open while the file is verified in its child process."""
    upload.file.seek(0)
    data = upload.file.read()
    store = trust if trust is not None else trust_of(db, user, svc)
    db.commit()
    report: Report = svc.verify_report(data, upload.filename or "", store)
    record(db, AuditAction.VERIFY, actor=user.username, object_type="file",
           object_id=report.sha256, details={"verdict": str(report.verdict),
                                             "file": upload.filename or ""})
    return report


def _register(db: Session, user: Any, upload: UploadFile, report: Report,
              body_id: int | None = None) -> dict[str, Any] | None:
    """What the register knows of the file: by SHA-256, else by the link printed on it.
    Drafts and approvals only of the caller's bodies (of ``body_id`` alone, when the
    verification is for one body)."""
    found = match_file(db, report.sha256)
    if found is None and not refused(report):
        db.commit()  # no transaction open while pdfminer reads the file
        upload.file.seek(0)
        found = match_claimed(db, qr_links(upload.file.read()))
    own = {b.id for b in bodies_of(db, user)} if body_id is None else {body_id}
    if found is None or not (public_relation(found) or found.body_id in own):
        return None
    return found.to_dict()


def refused(report: Report) -> bool:
    """Whether the file was refused before verification (hostile structure, limits)."""
    return any(r.code.startswith("refused_") for r in report.reasons)


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
    store = trust_of(db, user, svc, body_id)
    reports = [verify_upload(upload, user, svc, db, store) for upload in files]
    db.commit()
    if format == "html":
        return HTMLResponse(render_html(reports[0], lang),
                            headers={"Content-Disposition": _report_name(reports[0], ".html")})
    registers = [_register(db, user, upload, report, body_id)
                 for upload, report in zip(files, reports, strict=True)]
    return JSONResponse(jsonable_encoder([{**r.to_dict(), "register": block}
                                          for r, block in zip(reports, registers, strict=True)]))


@router.post("/verify/report.pdf", response_class=Response,
             responses={200: {"content": {"application/pdf": {}}}})
def verify_report_pdf(file: UploadFile, user: CurrentUser, svc: ServicesDep,
                      db: SessionDep, lang: Annotated[Lang, Query()] = "vi",
                      body_id: Annotated[int | None, Query()] = None) -> Response:
    """The printable A4 PDF report of one uploaded file (``body_id`` as for /verify)."""
    report = verify_upload(file, user, svc, db, trust_of(db, user, svc, body_id))
    db.commit()
    pdf = render_pdf(report, lang)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": _report_name(report, ".pdf")})
