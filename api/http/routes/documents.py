"""Documents: upload a draft, route it, follow it, issue it, download its versions."""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from documents import (
    Document,
    DocumentVersion,
    Person,
    Priority,
    VersionKind,
    block_differences,
    find_authority,
    latest_version,
    new_draft,
    replace_draft,
)
from documents.accounts import Role, bodies_of, require_role
from documents.audit import AuditAction, record
from documents.custody import Act, issuing_custody
from documents.queue import recall, route
from documents.tasks import ISSUE, MAKE_COPY, PREPARE, SIGN_ATTACHMENT
from signer import locate
from signer.pdfinput import UPLOADED
from signer.profiles import CopyKind
from signer.sign import VIETNAM

from ...errors import DraftNotPrepared
from ..deps import CurrentUser, ServicesDep, SessionDep, member_body
from ..errors import NotFound, UnknownFields, UnknownValue, enum_member
from ..limits import read_upload

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])


def document_json(db: SessionDep, document: Document) -> dict[str, Any]:
    versions = db.scalars(select(DocumentVersion).where(
        DocumentVersion.document_id == document.id).order_by(DocumentVersion.id)).all()
    entry = document.register_entry
    return {
        "id": document.id, "body_id": document.body_id, "type": document.doc_type_code,
        "type_name": document.doc_type.name, "subject": document.subject,
        "status": document.status.name, "status_vi": document.status.value,
        "number": entry.number_symbol if entry else None,
        "problem": document.problem,
        "versions": [{"kind": v.kind.name, "sha256": v.sha256, "size": v.size,
                      "created_at": v.created_at.isoformat()} for v in versions],
    }


def person_of(db: SessionDep, body_id: int, person_id: int) -> Person:
    """The person ``person_id`` of the body ``body_id``; one of another body is as unknown
    as one that does not exist (422, naming nobody)."""
    person = db.get(Person, person_id)
    if person is None or person.body_id != body_id:
        raise UnknownValue("người", "person", person_id)
    return person


def visible_document(db: SessionDep, user: CurrentUser, document_id: str) -> Document:
    """The document, if the caller is a member of its body (else: not found, not forbidden,
    so one commune cannot even learn another's document ids)."""
    document = db.get(Document, document_id)
    if document is None or document.body_id not in {b.id for b in bodies_of(db, user)}:
        raise NotFound(f"văn bản {document_id} / document {document_id}")
    return document


def _prepare(db: SessionDep, svc: ServicesDep, document_id: str,
             actor: str, qr: bool | None = None,
             cover_draft_mark: bool = False) -> dict[str, Any]:
    """Prepare the committed draft in a worker; wait a little for the outcome, so that a
    drafter learns at once when the draft cannot be signed (else: poll the document).

    The session must not touch the database while waiting: on SQLite every transaction
    takes the write lock, which the worker needs."""
    from celery.exceptions import TimeoutError as CeleryTimeout

    result = svc.celery.send_task(PREPARE, args=[document_id, actor, qr, cover_draft_mark])
    outcome: Any = None
    with contextlib.suppress(CeleryTimeout):
        outcome = result.get(timeout=svc.settings.prepare_wait, propagate=False, interval=0.05)
    if isinstance(outcome, dict) and "vi" in outcome:
        raise DraftNotPrepared(document_id, outcome["vi"], outcome["en"], outcome.get("code"))
    return {**document_json(db, db.get_one(Document, document_id)), "task_id": result.id}


# Routes taking a file are plain functions (run in the thread pool): their database work
# must never block the event loop, which other requests need to finish and let go of
# SQLite's write lock. FastAPI has read the upload into ``file.file`` before the call.

@router.post("", status_code=201)
def upload(file: UploadFile, user: CurrentUser, db: SessionDep, svc: ServicesDep,
                 body_id: int = Form(), doc_type: str = Form(), subject: str = Form(),
                 unit: str | None = Form(None),
                 qr: bool | None = Form(None),
                 cover_draft_mark: bool = Form(False)) -> dict[str, Any]:
    """A drafter uploads a draft PDF: checked here, prepared by a worker (the answer
    waits for it up to ``KYSO_PREPARE_WAIT`` seconds; status DRAFT means not yet).
    ``qr=false``: no verification QR code on page 1 even when the service prints them.
    ``cover_draft_mark=true``: take "DỰ THẢO" lines and watermarks off the pages (audited);
    without it a draft carrying one is refused, the reason naming the mark and where."""
    body = member_body(db, user, body_id)
    require_role(db, user, body, Role.DRAFTER, Role.CLERK)
    data = read_upload(file, svc.settings.max_upload_mb)
    db.commit()  # no transaction (no SQLite write lock) while the file is checked
    svc.check_draft(data, draft_marks=True, source=file.filename or UPLOADED)
    chosen = next((u for u in body.units if u.abbreviation == unit), None)
    document = new_draft(db, svc.store, body, doc_type, subject, data, unit=chosen,
                         actor=user.username, file_name=file.filename or "", checked=True)
    document_id, username = document.id, user.username
    db.commit()
    return _prepare(db, svc, document_id, username, qr, cover_draft_mark)


@router.post("/{document_id}/draft")
def corrected_draft(document_id: str, file: UploadFile, user: CurrentUser,
                          db: SessionDep, svc: ServicesDep,
                          cover_draft_mark: bool = Form(False)) -> dict[str, Any]:
    """Upload the corrected draft of a returned document, or a new draft of one whose
    preparation was refused; it is prepared again (``cover_draft_mark`` as on upload)."""
    document = visible_document(db, user, document_id)
    require_role(db, user, document.body, Role.DRAFTER, Role.CLERK)
    data = read_upload(file, svc.settings.max_upload_mb)
    db.commit()  # no transaction (no SQLite write lock) while the file is checked
    svc.check_draft(data, draft_marks=True, source=file.filename or UPLOADED)
    replace_draft(db, svc.store, document, data, actor=user.username,
                  file_name=file.filename or "", checked=True)
    username = user.username
    db.commit()
    return _prepare(db, svc, document_id, username, cover_draft_mark=cover_draft_mark)


@router.get("")
def list_documents(user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    body_ids = [b.id for b in bodies_of(db, user)]
    found = db.scalars(select(Document).where(Document.body_id.in_(body_ids))
                       .order_by(Document.created_at.desc()).limit(200)).all()
    return [document_json(db, d) for d in found]


@router.get("/{document_id}")
def get_document(document_id: str, user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    return document_json(db, visible_document(db, user, document_id))


@router.get("/{document_id}/versions/{kind}")
def download(document_id: str, kind: str, user: CurrentUser, db: SessionDep,
             svc: ServicesDep) -> Response:
    document = visible_document(db, user, document_id)
    try:
        version = latest_version(db, document, VersionKind[kind.upper()])
    except KeyError as exc:
        raise NotFound(f"phiên bản {kind} / version {kind}") from exc
    if version is None:
        raise NotFound(f"phiên bản {kind} / version {kind}")
    data = svc.store.get(version.sha256)  # the hash is checked on every read
    record(db, AuditAction.DOWNLOAD, actor=user.username, body_id=document.body_id,
           object_type="document", object_id=document.id,
           details={"kind": version.kind.name, "sha256": version.sha256})
    db.commit()
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{document.id}-{kind.lower()}.pdf"'})


class RouteForm(BaseModel):
    signer_person_ids: list[int]
    due_at: datetime | None = None
    priority: int = int(Priority.NORMAL)
    note: str | None = None
    #: Why the document goes to a signer its signature block does not print (audited).
    block_override: str | None = None


@router.post("/{document_id}/route")
def route_document(document_id: str, form: RouteForm, user: CurrentUser,
                   db: SessionDep, svc: ServicesDep) -> dict[str, Any]:
    """Send a prepared document to its signers; the last one signs in the draft's
    signature block, which must print them (else 422, unless ``block_override``)."""
    document = visible_document(db, user, document_id)
    require_role(db, user, document.body, Role.DRAFTER, Role.CLERK)
    signers = [person_of(db, document.body_id, pid) for pid in form.signer_person_ids]
    due_at = form.due_at
    if due_at is not None and due_at.tzinfo is None:
        due_at = due_at.replace(tzinfo=VIETNAM)  # a time without offset is Vietnam time
    drafter = db.get(Person, user.person_id) if user.person_id else None
    if form.priority not in {int(p) for p in Priority}:
        raise UnknownValue("độ khẩn", "priority", form.priority, [str(int(p)) for p in Priority])
    prepared = latest_version(db, document, VersionKind.PREPARED)
    block = locate(svc.store.get(prepared.sha256)).signature if prepared else None
    route(db, document, signers, due_at=due_at, priority=Priority(form.priority),
          note=form.note, actor=user.username, drafter=drafter, block=block,
          block_override=form.block_override)
    details: dict[str, Any] = {"signers": form.signer_person_ids}
    if form.block_override:  # routed although the block may print someone else: say why
        authority = find_authority(db, signers[-1], document.body, document.doc_type,
                                   document.unit)
        assert authority is not None  # route() checked it
        details.update(block_override=form.block_override, block_differences=[
            d.en for d in block_differences(block, signers[-1], authority)])
    record(db, AuditAction.ROUTE, actor=user.username, body_id=document.body_id,
           object_type="document", object_id=document.id, details=details)
    db.commit()
    return document_json(db, document)


@router.post("/{document_id}/recall")
def recall_document(document_id: str, user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    document = visible_document(db, user, document_id)
    require_role(db, user, document.body, Role.DRAFTER, Role.CLERK)
    recall(db, document, actor=user.username)
    db.commit()
    return document_json(db, document)


# The issuing acts name no key and no date: the body's organisation key follows from the
# clerk's body (documents.custody), the date is the day of the organisation signature.
# Their request models refuse unknown fields, so a request naming "token" or "issued_on"
# gets a 422 instead of being silently ignored.

class IssueForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipients: str = ""


@router.post("/{document_id}/issue", status_code=202)
def issue(document_id: str, form: IssueForm, user: CurrentUser, db: SessionDep,
          svc: ServicesDep) -> dict[str, Any]:
    """The clerk numbers, dates, registers and seals: queued for the host of the body's
    organisation key."""
    document = visible_document(db, user, document_id)
    custody = issuing_custody(db, user, document.body, Act.ISSUE)
    result = svc.celery.send_task(ISSUE, args=[document.id, user.id, form.recipients],
                                  queue=custody.queue)
    return {"task_id": result.id, "document": document_json(db, document)}


def only_fields(*allowed: str) -> Any:
    """A dependency refusing form fields other than ``allowed`` (multipart requests)."""
    async def check(request: Request) -> None:
        unknown = sorted(set((await request.form()).keys()) - set(allowed))
        if unknown:
            raise UnknownFields(unknown)
    return Depends(check)


@router.post("/{document_id}/attachments", status_code=202,
             dependencies=[only_fields("file")])
def attach(document_id: str, file: UploadFile, user: CurrentUser, db: SessionDep,
           svc: ServicesDep) -> dict[str, Any]:
    """The clerk signs an attachment in its own file with the body's organisation key."""
    document = visible_document(db, user, document_id)
    custody = issuing_custody(db, user, document.body, Act.ATTACHMENT)
    data = file.file.read()
    db.commit()  # no transaction (no SQLite write lock) while the file is checked
    svc.check_draft(data)  # refuse a broken, encrypted or active file now, not in the worker
    sha256 = svc.store.put(data)
    name = f"{sha256[:12]}-{file.filename or 'phu-luc.pdf'}"
    result = svc.celery.send_task(SIGN_ATTACHMENT, args=[document.id, user.id, sha256, name],
                                  queue=custody.queue)
    return {"task_id": result.id, "file_name": name}


CopyKindName = Literal["SAO_Y", "TRICH_SAO", "SAO_LUC"]  # signer.profiles.CopyKind names


class CopyForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: CopyKindName = "SAO_Y"


@router.post("/{document_id}/copies", status_code=202)
def copy(document_id: str, form: CopyForm, user: CurrentUser, db: SessionDep,
         svc: ServicesDep) -> dict[str, Any]:
    """An electronic copy (SAO_Y, TRICH_SAO, SAO_LUC) numbered in the copies book, dated
    the day of its organisation signature."""
    document = visible_document(db, user, document_id)
    custody = issuing_custody(db, user, document.body, Act.COPY)
    enum_member(CopyKind, form.kind, "loại bản sao", "copy kind")  # else the worker fails
    key = uuid.uuid4().hex
    result = svc.celery.send_task(MAKE_COPY, args=[document.id, user.id, form.kind, key],
                                  queue=custody.queue)
    return {"task_id": result.id, "request_key": key}
