"""The drafting staff's page: upload a draft, route it to its signers, follow it."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import ColumnElement, and_, or_

from certs import COMMUNE
from documents import (
    WAITING_PREFIX,
    Document,
    DocumentStatus,
    NoSigners,
    NotFound,
    Role,
    Upload,
    document_count,
    document_page,
    status_counts,
    upload_corrected_draft,
)
from documents import recall_draft as act_recall_draft
from documents import route_draft as act_route_draft
from documents import upload_draft as act_upload_draft

from ...errors import UploadTooLarge
from ..context import Ctx, PageCtx, PostCtx
from ..convert import is_office_file, office_to_pdf
from ..rendering import render
from ..routing import UiRoute
from ..views import (
    Listing,
    document_types,
    document_view,
    listing,
    query_string,
    signers_of,
)

router = APIRouter(route_class=UiRoute, include_in_schema=False)
PATH = "/chuyen-vien"
#: Signers one draft can be routed to in order, in the form.
SIGNER_SLOTS = 3


#: Documents a page of the drafter's lists shows.
PAGE_SIZE = 20
#: A refused draft waits for the drafter (a corrected file); one waiting for a service
#: resumes by itself.
REFUSED = and_(Document.problem.is_not(None), ~Document.problem.startswith(WAITING_PREFIX))
NOT_REFUSED = or_(Document.problem.is_(None), Document.problem.startswith(WAITING_PREFIX))


@dataclass(frozen=True)
class State:
    """One of the drafter's filters: its label and the documents it shows."""

    label: str
    statuses: tuple[DocumentStatus, ...]
    narrowed: dict[DocumentStatus, ColumnElement[bool]] = field(default_factory=dict)
    #: what waits for the drafter is listed oldest first, the rest newest first
    oldest_first: bool = False


S = DocumentStatus
#: The filters by state, by their key in the URL (``?state=``).
STATES: dict[str, State] = {
    "can-xu-ly": State("Cần xử lý", (S.PREPARED, S.RETURNED, S.DRAFT), {S.DRAFT: REFUSED},
                       oldest_first=True),
    "dang-trinh": State("Đang chuẩn bị, trình ký", (S.DRAFT, S.AWAITING_SIGNATURE),
                        {S.DRAFT: NOT_REFUSED}),
    "cho-phat-hanh": State("Chờ phát hành", (S.SIGNED, S.NUMBERED)),
    "da-ban-hanh": State("Đã ban hành", (S.ISSUED, S.DELIVERED)),
    "da-huy": State("Đã hủy số", (S.CANCELLED,)),
    "tat-ca": State("Tất cả", ()),
}
#: The first view: what waits for the drafter, then the other documents, newest first.
ACTION = "can-xu-ly"
OTHERS = State("Các văn bản khác", (S.DRAFT, S.AWAITING_SIGNATURE, S.SIGNED, S.NUMBERED,
                                     S.ISSUED, S.DELIVERED, S.CANCELLED),
               {S.DRAFT: NOT_REFUSED})


def _counts(ctx: Ctx, body_id: int) -> dict[str, int]:
    """How many documents each filter shows (one grouped count, and the refused drafts)."""
    by_status = status_counts(ctx.db, [body_id])
    refused = document_count(ctx.db, [body_id], [S.DRAFT], {S.DRAFT: REFUSED})
    counts = {key: sum(by_status[s] for s in state.statuses) for key, state in STATES.items()}
    counts["tat-ca"] = sum(by_status.values())
    counts["can-xu-ly"] += refused - by_status[S.DRAFT]
    counts["dang-trinh"] -= refused
    counts[""] = counts["tat-ca"] - counts["can-xu-ly"]
    return counts


def _listing(ctx: Ctx, body_id: int, state: State, count: int,
             view: dict[str, str | int | None], limit: int = PAGE_SIZE) -> Listing:
    page = document_page(ctx.db, [body_id], statuses=state.statuses, limit=limit,
                         following=str(view.get("next") or "") or None,
                         preceding=str(view.get("prev") or "") or None,
                         oldest_first=state.oldest_first, narrowed=state.narrowed)
    return listing(page, [document_view(ctx.db, d) for d in page.items], count, view)


def _list_context(ctx: Ctx, state: str = "", next: str | None = None,
                  prev: str | None = None) -> dict[str, Any]:
    """The shown page of the drafter's lists (what the list's polling fetches again):
    with no filter, what waits for the drafter (oldest first, the first page of it) and a
    page of the other documents; with a filter, a page of that filter's documents."""
    body = ctx.require(Role.DRAFTER, Role.CLERK)
    if state not in STATES:
        state = ""
    counts = _counts(ctx, body.id)
    view: dict[str, str | int | None] = {
        "state": state, "next": next, "prev": prev,
        "body": body.id if len(ctx.bodies) > 1 else None}
    action = None
    if state == "":
        action = _listing(ctx, body.id, STATES[ACTION], counts[ACTION],
                          {"state": ACTION, "body": view["body"]})
        shown = _listing(ctx, body.id, OTHERS, counts[""], view)
    else:
        shown = _listing(ctx, body.id, STATES[state], counts[state], view)
    documents = [*(action.items if action else []), *shown.items]
    return {"ctx": ctx, "action": action, "listing": shown, "documents": documents,
            "state": state, "states": STATES, "counts": counts,
            "here": query_string(view),
            "signers": signers_of(ctx.db, body), "slots": range(1, SIGNER_SLOTS + 1),
            # the list polls only while a worker is at one of the documents shown
            "moving": any(d["in_progress"] for d in documents)}


@router.get(PATH)
def drafter_page(request: Request, ctx: PageCtx, state: str = "", next: str | None = None,
                 prev: str | None = None) -> Response:
    ctx.require(Role.DRAFTER)
    body = ctx.body
    assert body is not None
    return render(request, "drafter.html", {
        **_list_context(ctx, state, next, prev), "types": document_types(ctx.db),
        "units": body.units, "demo": body.name == COMMUNE})


@router.get(PATH + "/du-thao-mau.pdf")
def sample_draft(ctx: PageCtx) -> Response:
    """The demo commune's sample draft (a Quyết định signed by Lê Minh Đức), so a person
    trying the demo from a browser has a file to upload. Members of the demo commune only."""
    body = ctx.require(Role.DRAFTER, Role.CLERK)
    if body.name != COMMUNE:
        raise NotFound("dự thảo mẫu / sample draft")
    data = (files("api") / "demo" / "assets" / "draft-quyet-dinh.pdf").read_bytes()
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": 'attachment; filename="du-thao-quyet-dinh-mau.pdf"',
        "X-Content-Type-Options": "nosniff"})


@router.get(PATH + "/danh-sach")
def document_list(request: Request, ctx: PageCtx, state: str = "", next: str | None = None,
                  prev: str | None = None) -> Response:
    return render(request, "_documents.html", _list_context(ctx, state, next, prev))


def _as_pdf(file: UploadFile) -> tuple[bytes, str]:
    """The upload's bytes, converted to PDF first when it is a .docx/.odt (blocking: the
    handlers calling this are plain functions, run in FastAPI's thread pool)."""
    name = file.filename or "du-thao.pdf"
    data = file.file.read()
    if is_office_file(name):
        data = office_to_pdf(data, name)
        name = name.rsplit(".", 1)[0] + ".pdf"
    return data, name


def _upload(data: bytes, ctx: Ctx) -> Upload:
    """The converted upload, held to the service's limit as the JSON API holds a file."""
    def read() -> bytes:
        if len(data) > ctx.svc.settings.max_upload_mb * 1024 * 1024:
            raise UploadTooLarge(ctx.svc.settings.max_upload_mb)
        return data
    return read


def _signer_ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.strip().isdigit()]


def _route(ctx: Ctx, document_id: str, signer_ids: list[int]) -> Document:
    if not signer_ids:
        raise NoSigners()
    return act_route_draft(ctx.db, ctx.svc, ctx.user.id, document_id, signer_ids)


def _done(request: Request, message: str, kind: str = "ok") -> Response:
    return render(request, "_alert.html", {"message": message, "kind": kind},
                  headers={"HX-Trigger": "documents-changed"})


@router.post(PATH + "/du-thao")
def upload_draft(request: Request, ctx: PostCtx, file: UploadFile,
                       doc_type: str = Form(), subject: str = Form(),
                       unit: str = Form(""), signer_1: str = Form(""),
                       signer_2: str = Form(""), signer_3: str = Form(""),
                       cover_draft_mark: bool = Form(False)) -> Response:
    """Upload (converting a .docx/.odt), wait for the worker's preparation, then route to
    the chosen signers in order — the drafting acts, one after the other."""
    body = ctx.require(Role.DRAFTER, Role.CLERK)
    if not subject.strip():
        from ...http.errors import MissingInput

        raise MissingInput(["subject"])
    data, name = _as_pdf(file)
    made = act_upload_draft(ctx.db, ctx.svc, ctx.user.id, body_id=body.id, doc_type=doc_type,
                        subject=subject.strip(), read=_upload(data, ctx), file_name=name,
                        unit=unit or None, cover_draft_mark=cover_draft_mark,
                        wait=ctx.svc.settings.prepare_wait)
    signer_ids = _signer_ids([signer_1, signer_2, signer_3])
    if made.document.status is not DocumentStatus.PREPARED:
        return _done(request, "Đã tải lên; dự thảo đang được chuẩn bị — khi trạng thái là "
                              "“Đã chuẩn bị”, bấm “Trình ký” trong danh sách.")
    if not signer_ids:
        return _done(request, "Đã tải lên và chuẩn bị xong. Chọn người ký rồi bấm “Trình ký” "
                              "trong danh sách.")
    _route(ctx, made.document.id, signer_ids)
    return _done(request, f"Đã trình ký “{subject.strip()}”.")


@router.post(PATH + "/{document_id}/trinh-ky")
def route_draft(request: Request, document_id: str, ctx: PostCtx,
                signer_1: str = Form(""), signer_2: str = Form(""),
                signer_3: str = Form("")) -> Response:
    _route(ctx, document_id, _signer_ids([signer_1, signer_2, signer_3]))
    return _done(request, "Đã trình ký.")


@router.post(PATH + "/{document_id}/du-thao-sua")
def corrected_draft(request: Request, document_id: str, ctx: PostCtx,
                    file: UploadFile, cover_draft_mark: bool = Form(False),
                    signer_1: str = Form(""), signer_2: str = Form(""),
                    signer_3: str = Form("")) -> Response:
    """The corrected draft, prepared, then routed again to the signers the form names (the
    last routing's, preselected): one click for the drafter."""
    data, name = _as_pdf(file)
    made = upload_corrected_draft(ctx.db, ctx.svc, ctx.user.id, document_id,
                                  read=_upload(data, ctx), file_name=name,
                                  cover_draft_mark=cover_draft_mark,
                                  wait=ctx.svc.settings.prepare_wait)
    signer_ids = _signer_ids([signer_1, signer_2, signer_3])
    if made.document.status is not DocumentStatus.PREPARED:
        return _done(request, "Đã nhận dự thảo đã sửa; đang chuẩn bị — khi trạng thái là "
                              "“Đã chuẩn bị”, bấm “Trình ký” (người ký đã chọn sẵn).")
    if not signer_ids:
        return _done(request, "Đã nhận dự thảo đã sửa và chuẩn bị xong — hãy trình ký lại.")
    _route(ctx, document_id, signer_ids)
    return _done(request, "Đã nhận dự thảo đã sửa và trình ký lại.")


@router.post(PATH + "/{document_id}/thu-hoi")
def recall_draft(request: Request, document_id: str, ctx: PostCtx) -> Response:
    act_recall_draft(ctx.db, ctx.user.id, document_id)
    return _done(request, "Đã thu hồi văn bản khỏi hàng chờ ký.")


