"""Signing with a tool of the signer's own, or confirmed on the phone.

Thin over :mod:`documents.roundtrip` (checks, audit, transaction): the next signer
downloads the prepared PDF, signs it in any tool (VGCA Sign Tool, a CA's desktop signer,
Adobe, Foxit) and uploads the result, which is accepted only as the prepared file plus
one approval signature in the prepared field by their registered certificate. A batch
signed by a phone-confirmed remote service (VNPT SmartCA) is sent with one call and
confirmed in the official's app (:mod:`api.worker.phone`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, UploadFile
from fastapi.responses import Response

from documents import accept_signed, prepared_to_sign

from ...worker.phone import start_phone_batch
from ..deps import CurrentUser, ServicesDep, SessionDep
from ..limits import read_upload
from .agent import _signer_id

router = APIRouter(prefix="/api/v1", tags=["signing with the signer's own tool or phone"])


@router.get("/documents/{document_id}/to-sign.pdf")
def download_to_sign(document_id: str, user: CurrentUser, db: SessionDep,
                     svc: ServicesDep) -> Response:
    """The prepared PDF for its next signer; the headers name the field and certificate."""
    prepared = prepared_to_sign(db, svc.store, user, document_id)
    return Response(prepared.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{prepared.file_name}"',
        "X-Kyso-Signature-Field": prepared.field_name,
        "X-Kyso-Certificate-Sha256": prepared.certificate_sha256,
        "Cache-Control": "no-store"})


@router.post("/documents/{document_id}/signed")
def upload_signed(document_id: str, file: UploadFile, user: CurrentUser, db: SessionDep,
                  svc: ServicesDep) -> dict[str, Any]:
    """The prepared PDF signed in the signer's own tool: accepted (the approval recorded)
    or refused with what differs (422, nothing changed)."""
    data = read_upload(file, svc.settings.max_upload_mb)
    done = accept_signed(db, svc.store, user, document_id, data)
    return {"document_id": done.document_id, "sha256": done.sha256,
            "status": done.status.name, "status_vi": done.status.value,
            "channel": done.channel}


@router.post("/remote-phone/{batch}", status_code=202)
async def phone_sign(batch: str, user: CurrentUser, db: SessionDep,
                     svc: ServicesDep) -> dict[str, Any]:
    """Send an approved batch to the official's phone (a phone-confirmed remote service):
    one confirmation for the batch where the service allows it; answers at once with the
    moment the confirmation must come by."""
    person_id = await asyncio.to_thread(_signer_id, db, user)
    started = await asyncio.to_thread(start_phone_batch, svc, person_id, batch)
    return {"batch": started.batch, "documents": started.documents,
            "confirm_until": started.confirm_until.isoformat(),
            "seconds_left": started.seconds_left}
