"""The public verification page, reached by a document's short link (no login).

``GET /v/{code}`` shows, in Vietnamese, the register entry of the document the link
belongs to (number and symbol, date, type and subject, signer, issuing body) and a form
to upload a file; ``POST /v/{code}`` verifies the uploaded file (the full verification
report, :func:`signer.report_render.render_html`) and says whether it is exactly the
issued version (or an archive renewal of it) by comparing SHA-256 with the stored
versions (:func:`documents.check_against`). Nothing uploaded is stored; each
verification is a ``VERIFY`` audit event by the actor "công khai" (public).

Abuse limits: a file larger than ``KYSO_MAX_UPLOAD_MB`` is refused before it is read
(413), and each client (its address; behind the reverse proxy, the one the proxy forwards
in ``X-Forwarded-For`` when it is one of ``KYSO_TRUSTED_PROXIES``) may check
``KYSO_PUBLIC_VERIFY_LIMIT`` files per ``KYSO_PUBLIC_VERIFY_WINDOW`` seconds (429 with
``Retry-After``). The counter is in memory, per API process: simple, no database write
on a refused request, forgotten on restart; with N API processes a client gets up to
N times the limit, so the scale-out profile should also limit ``/v/`` in the reverse
proxy (nginx ``limit_req``). Codes carry 60 random bits, so guessing one is hopeless
and unknown codes need no counter of their own.
"""

from __future__ import annotations

import asyncio
import time
import unicodedata
from collections import deque
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from certs import TrustStore
from common import KysoError, render_template
from documents import PUBLIC_ACTOR as PUBLIC_ACTOR  # who the audit trail says checked
from documents import (
    Document,
    DocumentStatus,
    RegisterFacts,
    document_for_code,
    public_check,
)
from signer import Report, render_html

from ..deps import Services, ServicesDep, SessionDep

router = APIRouter(tags=["public verification"])

#: The actor of public verifications in the audit trail.
_HEADERS = {
    # the code in the URL is the key to the page: never sent on to another site
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}
class UploadLimiter:
    """At most ``limit`` uploads per client in any ``window`` seconds (sliding window)."""

    #: Clients remembered at once; beyond it, those idle for a whole window are dropped.
    MAX_CLIENTS = 10_000

    def __init__(self, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._seen: dict[str, deque[float]] = {}

    def take(self, client: str) -> float | None:
        """Count one upload by ``client``: None if allowed, else seconds until it is."""
        now = self.clock()
        stamps = self._seen.setdefault(client, deque())
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if len(stamps) >= self.limit:
            return max(stamps[0] + self.window - now, 1.0)
        stamps.append(now)
        if len(self._seen) > self.MAX_CLIENTS:
            self._forget(now)
        return None

    def _forget(self, now: float) -> None:
        for key in [k for k, v in self._seen.items() if not v or v[-1] <= now - self.window]:
            del self._seen[key]


def limiter_of(request: Request, svc: Services) -> UploadLimiter:
    """The application's limiter, made on first use (one per app, so per process)."""
    found: UploadLimiter | None = getattr(request.app.state, "public_limiter", None)
    if found is None:
        found = UploadLimiter(svc.settings.public_verify_limit,
                              svc.settings.public_verify_window)
        request.app.state.public_limiter = found
    return found


def _page(template: str, status: int = 200, headers: dict[str, str] | None = None,
          **context: object) -> HTMLResponse:
    return HTMLResponse(render_template("api.http", template, **context), status_code=status,
                        headers={**_HEADERS, **(headers or {})})


def _problem(status: int, vi: str, en: str, headers: dict[str, str] | None = None,
             back: str | None = None) -> HTMLResponse:
    return _page("public_problem.html", status, headers, vi=vi, en=en, back=back)


def _not_found() -> HTMLResponse:
    return _problem(404, "Không tìm thấy văn bản của đường dẫn kiểm tra này. Hãy kiểm tra "
                         "lại đường dẫn (hoặc mã QR) in trên văn bản.",
                    "No document has this verification link.")


def _entry_rows(document: Document) -> list[tuple[str, str]] | None:
    """The register entry as the public page shows it; None before the document is issued."""
    entry = document.register_entry
    if entry is None or document.status not in (DocumentStatus.ISSUED,
                                                 DocumentStatus.DELIVERED,
                                                 DocumentStatus.CANCELLED):
        return None
    facts = RegisterFacts.of(entry)
    state = "Đã ban hành"
    if facts.cancelled:
        state = f"ĐÃ HỦY SỐ — lý do: {facts.cancel_reason or '—'}"
    return [
        ("Cơ quan ban hành", facts.organ_name),
        ("Số, ký hiệu", facts.number_symbol),
        ("Ngày ban hành", facts.issued_date.strftime("%d/%m/%Y")),
        ("Loại văn bản", facts.type_name),
        ("Trích yếu nội dung", facts.subject),
        ("Người ký", f"{facts.signer_position} {facts.signer_full_name}".strip()),
        ("Tình trạng", state),
    ]


def _document_id(db: Session, code: str,
                 svc: Services) -> tuple[str, TrustStore] | None:
    """The id of the code's document and what its body trusts (bundled, demo, province-wide
    and that body's own anchors — no other body's); the read transaction is over when
    this returns (on SQLite every transaction takes the write lock: none is held while
    verifying)."""
    document = document_for_code(db, code)
    found = (document.id, svc.trust_for(db, [document.body_id])) \
        if document is not None else None
    db.rollback()
    return found


@router.get("/v/{code}", response_class=HTMLResponse, include_in_schema=False)
def page(code: str, db: SessionDep, svc: ServicesDep) -> HTMLResponse:
    """The document's register entry and the upload form, in Vietnamese."""
    document = document_for_code(db, code)
    if document is None:
        return _not_found()
    return _page("public_document.html", entry=_entry_rows(document), code=code,
                 max_mb=svc.settings.max_upload_mb)


async def _upload(request: Request, limit: int) -> UploadFile | HTMLResponse:
    """The single uploaded file, or the page refusing it (too large, missing)."""
    too_large = _problem(413, f"Tệp lớn hơn giới hạn {limit // (1024 * 1024)} MB.",
                         f"The file is larger than {limit // (1024 * 1024)} MB.",
                         back=str(request.url.path))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + 64 * 1024:
        return too_large
    form = await request.form(max_files=1, max_fields=2)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return _problem(400, "Chưa chọn tệp để kiểm tra.", "No file was uploaded.",
                        back=str(request.url.path))
    if upload.size is not None and upload.size > limit:
        return too_large
    return upload


def _file_name(upload: UploadFile) -> str:
    return unicodedata.normalize("NFC", upload.filename or "")[:200]


def _conclude(db: Session, document_id: str, code: str, report: Report, name: str) -> str:
    """The public check (audited, committed), then the answer's HTML."""
    answer = public_check(db, document_id, report, name)
    document = db.get_one(Document, document_id)
    head = render_template("api.http", "public_answer.html", genuine=answer.genuine,
                           vi=answer.vi, en=answer.en, sha256=report.sha256,
                           entry=_entry_rows(document), code=code)
    return head


@router.post("/v/{code}", response_class=HTMLResponse, include_in_schema=False)
async def check(code: str, request: Request, db: SessionDep,
                svc: ServicesDep) -> HTMLResponse:
    """Verify an uploaded file and say whether it is exactly the issued version.

    The database work runs in worker threads (on SQLite a write may wait for the lock;
    the event loop must not), the verification itself in the loop (pyHanko's async API).
    """
    found = await asyncio.to_thread(_document_id, db, code, svc)
    if found is None:
        return _not_found()
    document_id, trust = found
    client = request.client.host if request.client else "unknown"
    wait = limiter_of(request, svc).take(client)
    if wait is not None:
        minutes = max(1, round(wait / 60))
        return _problem(429, f"Bạn đã kiểm tra quá nhiều tệp. Hãy thử lại sau khoảng "
                             f"{minutes} phút.",
                        f"Too many files checked; try again in about {minutes} min.",
                        headers={"Retry-After": str(int(wait + 0.999))})
    limit = svc.settings.max_upload_mb * 1024 * 1024
    upload = await _upload(request, limit)
    if isinstance(upload, HTMLResponse):
        return upload
    data = await upload.read(limit + 1)
    if len(data) > limit:
        return _problem(413, f"Tệp lớn hơn giới hạn {svc.settings.max_upload_mb} MB.",
                        f"The file is larger than {svc.settings.max_upload_mb} MB.",
                        back=f"/v/{code}")
    name = _file_name(upload)
    try:
        report: Report = await asyncio.to_thread(svc.verify_report, data, name, trust)
    except KysoError as exc:
        return _problem(422, f"Không kiểm tra được tệp: {exc.vi}",
                        f"The file could not be checked: {exc.en}", back=f"/v/{code}")
    head = await asyncio.to_thread(_conclude, db, document_id, code, report, name)
    return HTMLResponse(render_html(report, "vi", lead=head), headers=_HEADERS)
