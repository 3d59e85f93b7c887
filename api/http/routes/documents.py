"""Documents: upload a draft, route it, follow it, issue it, download its versions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from documents import (
    MAX_PAGE,
    Document,
    DocumentVersion,
    Prepared,
    Priority,
    RegisterEntry,
    attach_file,
    copy_document,
    documents_of,
    download_version,
    issue_document,
    numbered,
    parse_statuses,
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


def document_json(db: SessionDep, document: Document,
                  versions: Sequence[DocumentVersion] | None = None) -> dict[str, Any]:
    """A document as the API answers it (``versions``: its versions when the caller read
    them already, oldest first)."""
    if versions is None:
        versions = db.scalars(select(DocumentVersion).where(
            DocumentVersion.document_id == document.id).order_by(DocumentVersion.id)).all()
    entry = document.register_entry
    return {
        "id": document.id, "body_id": document.body_id, "type": document.doc_type_code,
        "type_name": document.doc_type.name, "subject": document.subject,
        "status": document.status.name, "status_vi": document.status.value,
        "number": entry.number_symbol if entry else None,
        "problem": document.problem,
        "created_at": document.created_at.isoformat(),
        # oldest first, each labelled as the pages name it ("Dự thảo đã sửa lần 1")
        "versions": [{"kind": v.kind.name, "label": label, "sha256": v.sha256,
                      "size": v.size, "created_at": v.created_at.isoformat()}
                     for v, _, label in numbered(versions)],
    }


def documents_json(db: SessionDep, documents: Sequence[Document]) -> list[dict[str, Any]]:
    """Several documents, their versions and register entries read in one query each."""
    ids = [d.id for d in documents]
    versions: dict[str, list[DocumentVersion]] = {i: [] for i in ids}
    for version in db.scalars(select(DocumentVersion).where(
            DocumentVersion.document_id.in_(ids)).order_by(DocumentVersion.id)):
        versions[version.document_id].append(version)
    entries = {e.document_id: e for e in db.scalars(select(RegisterEntry).where(
        RegisterEntry.document_id.in_(ids)))}
    for document in documents:  # loaded: no query per document
        set_committed_value(document, "register_entry", entries.get(document.id))
    return [document_json(db, d, versions[d.id]) for d in documents]


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


PAGE_HEADERS = {
    "Link": {"description": 'RFC 8288 links to the neighbouring pages: rel="next" (older '
                            'documents), rel="prev" (newer ones)',
             "schema": {"type": "string"}},
    "X-Next-Cursor": {"description": "the cursor of the next page (pass it as `before`); "
                                     "absent on the last page",
                      "schema": {"type": "string"}},
    "X-Prev-Cursor": {"description": "the cursor of the page before (pass it as `after`); "
                                     "absent on the first page",
                      "schema": {"type": "string"}},
}


@router.get("", responses={200: {"headers": PAGE_HEADERS}})
def list_documents(request: Request, response: Response, user: CurrentUser, db: SessionDep,
                   status: Annotated[list[str], Query()] = [],  # noqa: B006
                   limit: Annotated[int, Query(description=f"1–{MAX_PAGE}")] = 50,
                   before: str | None = None, after: str | None = None,
                   body_id: int | None = None) -> list[dict[str, Any]]:
    """A page of the documents of the caller's bodies (``body_id``: of one), newest first
    (by creation time, then id), as a JSON list. ``status`` (repeated, or comma-separated
    names) keeps those statuses; ``limit`` 1–200, default 50; ``before=<cursor>``: the
    page after that one (older documents), ``after=<cursor>``: the page before it. The
    cursors are in the ``X-Next-Cursor`` / ``X-Prev-Cursor`` headers and the ``Link``
    header; a page read with a cursor does not change as documents are added."""
    page = documents_of(db, user.id, statuses=parse_statuses(status), limit=limit,
                        following=before, preceding=after, body_id=body_id)
    links = []
    base = request.url.remove_query_params(["before", "after"])
    if page.following:
        response.headers["X-Next-Cursor"] = page.following
        links.append(f'<{base.include_query_params(before=page.following)}>; rel="next"')
    if page.preceding:
        response.headers["X-Prev-Cursor"] = page.preceding
        links.append(f'<{base.include_query_params(after=page.preceding)}>; rel="prev"')
    if links:
        response.headers["Link"] = ", ".join(links)
    return documents_json(db, page.items)


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
