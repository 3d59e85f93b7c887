"""Keys the service does not hold: the signer agent's and remote-signing services' routes.

``kyso agent`` (on the official's PC, with their USB token) registers the token's
certificate, long-polls for the digests of what the official approved, and posts
each signature back; the service finishes the PDFs in its workers. For a remote-
signing service the official authorises a whole batch with their PIN/OTP in one
call, passed straight to the service and never kept.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import func, select

from documents import (
    JobStatus,
    Person,
    SigningJob,
    User,
    own_job,
    ready_jobs,
    signer_released,
)
from documents import agent_certificate as act_agent_certificate
from documents import agent_signature as act_agent_signature

from ...errors import BadSignatureEncoding
from ...worker.remote import sign_remote_batch
from ..deps import CurrentUser, ServicesDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["signer agent and remote signing"])
#: Longest a job poll waits for something to sign, in seconds.
MAX_WAIT = 55.0


def job_json(job: SigningJob) -> dict[str, Any]:
    document = job.document
    return {
        "id": job.id, "batch": job.batch, "status": job.status.name,
        "status_vi": job.status.value, "document_id": document.id,
        "subject": document.subject, "type_name": document.doc_type.name,
        "pages": job.pages, "digest": job.digest, "md_algorithm": job.md_algorithm,
        "algorithm": job.algorithm, "certificate_sha256": job.certificate_sha256,
        "expires_at": job.expires_at.isoformat() if job.expires_at else None,
        "preview": f"/api/v1/documents/{document.id}/versions/prepared",
        "error": job.error,
    }


class CertificateUpload(BaseModel):
    certificate_pem: str
    chain_pem: str = ""


@router.post("/agent/certificate")
def agent_certificate(form: CertificateUpload, user: CurrentUser, db: SessionDep,
                      svc: ServicesDep) -> dict[str, Any]:
    """The agent hands over the certificate found on the official's token (and its chain):
    accepted only if it is the one registered for their signing authority."""
    row = act_agent_certificate(db, svc, user.id, form.certificate_pem, form.chain_pem)
    return {"sha256": row.sha256, "subject": row.subject, "not_after": row.not_after.isoformat()}


def _signer_id(db: SessionDep, user: User) -> int:
    """The caller's person id; the request's session is then closed, so that nothing holds
    the database (on SQLite: its write lock) while the request waits."""
    return signer_released(db, user.id)


@router.get("/agent/jobs")
async def agent_jobs(user: CurrentUser, db: SessionDep, svc: ServicesDep, wait: float = 0,
                     batch: str | None = None) -> dict[str, Any]:
    """The caller's digests to sign; with ``wait`` (seconds) the answer waits until there
    is one (long poll). ``preparing`` counts those still being prepared."""
    person_id = await asyncio.to_thread(_signer_id, db, user)
    deadline = time.monotonic() + min(max(wait, 0.0), MAX_WAIT)
    while True:
        # database work off the event loop, a short session per look: nothing holds
        # SQLite's write lock while the poll waits, and the loop stays free
        jobs, preparing = await asyncio.to_thread(_look, svc, person_id, batch)
        if jobs or time.monotonic() >= deadline:
            return {"jobs": jobs, "preparing": preparing}
        await asyncio.sleep(0.2)


def _look(svc: ServicesDep, person_id: int,
          batch: str | None) -> tuple[list[dict[str, Any]], int]:
    with svc.sessions() as db:
        person = db.get_one(Person, person_id)
        jobs = [job_json(j) for j in ready_jobs(db, person, batch=batch)]
        preparing = db.scalar(select(func.count()).select_from(SigningJob).where(
            SigningJob.person_id == person_id,
            SigningJob.status == JobStatus.PREPARING)) or 0
    return jobs, preparing


@router.get("/agent/jobs/{job_id}")
def agent_job(job_id: str, user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    return job_json(own_job(db, user, job_id))


class SignatureUpload(BaseModel):
    #: base64 of the raw signature value (RSA, or ECDSA as r||s or DER)
    signature: str
    algorithm: str


@router.post("/agent/jobs/{job_id}/signature", status_code=202)
def agent_signature(job_id: str, form: SignatureUpload, user: CurrentUser, db: SessionDep,
                    svc: ServicesDep) -> dict[str, Any]:
    """The token's signature over the job's digest: checked now, embedded by a worker."""
    try:
        value = base64.b64decode(form.signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadSignatureEncoding() from exc
    job = act_agent_signature(db, svc, user.id, job_id, value, form.algorithm)
    return job_json(job)


class RemoteAuthorisation(BaseModel):
    pin: str | None = None
    otp: str | None = None


@router.post("/remote/batches/{batch}/sign")
async def remote_sign(batch: str, form: RemoteAuthorisation, user: CurrentUser,
                      db: SessionDep, svc: ServicesDep) -> dict[str, Any]:
    """Sign a batch the caller approved with a remote-signing service: one authorisation
    (PIN and/or OTP, forwarded to the service, never kept) for all its digests."""
    person_id = await asyncio.to_thread(_signer_id, db, user)
    done = await asyncio.to_thread(sign_remote_batch, svc, person_id, batch,
                                   form.pin, form.otp)
    return {"batch": batch, "signed": done}
