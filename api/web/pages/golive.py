"""The administrator's go-live pages: the seal and signature pictures (checked, previewed as
stamped before they are kept, every version listed), the staff list, people's
certificates checked against what the body trusts (``/quan-tri/dua-vao-su-dung``); who holds
which key with its XLSX (``/quan-tri/chung-thu-so``); "Ready to issue?"
(``/quan-tri/san-sang``). Each act is a :mod:`documents.golive` function; the certificate
checks take ``Services.context_for``, the readiness page ``api.readiness.readiness_of``, as
the JSON routes do."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response

from certs import load_certificates
from documents import (
    PictureKind,
    Role,
    certificate_inventory,
    enrol_for_person,
    import_staff_file,
    people_pictures,
    picture_versions,
    preview_picture,
    upload_seal,
    upload_signature,
)

from ...exports import inventory_workbook, warning_text
from ...http.errors import MissingInput
from ...readiness import readiness_of
from ..context import Ctx, PageCtx, PostCtx
from ..convert import certificate_pem
from ..rendering import render
from ..routing import UiRoute

router = APIRouter(route_class=UiRoute, include_in_schema=False)
PATH = "/quan-tri/dua-vao-su-dung"
KEYS_PATH = "/quan-tri/chung-thu-so"
READY_PATH = "/quan-tri/san-sang"


def _ids(ctx: Ctx) -> tuple[int, int]:
    """(account id, body id) of an administrator of the current body; the page's own
    transaction ends here, since each act owns one."""
    body_id, actor = ctx.require(Role.ADMIN).id, ctx.user.id
    ctx.db.commit()
    return actor, body_id


def _hub_context(ctx: Ctx) -> dict[str, Any]:
    actor, body_id = _ids(ctx)
    found = people_pictures(ctx.svc.sessions, actor, body_id)
    return {"ctx": ctx, "people": [(pid, name, position) for pid, name, position, _ in found],
            "signatures": {pid: versions for pid, _, _, versions in found},
            "seals": picture_versions(ctx.svc.sessions, actor, body_id)}


@router.get(PATH)
def hub(request: Request, ctx: PageCtx) -> Response:
    return render(request, "golive.html", _hub_context(ctx))


@router.get(PATH + "/noi-dung")
def hub_content(request: Request, ctx: PageCtx) -> Response:
    return render(request, "_golive.html", _hub_context(ctx))


def _preview(request: Request, png: bytes, message: str) -> Response:
    return render(request, "_preview.html", {
        "image": base64.b64encode(png).decode("ascii"), "message": message})


def _saved(request: Request, message: str) -> Response:
    return render(request, "_alert.html", {"message": message, "kind": "ok"},
                  headers={"HX-Trigger": "golive-changed"})


async def _file(upload: UploadFile | None) -> bytes:
    data = await upload.read() if upload is not None else b""
    if not data:
        raise MissingInput(["file"])
    return data


@router.post(PATH + "/con-dau/xem-truoc")
async def seal_preview(request: Request, ctx: PostCtx, file: UploadFile | None = None,
                       diameter_mm: float = Form(36.0)) -> Response:
    actor, body_id = _ids(ctx)
    png = preview_picture(ctx.svc.sessions, actor, body_id, kind=PictureKind.SEAL,
                                 png=await _file(file), diameter_mm=diameter_mm)
    return _preview(request, png, "Ảnh con dấu đạt yêu cầu. Khối chữ ký sẽ được đóng dấu như "
                                  "dưới đây; bấm “Lưu ảnh con dấu” để dùng ảnh này.")


@router.post(PATH + "/con-dau")
async def seal_upload(request: Request, ctx: PostCtx, file: UploadFile | None = None,
                      diameter_mm: float = Form(36.0)) -> Response:
    actor, body_id = _ids(ctx)
    version = upload_seal(ctx.svc.sessions, actor, body_id, await _file(file),
                                 diameter_mm)
    return _saved(request, f"Đã lưu ảnh con dấu (phiên bản {version.id}, đường kính "
                           f"{version.width_mm:g} mm): từ nay văn bản ban hành đóng dấu này.")


@router.post(PATH + "/chu-ky/xem-truoc")
async def signature_preview(request: Request, ctx: PostCtx, file: UploadFile | None = None,
                            person_id: int = Form()) -> Response:
    actor, body_id = _ids(ctx)
    png = preview_picture(ctx.svc.sessions, actor, body_id,
                                 kind=PictureKind.SIGNATURE, png=await _file(file),
                                 person_id=person_id)
    return _preview(request, png, "Ảnh chữ ký đạt yêu cầu. Khối chữ ký sẽ như dưới đây; bấm "
                                  "“Lưu ảnh chữ ký” để dùng ảnh này.")


@router.post(PATH + "/chu-ky")
async def signature_upload(request: Request, ctx: PostCtx, file: UploadFile | None = None,
                           person_id: int = Form()) -> Response:
    actor, body_id = _ids(ctx)
    version = upload_signature(ctx.svc.sessions, actor, body_id, person_id,
                                      await _file(file))
    return _saved(request, f"Đã lưu ảnh chữ ký (phiên bản {version.id}).")


@router.post(PATH + "/can-bo")
async def staff_upload(request: Request, ctx: PostCtx,
                       file: UploadFile | None = None) -> Response:
    actor, body_id = _ids(ctx)
    content = await _file(file)
    imported = import_staff_file(ctx.svc.sessions, actor, body_id, content,
                                        (file.filename if file else None) or "can-bo.csv")
    return render(request, "_staff_imported.html", {"accounts": imported.accounts},
                  headers={"HX-Trigger": "golive-changed"})


@router.post(PATH + "/chung-thu")
async def certificate_upload(request: Request, ctx: PostCtx, file: UploadFile | None = None,
                             person_id: int = Form()) -> Response:
    actor, body_id = _ids(ctx)
    data = await _file(file)
    (cert, *chain) = load_certificates(
        certificate_pem(data, (file.filename if file else None) or "?").encode(), "file")
    facts = enrol_for_person(ctx.svc.sessions, actor, body_id, person_id, cert,
                                    ctx.svc.context_for([body_id]), chain=chain,
                                    source="PEM")
    return _saved(request, f"Đã đăng ký chứng thư số {facts.subject} (số hiệu {facts.serial}, "
                           f"hết hạn {facts.not_after:%d/%m/%Y}): hợp lệ, chuỗi tin cậy đầy đủ.")


@router.get(KEYS_PATH)
def keys_page(request: Request, ctx: PageCtx) -> Response:
    actor, body_id = _ids(ctx)
    rows = certificate_inventory(ctx.svc.sessions, actor, body_id)
    return render(request, "keys.html", {"ctx": ctx, "rows": rows,
                                         "warnings": [warning_text(r) for r in rows]})


@router.get(KEYS_PATH + ".xlsx")
def keys_xlsx(ctx: PageCtx) -> Response:
    actor, body_id = _ids(ctx)
    name, content = inventory_workbook(ctx.svc.sessions, actor, body_id)
    return Response(content, media_type="application/vnd.openxmlformats-officedocument."
                                        "spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get(READY_PATH)
def ready_page(request: Request, ctx: PageCtx) -> Response:
    actor, body_id = _ids(ctx)
    checks = readiness_of(ctx.svc, actor, body_id)
    return render(request, "ready.html", {"ctx": ctx, "checks": checks,
                                          "ready": all(c["ok"] for c in checks)})
