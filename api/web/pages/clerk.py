"""The records clerk's page: documents waiting for a number, "Cấp số và đóng dấu" in one
click (with the number and the date line exactly as the page will print them shown first),
attachments and electronic copies of issued documents; and the register page (search,
export)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select

from common import KysoError
from documents import (
    Document,
    DocumentStatus,
    NumberBook,
    VersionKind,
    book_for,
    compose_symbol,
    latest_version,
    number_symbol,
    printed_date,
)
from documents.accounts import Role
from documents.numbering import counter_value
from signer import DateLine, locate, vietnam_time
from signer.profiles import CopyKind

from ...http.routes import documents as document_routes
from ...http.routes import register as register_routes
from ..context import Ctx, PageCtx, PostCtx
from ..rendering import render
from ..routing import UiRoute
from ..views import body_documents, document_view

router = APIRouter(route_class=UiRoute, include_in_schema=False)
PATH = "/van-thu"
REGISTER_PATH = "/so-van-ban"


#: The approved files' date lines, by SHA-256 (a file never changes under its hash).
_DATE_LINES: dict[str, DateLine | None] = {}


def printed_on(ctx: Ctx, document: Document, day: date) -> str:
    """The date line as the page issued on ``day`` prints it — the same function issuing
    checks with, so what the clerk reads is what gets printed — or why it cannot be."""
    approved = latest_version(ctx.db, document, VersionKind.APPROVED)
    if approved is None:
        return ""
    pdf = ctx.svc.store.get(approved.sha256)
    if approved.sha256 not in _DATE_LINES:
        if len(_DATE_LINES) > 512:
            _DATE_LINES.clear()
        _DATE_LINES[approved.sha256] = locate(pdf).date
    line = printed_date(pdf, day, _DATE_LINES[approved.sha256])
    return line if line is not None else "(văn bản không có dòng ngày tháng)"


def next_number(ctx: Ctx, document: Document, today: date) -> dict[str, Any]:
    """What issuing would fill in now, read-only: the book's next number and the date
    line as it will be printed. The number is taken for real only when the clerk issues
    (another clerk may take it first)."""
    body = document.body
    try:
        book = book_for(ctx.db, body, document.doc_type, document.unit)
        printed = printed_on(ctx, document, today)
    except KysoError as exc:
        return {"problem": exc.vi}
    following = counter_value(ctx.db, book, today.year) + 1
    symbol = compose_symbol(document.doc_type, body, document.unit, book.symbol_with_unit)
    return {"book": book.name, "number": number_symbol(following, symbol),
            "date_line": printed}


def _clerk_context(ctx: Ctx) -> dict[str, Any]:
    body = ctx.require(Role.CLERK)
    today = vietnam_time().date()
    waiting = []
    for document in body_documents(ctx.db, body, DocumentStatus.SIGNED,
                                   DocumentStatus.NUMBERED):
        waiting.append({**document_view(ctx.db, document),
                        "preview": next_number(ctx, document, today)})
    issued = [document_view(ctx.db, d) for d in body_documents(
        ctx.db, body, DocumentStatus.ISSUED, DocumentStatus.DELIVERED, limit=30)]
    return {"ctx": ctx, "waiting": waiting, "issued": issued, "today": today,
            "copy_kinds": list(CopyKind)}


@router.get(PATH)
def clerk_page(request: Request, ctx: PageCtx) -> Response:
    return render(request, "clerk.html", _clerk_context(ctx))


@router.get(PATH + "/danh-sach")
def clerk_lists(request: Request, ctx: PageCtx) -> Response:
    return render(request, "_clerk_lists.html", _clerk_context(ctx))


def _task(request: Request, ctx: Ctx, task_id: str, what: str,
          document_id: str | None = None, download: str | None = None) -> Response:
    return render(request, "_task.html", _task_context(ctx, task_id, what, document_id,
                                                       download))


def _task_context(ctx: Ctx, task_id: str, what: str, document_id: str | None,
                  download: str | None) -> dict[str, Any]:
    result = ctx.svc.celery.AsyncResult(task_id)
    state = result.state
    problem = None
    if state == "FAILURE":
        error = result.result
        problem = str(getattr(error, "vi", "") or f"không thành công ({type(error).__name__})")
    document = None
    if document_id and state == "SUCCESS":
        found = document_routes.visible_document(ctx.db, ctx.user, document_id)
        document = document_view(ctx.db, found)
    return {"ctx": ctx, "task_id": task_id, "state": state, "what": what,
            "problem": problem, "document": document, "document_id": document_id,
            "download": download, "finished": state in ("SUCCESS", "FAILURE", "REVOKED")}


@router.get(PATH + "/tac-vu/{task_id}")
def task_progress(request: Request, task_id: str, ctx: PageCtx, what: str = "",
                  d: str | None = None, download: str | None = None) -> Response:
    """Every second while a worker issues, signs an attachment, copies or exports."""
    ctx.require(Role.CLERK, Role.AUDITOR, Role.ADMIN)
    context = _task_context(ctx, task_id, what, d, download)
    headers = {"HX-Trigger": "clerk-changed"} if context["finished"] else None
    return render(request, "_task.html", context, headers=headers)


@router.post(PATH + "/{document_id}/ban-hanh")
def issue(request: Request, document_id: str, ctx: PostCtx,
          recipients: str = Form("")) -> Response:
    """Number, date, register and seal: the JSON route's function, queued for the host of
    the body's organisation key (the date is the day of the signature); the page then
    follows the task."""
    form = document_routes.IssueForm(recipients=recipients)
    answer = document_routes.issue(document_id, form, ctx.user, ctx.db, ctx.svc)
    return _task(request, ctx, answer["task_id"], "Cấp số và đóng dấu", document_id)


@router.post(PATH + "/{document_id}/phu-luc")
def attachment(request: Request, document_id: str, ctx: PostCtx,
                     file: UploadFile) -> Response:
    answer = document_routes.attach(document_id, file, ctx.user, ctx.db, ctx.svc)
    return _task(request, ctx, answer["task_id"], "Ký số phụ lục", document_id)


@router.post(PATH + "/{document_id}/ban-sao")
def copy(request: Request, document_id: str, ctx: PostCtx,
         kind: str = Form("SAO_Y")) -> Response:
    if kind not in CopyKind.__members__:
        from ...http.errors import MissingInput

        raise MissingInput(["kind"])
    form = document_routes.CopyForm.model_validate({"kind": kind})
    answer = document_routes.copy(document_id, form, ctx.user, ctx.db, ctx.svc)
    return _task(request, ctx, answer["task_id"], f"Sao văn bản ({CopyKind[kind].value})")


# --- the register -----------------------------------------------------------------------

def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@router.get(REGISTER_PATH)
def register_page(request: Request, ctx: PageCtx, year: int | None = None,
                  date_from: str | None = None, date_to: str | None = None,
                  unit: str | None = None, book: str | None = None,
                  q: str | None = None) -> Response:
    """The outgoing register of a year, narrowed by dates, unit, book and a text search."""
    body = ctx.require(Role.CLERK, Role.AUDITOR, Role.ADMIN)
    year = year or vietnam_time().year
    rows = register_routes.query(body.id, year, ctx.user, ctx.db, _date(date_from),
                                 _date(date_to), unit or None, book or None)
    if q:
        needle = q.casefold()
        rows = [r for r in rows if needle in " ".join(
            str(r[k]) for k in ("number", "subject", "signer", "recipients")).casefold()]
    books = ctx.db.scalars(select(NumberBook).where(NumberBook.body_id == body.id)
                           .order_by(NumberBook.id)).all()
    filters = {"year": year, "date_from": date_from or "", "date_to": date_to or "",
               "unit": unit or "", "book": book or "", "q": q or ""}
    template = "_register_rows.html" if request.headers.get("hx-request") else "register.html"
    return render(request, template, {"ctx": ctx, "rows": rows, "filters": filters,
                                      "units": body.units, "books": books})


@router.post(REGISTER_PATH + "/xuat")
def export(request: Request, ctx: PostCtx, year: int = Form(), format: str = Form("pdf"),
           date_from: str = Form(""), date_to: str = Form(""), unit: str = Form(""),
           book: str = Form("")) -> Response:
    """The register as PDF or XLSX, made by a worker; the page follows it, then links
    the file (``GET /api/v1/register/exports/{task_id}``)."""
    body = ctx.require(Role.CLERK, Role.AUDITOR, Role.ADMIN)
    form = register_routes.ExportRequest(format=format, date_from=_date(date_from),
                                         date_to=_date(date_to), unit=unit or None,
                                         book=book or None)
    answer = register_routes.start_export(body.id, year, form, ctx.user, ctx.db, ctx.svc)
    return _task(request, ctx, answer["task_id"], f"Xuất sổ ({format.upper()})",
                 download=answer["url"])
