"""The records clerk's page: documents waiting for a number, "Cấp số và đóng dấu" in one
click (with the number and the date line exactly as the page will print them shown first),
attachments and electronic copies of issued documents; and the register page (search,
export)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import func, select

from common import KysoError, vietnam_time
from documents import (
    Document,
    DocumentStatus,
    NumberBook,
    Organisation,
    Role,
    Unit,
    VersionKind,
    attach_file,
    book_for,
    compose_symbol,
    copy_document,
    counter_value,
    document_page,
    issue_document,
    latest_version,
    number_symbol,
    prepared_layout,
    printed_date,
    query_register,
    start_register_export,
    status_counts,
    visible_document,
)
from signer import CopyKind, DraftLayout

from ...http.views import register_json
from ..context import Ctx, PageCtx, PostCtx
from ..rendering import day_text, parse_day, render
from ..routing import UiRoute
from ..views import document_view, listing, query_string

router = APIRouter(route_class=UiRoute, include_in_schema=False)
PATH = "/van-thu"
REGISTER_PATH = "/so-van-ban"


def _approved(ctx: Ctx, document: Document) -> tuple[bytes, DraftLayout] | None:
    """The approved file and its layout (the prepared version's, read once per process:
    :func:`documents.prepared_layout`, as issuing reads it)."""
    approved = latest_version(ctx.db, document, VersionKind.APPROVED)
    prepared = latest_version(ctx.db, document, VersionKind.PREPARED)
    if approved is None or prepared is None:
        return None
    return ctx.svc.store.get(approved.sha256), prepared_layout(ctx.svc.store, prepared.sha256)


def printed_on(ctx: Ctx, document: Document, day: date) -> str:
    """The date line as the page issued on ``day`` prints it — the same function issuing
    checks with, so what the clerk reads is what gets printed — or why it cannot be."""
    found = _approved(ctx, document)
    if found is None:
        return ""
    pdf, layout = found
    line = printed_date(pdf, day, layout.date)
    return line if line is not None else "(văn bản không có dòng ngày tháng)"


def recipients_of(ctx: Ctx, document: Document) -> str:
    """The draft's own "Nơi nhận" list, as the register writes it ("" when it has none)."""
    found = _approved(ctx, document)
    return found[1].recipients_text if found else ""


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
    return {"book": book.name, "book_id": book.id, "number": number_symbol(following, symbol),
            "date_line": printed, "recipients": recipients_of(ctx, document)}


#: Documents a page of each of the clerk's lists shows.
PAGE_SIZE = 20
WAITING = (DocumentStatus.SIGNED, DocumentStatus.NUMBERED)
ISSUED = (DocumentStatus.ISSUED, DocumentStatus.DELIVERED)


def waiting_by_book(ctx: Ctx, body: Organisation) -> dict[int, int]:
    """How many documents wait for a number of each book (every one waiting, not only
    the page shown): the waiting documents counted by type and unit, each pair's book
    found once."""
    counts: dict[int, int] = {}
    for code, unit_id, count in ctx.db.execute(
            select(Document.doc_type_code, Document.unit_id, func.count())
            .where(Document.body_id == body.id, Document.status.in_(WAITING))
            .group_by(Document.doc_type_code, Document.unit_id)):
        unit = ctx.db.get(Unit, unit_id) if unit_id is not None else None
        try:
            book = book_for(ctx.db, body, code, unit)
        except KysoError:
            continue  # the page says why for the documents shown
        counts[book.id] = counts.get(book.id, 0) + count
    return counts


def _clerk_context(ctx: Ctx, waiting_next: str | None = None,
                   waiting_prev: str | None = None, issued_next: str | None = None,
                   issued_prev: str | None = None) -> dict[str, Any]:
    """The shown pages of the clerk's two lists: what waits for a number, oldest first
    (every one reachable, a page at a time), and the issued documents, newest first."""
    body = ctx.require(Role.CLERK)
    today = vietnam_time().date()
    counts = status_counts(ctx.db, [body.id])
    view: dict[str, str | int | None] = {
        "waiting_next": waiting_next, "waiting_prev": waiting_prev,
        "issued_next": issued_next, "issued_prev": issued_prev,
        "body": body.id if len(ctx.bodies) > 1 else None}
    page = document_page(ctx.db, [body.id], statuses=WAITING, limit=PAGE_SIZE,
                         following=waiting_next, preceding=waiting_prev, oldest_first=True)
    per_book = waiting_by_book(ctx, body) if page.items else {}
    waiting = []
    for document in page.items:
        preview = next_number(ctx, document, today)
        book_id = preview.get("book_id")
        # others waiting for the same book's next number
        preview["others"] = per_book.get(book_id, 1) - 1 if book_id else 0
        waiting.append({**document_view(ctx.db, document), "preview": preview})
    issued_page = document_page(ctx.db, [body.id], statuses=ISSUED, limit=PAGE_SIZE,
                                following=issued_next, preceding=issued_prev)
    issued = [document_view(ctx.db, d) for d in issued_page.items]
    return {"ctx": ctx, "today": today, "copy_kinds": list(CopyKind),
            "waiting": listing(page, waiting, sum(counts[s] for s in WAITING), view,
                               "waiting_next", "waiting_prev"),
            "issued": listing(issued_page, issued, sum(counts[s] for s in ISSUED), view,
                              "issued_next", "issued_prev"),
            "here": query_string(view)}


@router.get(PATH)
def clerk_page(request: Request, ctx: PageCtx, waiting_next: str | None = None,
               waiting_prev: str | None = None, issued_next: str | None = None,
               issued_prev: str | None = None) -> Response:
    return render(request, "clerk.html", _clerk_context(
        ctx, waiting_next, waiting_prev, issued_next, issued_prev))


@router.get(PATH + "/danh-sach")
def clerk_lists(request: Request, ctx: PageCtx, waiting_next: str | None = None,
                waiting_prev: str | None = None, issued_next: str | None = None,
                issued_prev: str | None = None) -> Response:
    return render(request, "_clerk_lists.html", _clerk_context(
        ctx, waiting_next, waiting_prev, issued_next, issued_prev))


def _task(request: Request, ctx: Ctx, task_id: str, what: str,
          document_id: str | None = None, download: str | None = None,
          act: str = "") -> Response:
    return render(request, "_task.html", _task_context(ctx, task_id, what, document_id,
                                                       download, act))


def _task_context(ctx: Ctx, task_id: str, what: str, document_id: str | None,
                  download: str | None, act: str = "") -> dict[str, Any]:
    """A worker's progress; once it is done, what it made: the issued document, the
    attachment (the task answers its SHA-256) or the copy (its document id)."""
    result = ctx.svc.celery.AsyncResult(task_id)
    state = result.state
    problem = None
    if state == "FAILURE":
        error = result.result
        problem = str(getattr(error, "vi", "") or f"không thành công ({type(error).__name__})")
    document = made = None
    if state == "SUCCESS" and act == "copy" and isinstance(result.result, str):
        document = document_view(ctx.db, visible_document(ctx.db, ctx.user, result.result))
    elif document_id and state == "SUCCESS":
        found = visible_document(ctx.db, ctx.user, document_id)
        document = document_view(ctx.db, found)
        if act == "attach":
            made = next((v for v in reversed(document["versions"])
                         if v["kind"] == "ATTACHMENT" and v["sha256"] == result.result), None)
    return {"ctx": ctx, "task_id": task_id, "state": state, "what": what, "act": act,
            "problem": problem, "document": document, "document_id": document_id,
            "attachment": made,
            "download": download, "finished": state in ("SUCCESS", "FAILURE", "REVOKED")}


@router.get(PATH + "/tac-vu/{task_id}")
def task_progress(request: Request, task_id: str, ctx: PageCtx, what: str = "",
                  d: str | None = None, download: str | None = None,
                  act: str = "") -> Response:
    """Every second while a worker issues, signs an attachment, copies or exports."""
    ctx.require(Role.CLERK, Role.AUDITOR, Role.ADMIN)
    context = _task_context(ctx, task_id, what, d, download, act)
    headers = {"HX-Trigger": "clerk-changed"} if context["finished"] else None
    return render(request, "_task.html", context, headers=headers)


@router.post(PATH + "/{document_id}/ban-hanh")
def issue(request: Request, document_id: str, ctx: PostCtx,
          recipients: str = Form("")) -> Response:
    """Number, date, register and seal: the issuing act, queued for the host of
    the body's organisation key (the date is the day of the signature); the page then
    follows the task."""
    queued = issue_document(ctx.db, ctx.svc, ctx.user.id, document_id, recipients)
    return _task(request, ctx, queued.task_id, "Cấp số và đóng dấu", document_id)


@router.post(PATH + "/{document_id}/phu-luc")
def attachment(request: Request, document_id: str, ctx: PostCtx,
                     file: UploadFile) -> Response:
    queued = attach_file(ctx.db, ctx.svc, ctx.user.id, document_id, read=file.file.read,
                         file_name=file.filename or "")
    return _task(request, ctx, queued.task_id, "Ký số phụ lục", document_id, act="attach")


@router.post(PATH + "/{document_id}/ban-sao")
def copy(request: Request, document_id: str, ctx: PostCtx,
         kind: str = Form("SAO_Y")) -> Response:
    if kind not in CopyKind.__members__:
        from ...http.errors import MissingInput

        raise MissingInput(["kind"])
    queued = copy_document(ctx.db, ctx.svc, ctx.user.id, document_id, kind)
    return _task(request, ctx, queued.task_id, f"Sao văn bản ({CopyKind[kind].value})",
                 document_id, act="copy")


# --- the register -----------------------------------------------------------------------

def _dates(date_from: str | None, date_to: str | None) -> tuple[date | None, date | None]:
    return parse_day(date_from, "Từ ngày"), parse_day(date_to, "Đến ngày")


@router.get(REGISTER_PATH)
def register_page(request: Request, ctx: PageCtx, year: int | None = None,
                  date_from: str | None = None, date_to: str | None = None,
                  unit: str | None = None, book: str | None = None,
                  q: str | None = None) -> Response:
    """The outgoing register of a year, narrowed by dates, unit, book and a text search."""
    body = ctx.require(Role.CLERK, Role.AUDITOR, Role.ADMIN)
    year = year or vietnam_time().year
    start, end = _dates(date_from, date_to)
    rows = [register_json(entry, cells) for entry, cells in query_register(
        ctx.db, ctx.user.id, body.id, year, date_from=start, date_to=end,
        unit=unit or None, book=book or None)]
    if q:
        needle = q.casefold()
        rows = [r for r in rows if needle in " ".join(
            str(r[k]) for k in ("number", "subject", "signer", "recipients")).casefold()]
    books = ctx.db.scalars(select(NumberBook).where(NumberBook.body_id == body.id)
                           .order_by(NumberBook.id)).all()
    filters = {"year": year, "date_from": day_text(date_from), "date_to": day_text(date_to),
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
    start, end = _dates(date_from, date_to)
    task_id = start_register_export(ctx.db, ctx.svc, ctx.user.id, body.id, year, format,
                                    date_from=start, date_to=end,
                                    unit=unit or None, book=book or None)
    return _task(request, ctx, task_id, f"Xuất sổ ({format.upper()})",
                 download=f"/api/v1/register/exports/{task_id}")
