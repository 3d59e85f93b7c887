"""The signer's other ways to sign, on the signer's page (``/lanh-dao``).

- **Any tool of their own**: download the prepared document, sign it in the VGCA Sign
  Tool, a CA's desktop signer, Adobe or Foxit, upload the signed file
  (:mod:`documents.roundtrip` checks it);
- **confirmed on the phone** (VNPT SmartCA style): one request to the phone for the
  approved batch, "xác nhận trên điện thoại" with a countdown while the service waits,
  the reason shown when the official refused or the time ran out (:mod:`api.worker.phone`).

Thin over :mod:`documents.roundtrip` and the worker wiring (``api.worker.phone``), as
the JSON routes of ``api/http/routes/channels.py`` are.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import Response

from documents import JobStatus, Role, accept_signed, signable_elsewhere, signer_released

from ...http.limits import read_upload
from ...worker.phone import WAITING_VI, start_phone_batch
from ..context import Ctx, PageCtx, PostCtx
from ..rendering import render
from ..routing import UiRoute
from .signer import PATH, _jobs_context

router = APIRouter(route_class=UiRoute, include_in_schema=False)


@router.get(PATH + "/cach-ky-khac")
def other_ways(request: Request, ctx: PageCtx) -> Response:
    """The documents the signer signs next, each with "download, sign in your tool, upload"."""
    ctx.require(Role.SIGNER)
    documents = [{"id": d.id, "subject": d.subject, "type_name": d.doc_type.name}
                 for d in signable_elsewhere(ctx.db, ctx.user)]
    return render(request, "_other_ways.html", {"ctx": ctx, "documents": documents})


@router.post(PATH + "/ky-ngoai/{document_id}")
def upload_signed(request: Request, document_id: str, file: UploadFile,
                  ctx: PostCtx) -> Response:
    """The file signed in the signer's own tool; a refusal says what differs."""
    ctx.require(Role.SIGNER)
    data = read_upload(file, ctx.svc.settings.max_upload_mb)
    accept_signed(ctx.db, ctx.svc.store, ctx.user, document_id, data)
    return render(request, "_alert.html", {
        "kind": "ok", "message": "Đã nhận văn bản anh/chị ký bằng phần mềm của mình: chữ ký "
                                 "đúng bản đã chuẩn bị và đúng chứng thư; văn bản chuyển văn "
                                 "thư ban hành."}, headers={"HX-Trigger": "queue-changed"})


def _phone_context(ctx: Ctx, batch: str, until: float) -> dict[str, Any]:
    context = _jobs_context(ctx, batch)
    jobs = context["jobs"]
    left = max(0, int(until - dt.datetime.now(dt.UTC).timestamp()))
    waiting = any(j["error"] == WAITING_VI for j in jobs)
    problems = {j["error"] for j in jobs
                if j["error"] and j["error"] != WAITING_VI and j["status"] == JobStatus.READY.name}
    expired = waiting and left == 0
    return {**context, "until": int(until), "seconds": left,
            "countdown": f"{left // 60}:{left % 60:02d}",
            "waiting": waiting and not expired and not context["finished"],
            "problems": sorted(problems) + (
                ["hết thời gian xác nhận trên điện thoại; văn bản vẫn chờ ký"]
                if expired else [])}


@router.post(PATH + "/dien-thoai/{batch}")
async def phone_sign(request: Request, batch: str, ctx: PostCtx) -> Response:
    """Send the approved batch to the signer's phone, then count down."""
    # the database is read off the event loop: on SQLite a transaction waits for the write
    # lock, and the request holding it (a poll of this page) needs this loop to let it go
    await asyncio.to_thread(ctx.require, Role.SIGNER)
    person_id = await asyncio.to_thread(signer_released, ctx.db, ctx.user.id)
    started = await asyncio.to_thread(start_phone_batch, ctx.svc, person_id, batch)
    until = started.confirm_until.timestamp()
    context = await asyncio.to_thread(_phone_context, ctx, batch, until)
    return render(request, "_phone.html", context)


@router.get(PATH + "/dien-thoai/{batch}")
def phone_status(request: Request, batch: str, ctx: PageCtx, until: float = 0) -> Response:
    """Every second while the phone's answer is awaited: the countdown and the jobs."""
    ctx.require(Role.SIGNER)
    return render(request, "_phone.html", _phone_context(ctx, batch, until))
