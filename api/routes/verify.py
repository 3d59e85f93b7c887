"""Verification of uploaded files, for auditors and any signed-in member."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, UploadFile

from certs import validation_context
from documents.audit import AuditAction, record
from signer import async_verify_pdf

from ..deps import CurrentUser, ServicesDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["verification"])


@router.post("/verify")
async def verify(files: list[UploadFile], user: CurrentUser, svc: ServicesDep,
                 db: SessionDep) -> list[dict[str, Any]]:
    """One report per uploaded PDF (schema ``kyso.verify/1``)."""
    reports = []
    for upload in files:
        data = await upload.read()
        report = await async_verify_pdf(data, lambda: validation_context(svc.trust),
                                        upload.filename or "", svc.trust)
        record(db, AuditAction.VERIFY, actor=user.username, object_type="file",
               object_id=report.sha256, details={"verdict": str(report.verdict),
                                                 "file": upload.filename or ""})
        reports.append(report.to_dict())
    db.commit()
    return reports
