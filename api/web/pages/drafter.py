"""The drafting staff's page: upload a draft, route it to its signers, follow it."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response

from certs import COMMUNE
from documents import (
    Document,
    DocumentStatus,
    NoSigners,
    NotFound,
    Role,
    Upload,
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
from ..views import body_documents, document_types, document_view, signers_of

router = APIRouter(route_class=UiRoute, include_in_schema=False)
PATH = "/chuyen-vien"
#: Signers one draft can be routed to in order, in the form.
SIGNER_SLOTS = 3


def _list_context(ctx: Ctx) -> dict[str, Any]:
    body = ctx.require(Role.DRAFTER, Role.CLERK)
    documents = [document_view(ctx.db, d) for d in body_documents(ctx.db, body)]
    return {"ctx": ctx, "documents": documents, "signers": signers_of(ctx.db, body),
            "slots": range(1, SIGNER_SLOTS + 1),
            # the list polls only while a worker is at one of its documents
            "moving": any(d["in_progress"] for d in documents)}


@router.get(PATH)
def drafter_page(request: Request, ctx: PageCtx) -> Response:
    ctx.require(Role.DRAFTER)
    body = ctx.body
    assert body is not None
    return render(request, "drafter.html", {
        **_list_context(ctx), "types": document_types(ctx.db), "units": body.units,
        "demo": body.name == COMMUNE})


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
def document_list(request: Request, ctx: PageCtx) -> Response:
    return render(request, "_documents.html", _list_context(ctx))


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


