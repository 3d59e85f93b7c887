"""The signer's page: the "Chờ ký" queue with the document shown, approve or return,
approve a batch, and what happens next — the server's token signs (progress of the
documents), ``kyso agent`` on the signer's PC signs (the jobs' progress), or the
remote-signing service signs once the signer gives the batch's PIN/OTP."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from documents import OPEN_JOBS as OPEN
from documents import (
    Channel,
    Document,
    DocumentStatus,
    JobStatus,
    Person,
    Role,
    SigningAuthority,
    SigningJob,
    Started,
    approve_one,
    approve_several,
    channel_of,
    in_force,
    queue_count,
    queue_page,
    signer_of,
    signer_released,
    visible_document,
)
from documents import give_back as act_give_back

from ...errors import NothingChosen
from ...http.errors import MissingInput
from ...http.views import request_json
from ...worker.phone import phone_channel
from ...worker.remote import sign_remote_batch
from ..context import Ctx, PageCtx, PostCtx
from ..rendering import render
from ..routing import UiRoute
from ..views import listing, query_string

router = APIRouter(route_class=UiRoute, include_in_schema=False)
PATH = "/lanh-dao"
#: Statuses at which the approval signature is on the document.
SIGNED_OR_LATER = {DocumentStatus.SIGNED, DocumentStatus.NUMBERED, DocumentStatus.ISSUED,
                   DocumentStatus.DELIVERED}

CHANNEL_TEXT = {
    Channel.SERVER: "Sau khi anh/chị phê duyệt, máy chủ ký số ngay bằng thiết bị ký của anh/chị "
                    "đặt tại máy chủ.",
    Channel.AGENT: "Chữ ký số nằm trên USB token tại máy tính của anh/chị: sau khi phê duyệt, "
                   "Kyso Agent trên máy đó hỏi mã PIN một lần cho cả lô rồi ký.",
    Channel.REMOTE: "Anh/chị ký số từ xa: sau khi phê duyệt, nhập mã PIN/OTP của dịch vụ ký số "
                    "một lần cho cả lô.",
}
#: A remote-signing service that asks for a confirmation on the phone (VNPT SmartCA style).
PHONE_TEXT = ("Anh/chị ký số từ xa, xác nhận trên điện thoại: sau khi phê duyệt, bấm “Gửi yêu "
              "cầu ký đến điện thoại” rồi xác nhận một lần cho cả lô trong ứng dụng ký số.")


def _person(ctx: Ctx) -> Person:
    return signer_of(ctx.db, ctx.user)  # Forbidden when not linked to a person


def _authority(ctx: Ctx, person: Person) -> SigningAuthority | None:
    body = ctx.require(Role.SIGNER)
    return ctx.db.scalar(select(SigningAuthority).where(
        SigningAuthority.person_id == person.id, SigningAuthority.body_id == body.id,
        in_force()).order_by(SigningAuthority.id).limit(1))


#: Requests a page of the queue shows (a batch approval takes those ticked on it).
PAGE_SIZE = 30


def _queue_context(ctx: Ctx, next: str | None = None) -> dict[str, Any]:
    """A page of the person's queue, most urgent first, and how many wait in all."""
    body = ctx.require(Role.SIGNER)
    person = _person(ctx)
    page = queue_page(ctx.db, person, body=body, limit=PAGE_SIZE, following=next)
    items = []
    for request in page.items:
        document = request.document
        items.append({**request_json(request), "document_id": document.id,
                      "unit": document.unit.abbreviation if document.unit else None,
                      "created_at": request.created_at, "note": request.note,
                      "due": request.due_at})
    view: dict[str, str | int | None] = {
        "next": next, "body": body.id if len(ctx.bodies) > 1 else None}
    return {"ctx": ctx, "items": items,
            "queue": listing(page, items, queue_count(ctx.db, person, body=body), view),
            "here": query_string(view)}


@router.get(PATH)
def signer_page(request: Request, ctx: PageCtx, next: str | None = None) -> Response:
    context = _queue_context(ctx, next)
    person = _person(ctx)
    authority = _authority(ctx, person)
    channel = channel_of(authority) if authority is not None else None
    text = CHANNEL_TEXT.get(channel) if channel else None
    if authority is not None and phone_channel(ctx.svc, authority.token_name):
        text = PHONE_TEXT
    open_jobs = ctx.db.scalars(select(SigningJob).where(
        SigningJob.person_id == person.id, SigningJob.status.in_(OPEN))
        .order_by(SigningJob.created_at.desc()).limit(1)).first()
    return render(request, "signer.html", {
        **context, "person": person, "channel": channel.name if channel else None,
        "channel_text": text,
        "open_batch": open_jobs.batch if open_jobs else None})


@router.get(PATH + "/hang-cho")
def queue_fragment(request: Request, ctx: PageCtx, next: str | None = None) -> Response:
    return render(request, "_queue.html", _queue_context(ctx, next))


def _after_approval(request: Request, ctx: Ctx, document_ids: list[str],
                    task_ids: list[str], batch: str | None, job_ids: list[str],
                    channel: str | None) -> Response:
    """What follows an approval: progress of the server's signing, or of the jobs."""
    if job_ids and batch:
        remote = bool(channel and channel.startswith("remote:"))
        context = {**_jobs_context(ctx, batch), "remote": remote, "batch": batch}
        return render(request, "_jobs.html", context,
                      headers={"HX-Trigger": "queue-changed"})
    context = _progress_context(ctx, document_ids, task_ids)
    return render(request, "_progress.html", context, headers={"HX-Trigger": "queue-changed"})


@router.post(PATH + "/{request_id}/phe-duyet")
def approve(request: Request, request_id: int, ctx: PostCtx) -> Response:
    done = approve_one(ctx.db, ctx.svc, ctx.user.id, request_id)
    started = done.started or Started()
    return _after_approval(request, ctx, [done.request.document_id],
                           [started.task_id] if started.task_id else [],
                           started.batch, [started.job_id] if started.job_id else [],
                           started.channel)


@router.post(PATH + "/phe-duyet-lo")
def approve_batch(request: Request, ctx: PostCtx,
                  request_ids: Annotated[list[int], Form()] = []) -> Response:  # noqa: B006
    ids = list(request_ids)
    if not ids:
        raise NothingChosen()
    done = approve_several(ctx.db, ctx.svc, ctx.user.id, ids)
    job_ids = [s.job_id for s in done.started if s and s.job_id]
    channel = None
    if job_ids:
        job = ctx.db.get(SigningJob, job_ids[0])
        channel = job.channel if job else None
    return _after_approval(request, ctx, [r.document_id for r in done.requests],
                           [s.task_id for s in done.started if s and s.task_id], done.batch,
                           job_ids, channel)


@router.post(PATH + "/{request_id}/tra-lai")
def give_back(request: Request, request_id: int, ctx: PostCtx,
              reason: str = Form("")) -> Response:
    act_give_back(ctx.db, ctx.user.id, request_id, reason)
    return render(request, "_alert.html", {"message": "Đã trả lại văn bản cho người soạn "
                                                      "thảo, kèm lý do.", "kind": "ok"},
                  headers={"HX-Trigger": "queue-changed"})


def _task_problem(ctx: Ctx, task_id: str) -> str | None:
    """The Vietnamese reason a signing task failed, if it did."""
    result = ctx.svc.celery.AsyncResult(task_id)
    if result.state != "FAILURE":
        return None
    error = result.result
    vi = getattr(error, "vi", None)
    return str(vi) if vi else f"ký số không thành công ({type(error).__name__})"


def _progress_context(ctx: Ctx, document_ids: list[str],
                      task_ids: list[str]) -> dict[str, Any]:
    rows = []
    for document_id in document_ids:
        document: Document = visible_document(ctx.db, ctx.user, document_id)
        rows.append({"id": document.id, "subject": document.subject,
                     "status": document.status.name, "status_vi": document.status.value,
                     "done": document.status in SIGNED_OR_LATER})
    problems = [p for p in (_task_problem(ctx, t) for t in task_ids) if p]
    done = sum(1 for r in rows if r["done"])
    return {"ctx": ctx, "rows": rows, "done": done, "total": len(rows),
            "finished": done == len(rows) or bool(problems), "problems": problems,
            "query": "&".join([f"d={d}" for d in document_ids] + [f"t={t}" for t in task_ids])}


@router.get(PATH + "/tien-do")
def progress(request: Request, ctx: PageCtx) -> Response:
    """Every second while the server signs: the documents' statuses."""
    ctx.require(Role.SIGNER)
    documents = request.query_params.getlist("d")
    tasks = request.query_params.getlist("t")
    return render(request, "_progress.html", _progress_context(ctx, documents, tasks))


def _jobs_context(ctx: Ctx, batch: str | None) -> dict[str, Any]:
    person = _person(ctx)
    query = select(SigningJob).where(SigningJob.person_id == person.id)
    if batch:
        query = query.where(SigningJob.batch == batch)
    jobs = list(ctx.db.scalars(query.order_by(SigningJob.created_at.desc()).limit(50)))
    rows = [{"id": j.id, "subject": j.document.subject, "status": j.status.name,
             "status_vi": j.status.value, "error": j.error, "batch": j.batch} for j in jobs]
    done = sum(j.status is JobStatus.DONE for j in jobs)
    return {"ctx": ctx, "jobs": rows, "done": done, "total": len(rows),
            "phone": phone_channel(ctx.svc, jobs[0].channel if jobs else None),
            "ready": sum(j.status is JobStatus.READY for j in jobs),
            "finished": not any(j.status in OPEN for j in jobs), "batch": batch}


@router.get(PATH + "/viec-ky")
def jobs(request: Request, ctx: PageCtx, batch: str | None = None,
         remote: bool = False) -> Response:
    """Every second while the agent or the remote service signs: the jobs' statuses
    (the same rows ``GET /api/v1/agent/jobs`` serves the agent)."""
    ctx.require(Role.SIGNER)
    return render(request, "_jobs.html", {**_jobs_context(ctx, batch), "remote": remote})


@router.post(PATH + "/ky-tu-xa/{batch}")
async def remote_sign(request: Request, batch: str, ctx: PostCtx, pin: str = Form(""),
                      otp: str = Form("")) -> Response:
    """The batch's one authorisation: the PIN/OTP goes to the remote service, never kept."""
    # the database is read off the event loop (see channels.phone_sign)
    await asyncio.to_thread(ctx.require, Role.SIGNER)
    if not pin and not otp:
        raise MissingInput(["pin"])
    person_id = await asyncio.to_thread(signer_released, ctx.db, ctx.user.id)
    signed = await asyncio.to_thread(sign_remote_batch, ctx.svc, person_id, batch,
                                     pin or None, otp or None)
    context = {**await asyncio.to_thread(_jobs_context, ctx, batch), "remote": False,
               "message": f"Dịch vụ ký số từ xa đã ký {signed} văn bản; "
                          "đang hoàn tất."}
    return render(request, "_jobs.html", context)
