"""The signer's queue: what waits, approve (one or a batch), return with a reason, reassign."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.orm import Session

from documents import (
    Channel,
    Document,
    DocumentStatus,
    NoSigningAuthority,
    Person,
    SigningAuthority,
    create_job,
)
from documents.accounts import Role, User, require_role
from documents.audit import AuditAction, record
from documents.custody import approval_custody
from documents.queue import (
    SigningRequest,
    approve_batch,
    approve_request,
    current_signer,
    my_queue,
    reassign,
    return_request,
)
from documents.tasks import PREPARE_JOB, SIGN_APPROVAL

from ..deps import CurrentUser, ServicesDep, SessionDep, signer_of
from ..errors import NotFound
from .documents import person_of

router = APIRouter(prefix="/api/v1", tags=["signing queue"])


def request_json(request: SigningRequest) -> dict[str, Any]:
    document = request.document
    return {
        "id": request.id, "document_id": document.id, "subject": document.subject,
        "type_name": document.doc_type.name, "status": request.status.name,
        "step": request.step, "priority": int(request.priority),
        "due_at": request.due_at.isoformat() if request.due_at else None,
        "preview": f"/api/v1/documents/{document.id}/versions/prepared",
    }


def _own_request(db: Session, user: User, request_id: int) -> SigningRequest:
    request = db.get(SigningRequest, request_id)
    person = signer_of(db, user)
    if request is None or request.person_id != person.id:
        raise NotFound(f"yêu cầu ký {request_id} / signing request {request_id}")
    require_role(db, user, request.document.body, Role.SIGNER)
    return request


def _start_signature(db: Session, celery: Any, document: Document, person: Person,
                     batch: str, user: User) -> dict[str, str] | None:
    """After the caller's own last approval, their signature with the key of their signing
    authority (documents.custody): on the host of their server-side token, or (a key the
    service does not hold) a hash-only job for ``kyso agent`` or the remote service."""
    if document.status is not DocumentStatus.AWAITING_SIGNATURE or \
            current_signer(db, document) != person:
        return None
    try:
        custody = approval_custody(db, user, document, person_id=person.id, server=False)
    except NoSigningAuthority:  # the authority ended meanwhile: nothing to sign with
        return None
    if custody.channel is Channel.SERVER:
        result = celery.send_task(SIGN_APPROVAL, args=[document.id, person.id, user.id],
                                  queue=custody.queue)
        return {"task_id": str(result.id)}
    authority = db.get_one(SigningAuthority, custody.authority_id)
    job = create_job(db, document, person, authority, batch, actor=user.username)
    job_id = job.id
    db.commit()  # enqueue only after the commit
    celery.send_task(PREPARE_JOB, args=[job_id])
    return {"job_id": job_id, "batch": batch, "channel": custody.token_name}


@router.get("/queue")
def queue(user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    """What waits for the caller now (priority, then due time)."""
    return [request_json(r) for r in my_queue(db, signer_of(db, user))]


@router.post("/requests/{request_id}/approve", status_code=202)
def approve(request_id: int, user: CurrentUser, db: SessionDep,
            svc: ServicesDep) -> dict[str, Any]:
    request = _own_request(db, user, request_id)
    approve_request(db, request, actor=user.username)
    record(db, AuditAction.APPROVE, actor=user.username, body_id=request.document.body_id,
           object_type="document", object_id=request.document_id,
           details={"request": request.id, "step": request.step})
    db.commit()  # enqueue only after the commit
    started = _start_signature(db, svc.celery, request.document, signer_of(db, user),
                               str(uuid.uuid4()), user) or {}
    return {"request": request_json(request), **started}


class Batch(BaseModel):
    request_ids: list[int]


@router.post("/requests/approve-batch", status_code=202)
def approve_many(batch: Batch, user: CurrentUser, db: SessionDep,
                 svc: ServicesDep) -> dict[str, Any]:
    requests = [_own_request(db, user, rid) for rid in batch.request_ids]
    approve_batch(db, requests, actor=user.username)
    for r in requests:
        record(db, AuditAction.APPROVE, actor=user.username, body_id=r.document.body_id,
               object_type="document", object_id=r.document_id,
               details={"request": r.id, "step": r.step, "batch": len(requests)})
    db.commit()
    person = signer_of(db, user)
    batch_id = str(uuid.uuid4())
    started = [_start_signature(db, svc.celery, r.document, person, batch_id, user)
               for r in requests]
    return {"requests": [request_json(r) for r in requests], "batch": batch_id,
            "task_ids": [s.get("task_id") if s else None for s in started],
            "job_ids": [s["job_id"] for s in started if s and "job_id" in s]}


class Return(BaseModel):
    reason: str


@router.post("/requests/{request_id}/return")
def give_back(request_id: int, form: Return, user: CurrentUser,
              db: SessionDep) -> dict[str, Any]:
    request = _own_request(db, user, request_id)
    return_request(db, request, form.reason, actor=user.username)
    record(db, AuditAction.RETURN, actor=user.username, body_id=request.document.body_id,
           object_type="document", object_id=request.document_id,
           details={"request": request.id, "reason": form.reason})
    db.commit()
    return request_json(request)


class Reassign(BaseModel):
    person_id: int


@router.post("/requests/{request_id}/reassign")
def hand_over(request_id: int, form: Reassign, user: CurrentUser,
              db: SessionDep) -> dict[str, Any]:
    request = _own_request(db, user, request_id)
    reassign(db, request, person_of(db, request.document.body_id, form.person_id),
             actor=user.username)
    record(db, AuditAction.ROUTE, actor=user.username, body_id=request.document.body_id,
           object_type="document", object_id=request.document_id,
           details={"request": request.id, "reassigned_to": form.person_id})
    db.commit()
    return request_json(request)
