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
import html
import time
import unicodedata
from collections import deque
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from certs import TrustStore
from common import KysoError
from documents import (
    Document,
    DocumentStatus,
    RegisterFacts,
    check_against,
    document_for_code,
)
from documents.audit import AuditAction, record
from signer import Report
from signer.report_render import render_html

from ..deps import Services, ServicesDep, SessionDep

router = APIRouter(tags=["public verification"])

#: The actor of public verifications in the audit trail.
PUBLIC_ACTOR = "công khai"
_HEADERS = {
    # the code in the URL is the key to the page: never sent on to another site
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}
_CSS = """
.kt { font-family: "Noto Serif", "Liberation Serif", "Times New Roman", serif; color: #111;
      max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.4; }
.kt h1 { font-size: 1.5rem; text-align: center; margin: 0 0 .8rem; }
.kt h2 { font-size: 1.2rem; border-bottom: 1px solid #999; margin-top: 1.4rem; }
.kt table { border-collapse: collapse; width: 100%; margin: .4rem 0; }
.kt th, .kt td { border: 1px solid #999; padding: .3rem .5rem; text-align: left;
                 vertical-align: top; }
.kt th { background: #f0f0f0; width: 32%; }
.kt td { overflow-wrap: anywhere; }
.kt .answer { border: 3px solid; padding: .6rem 1rem; font-size: 1.3rem; font-weight: bold;
              margin: 1rem 0; }
.kt .answer small { display: block; font-size: .9rem; font-weight: normal; color: #111; }
.kt .yes { color: #1a7f37; border-color: #1a7f37; background: #eaf6ec; }
.kt .no { color: #b42318; border-color: #b42318; background: #fdecea; }
.kt form { margin: 1rem 0; padding: .8rem; border: 1px solid #999; background: #fafafa; }
.kt .note { font-size: .9rem; color: #444; }
"""


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


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: str, status: int = 200,
          headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(
        f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
        f'<body><main class="kt">{body}</main></body></html>\n',
        status_code=status, headers={**_HEADERS, **(headers or {})})


def _problem(status: int, vi: str, en: str, headers: dict[str, str] | None = None,
             back: str | None = None) -> HTMLResponse:
    link = f'<p><a href="{_e(back)}">Quay lại trang kiểm tra</a></p>' if back else ""
    return _page("Kiểm tra văn bản", f"<h1>Kiểm tra văn bản</h1>"
                 f'<div class="answer no" role="alert">{_e(vi)}<small lang="en">{_e(en)}'
                 f"</small></div>{link}", status, headers)


def _not_found() -> HTMLResponse:
    return _problem(404, "Không tìm thấy văn bản của đường dẫn kiểm tra này. Hãy kiểm tra "
                         "lại đường dẫn (hoặc mã QR) in trên văn bản.",
                    "No document has this verification link.")


def _entry_table(document: Document) -> str:
    entry = document.register_entry
    if entry is None or document.status not in (DocumentStatus.ISSUED,
                                                 DocumentStatus.DELIVERED,
                                                 DocumentStatus.CANCELLED):
        return ('<p class="answer no">Văn bản này chưa được ban hành.'
                '<small lang="en">This document has not been issued.</small></p>')
    facts = RegisterFacts.of(entry)
    state = "Đã ban hành"
    if facts.cancelled:
        state = f"ĐÃ HỦY SỐ — lý do: {facts.cancel_reason or '—'}"
    rows = [
        ("Cơ quan ban hành", facts.organ_name),
        ("Số, ký hiệu", facts.number_symbol),
        ("Ngày ban hành", facts.issued_date.strftime("%d/%m/%Y")),
        ("Loại văn bản", facts.type_name),
        ("Trích yếu nội dung", facts.subject),
        ("Người ký", f"{facts.signer_position} {facts.signer_full_name}".strip()),
        ("Tình trạng", state),
    ]
    cells = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<h2>Thông tin trong sổ đăng ký văn bản đi</h2><table>{cells}</table>'


def _form(code: str, max_mb: int) -> str:
    return (f'<form method="post" action="/v/{_e(code)}" enctype="multipart/form-data">'
            f'<p><label>Chọn tệp PDF bạn nhận được để đối chiếu với bản đã ban hành: '
            f'<input type="file" name="file" accept="application/pdf,.pdf" required>'
            f"</label></p><p><button type=\"submit\">Kiểm tra tệp</button></p>"
            f'<p class="note">Tệp tối đa {max_mb} MB. Tệp không được lưu lại; hệ thống chỉ '
            f"ghi mã SHA-256 của tệp và kết quả kiểm tra vào nhật ký.</p></form>")


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
    body = ("<h1>Kiểm tra văn bản</h1>" + _entry_table(document)
            + _form(code, svc.settings.max_upload_mb))
    return _page("Kiểm tra văn bản", body)


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
    """Compare with the register, record the audit event, commit; the answer's HTML."""
    document = db.get_one(Document, document_id)
    answer = check_against(db, document, report.sha256)
    found = answer.match
    head = ("<h1>Kiểm tra văn bản</h1>"
            f'<div class="answer {"yes" if answer.genuine else "no"}" role="status">'
            f"{'✔' if answer.genuine else '✘'} {_e(answer.vi)}"
            f'<small lang="en">{_e(answer.en)}</small><small>SHA-256 của tệp: '
            f"{_e(report.sha256)}</small></div>"
            + _entry_table(document)
            + f'<p><a href="/v/{_e(code)}">Kiểm tra tệp khác</a></p>'
            "<h2>Báo cáo kiểm tra chữ ký số</h2>")
    record(db, AuditAction.VERIFY, actor=PUBLIC_ACTOR, body_id=document.body_id,
           object_type="document", object_id=document.id,
           details={"public": True, "file": name, "sha256": report.sha256,
                    "verdict": str(report.verdict), "genuine": answer.genuine,
                    "relation": found.relation.name if found else None})
    db.commit()
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
    report_page = render_html(report, "vi")
    return HTMLResponse(report_page.replace(
        "<body>", f'<body><style>{_CSS}</style><section class="kt">{head}</section>', 1),
        headers=_HEADERS)
