"""Documents: upload a draft, route it, follow it, issue it, download its versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from documents import (
    Document,
    DocumentVersion,
    Prepared,
    Priority,
    attach_file,
    copy_document,
    documents_of,
    download_version,
    issue_document,
    recall_draft,
    route_draft,
    upload_corrected_draft,
    upload_draft,
    visible_document,
)

from ..deps import CurrentUser, ServicesDep, SessionDep
from ..errors import UnknownFields
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
    made = upload_draft(db, svc, user.id, body_id=body_id, doc_type=doc_type, subject=subject,
                        read=lambda: read_upload(file, svc.settings.max_upload_mb),
                        file_name=file.filename or "", unit=unit, qr=qr,
                        cover_draft_mark=cover_draft_mark, wait=svc.settings.prepare_wait)
    return prepared_json(db, made)


def prepared_json(db: SessionDep, made: Prepared) -> dict[str, Any]:
    return {**document_json(db, made.document), "task_id": made.task_id}


@router.post("/{document_id}/draft")
def corrected_draft(document_id: str, file: UploadFile, user: CurrentUser,
                    db: SessionDep, svc: ServicesDep,
                    cover_draft_mark: bool = Form(False)) -> dict[str, Any]:
    """Upload the corrected draft of a returned document, or a new draft of one whose
    preparation was refused; it is prepared again (``cover_draft_mark`` as on upload)."""
    made = upload_corrected_draft(
        db, svc, user.id, document_id,
        read=lambda: read_upload(file, svc.settings.max_upload_mb),
        file_name=file.filename or "", cover_draft_mark=cover_draft_mark,
        wait=svc.settings.prepare_wait)
    return prepared_json(db, made)


@router.get("")
def list_documents(user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    return [document_json(db, d) for d in documents_of(db, user.id)]


@router.get("/{document_id}")
def get_document(document_id: str, user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    return document_json(db, visible_document(db, user, document_id))


@router.get("/{document_id}/versions/{kind}")
def download(document_id: str, kind: str, user: CurrentUser, db: SessionDep,
             svc: ServicesDep) -> Response:
    found = download_version(db, svc, user.id, document_id, kind)
    return Response(found.data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{document_id}-{kind.lower()}.pdf"'})


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
    document = route_draft(db, svc, user.id, document_id, form.signer_person_ids,
                           due_at=form.due_at, priority=form.priority, note=form.note,
                           block_override=form.block_override)
    return document_json(db, document)


@router.post("/{document_id}/recall")
def recall_document(document_id: str, user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    return document_json(db, recall_draft(db, user.id, document_id))


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
    queued = issue_document(db, svc, user.id, document_id, form.recipients)
    return {"task_id": queued.task_id, "document": document_json(db, queued.document)}


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
    queued = attach_file(db, svc, user.id, document_id, read=file.file.read,
                         file_name=file.filename or "")
    return {"task_id": queued.task_id, "file_name": queued.file_name}


CopyKindName = Literal["SAO_Y", "TRICH_SAO", "SAO_LUC"]  # signer.profiles.CopyKind names


class CopyForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: CopyKindName = "SAO_Y"


@router.post("/{document_id}/copies", status_code=202)
def copy(document_id: str, form: CopyForm, user: CurrentUser, db: SessionDep,
         svc: ServicesDep) -> dict[str, Any]:
    """An electronic copy (SAO_Y, TRICH_SAO, SAO_LUC) numbered in the copies book, dated
    the day of its organisation signature."""
    queued = copy_document(db, svc, user.id, document_id, form.kind)
    return {"task_id": queued.task_id, "request_key": queued.request_key}
