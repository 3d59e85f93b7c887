"""The signer's acts: approve one request or a batch, give a document back with a reason,
hand a request over to another official; the signature that follows an approval, started
on the channel of the signer's key; and what ``kyso agent`` hands over (the token's
certificate, each digest's signature)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from certs import load_certificates
from signer import RawSignature

from ..audit import AuditAction, record
from ..custody import Channel, approval_custody
from ..errors import NoSigningAuthority
from ..golive import approval_certificate
from ..jobs import (
    SignerCertificate,
    SigningJob,
    accept_signature,
    create_job,
    register_certificate,
    waiting_for_certificate,
)
from ..models import Document, DocumentStatus, Person, SigningAuthority
from ..queue import (
    SigningRequest,
    approve_batch,
    approve_request,
    current_signer,
    reassign,
    return_request,
)
from .access import actor_of, own_job, own_request, person_of, signer_of
from .ports import Tools


@dataclass(frozen=True)
class Started:
    """The signature begun after an approval: a server task (``task_id``), or a hash-only
    job (``job_id`` in ``batch``) for ``kyso agent`` or a remote service (``channel``)."""

    task_id: str | None = None
    job_id: str | None = None
    batch: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Approval:
    request: SigningRequest
    started: Started | None


@dataclass(frozen=True)
class BatchApproval:
    requests: list[SigningRequest]
    batch: str
    started: list[Started | None]


def refuse_unusable_certificate(db: Session, tools: Tools, actor: int,
                                document: Document) -> None:
    """The check before the PIN: the caller's certificate for ``document`` must be able to
    sign now (expired, revoked or untrusted: refused before anything is recorded)."""
    context = tools.contexts(tools.trust_for(db, [document.body_id]))()
    approval_certificate(db, actor_of(db, actor), document, context)


def start_signature(db: Session, tools: Tools, actor: int, document: Document,
                    person: Person, batch: str) -> Started | None:
    """After the caller's own last approval, their signature with the key of their signing
    authority (documents.custody): on the host of their server-side token, or (a key the
    service does not hold) a hash-only job for ``kyso agent`` or the remote service.
    Enqueued after the commit."""
    user = actor_of(db, actor)
    if document.status is not DocumentStatus.AWAITING_SIGNATURE or \
            current_signer(db, document) != person:
        return None
    try:
        custody = approval_custody(db, user, document, person_id=person.id, server=False)
    except NoSigningAuthority:  # the authority ended meanwhile: nothing to sign with
        return None
    if custody.channel is Channel.SERVER:
        ids = (document.id, person.id, user.id)
        db.commit()  # enqueue after the commit, no transaction open (the ledger writes)
        return Started(task_id=tools.dispatcher.sign_approval(*ids, custody.queue))
    authority = db.get_one(SigningAuthority, custody.authority_id)
    job = create_job(db, document, person, authority, batch, actor=user.username)
    job_id = job.id
    db.commit()  # enqueue only after the commit
    tools.dispatcher.prepare_job(job_id)
    return Started(job_id=job_id, batch=batch, channel=custody.token_name)


def approve_one(db: Session, tools: Tools, actor: int, request_id: int) -> Approval:
    """Approve one request of the caller's queue; after the last approval the signature
    starts on the channel of the caller's key."""
    user = actor_of(db, actor)
    request = own_request(db, user, request_id)
    refuse_unusable_certificate(db, tools, actor, request.document)  # before any PIN
    approve_request(db, request, actor=user.username)
    record(db, AuditAction.APPROVE, actor=user.username, body_id=request.document.body_id,
           object_type="document", object_id=request.document_id,
           details={"request": request.id, "step": request.step})
    db.commit()  # enqueue only after the commit
    started = start_signature(db, tools, actor, request.document, signer_of(db, user),
                              str(uuid.uuid4()))
    return Approval(request, started)


def approve_several(db: Session, tools: Tools, actor: int,
                    request_ids: Sequence[int]) -> BatchApproval:
    """Approve a batch with one act (and, for a key on the signer's PC or a remote
    service, one PIN for the whole batch)."""
    user = actor_of(db, actor)
    requests = [own_request(db, user, rid) for rid in request_ids]
    for r in requests:  # before any PIN is asked
        refuse_unusable_certificate(db, tools, actor, r.document)
    approve_batch(db, requests, actor=user.username)
    for r in requests:
        record(db, AuditAction.APPROVE, actor=user.username, body_id=r.document.body_id,
               object_type="document", object_id=r.document_id,
               details={"request": r.id, "step": r.step, "batch": len(requests)})
    db.commit()
    person = signer_of(db, user)
    batch = str(uuid.uuid4())
    started = [start_signature(db, tools, actor, r.document, person, batch) for r in requests]
    return BatchApproval(requests, batch, started)


def give_back(db: Session, actor: int, request_id: int, reason: str) -> SigningRequest:
    """Return the document to its drafter with a reason."""
    user = actor_of(db, actor)
    request = own_request(db, user, request_id)
    return_request(db, request, reason, actor=user.username)
    record(db, AuditAction.RETURN, actor=user.username, body_id=request.document.body_id,
           object_type="document", object_id=request.document_id,
           details={"request": request.id, "reason": reason})
    db.commit()
    return request


def hand_over(db: Session, actor: int, request_id: int, person_id: int) -> SigningRequest:
    """Hand the caller's request over to another official of the body."""
    user = actor_of(db, actor)
    request = own_request(db, user, request_id)
    reassign(db, request, person_of(db, request.document.body_id, person_id),
             actor=user.username)
    record(db, AuditAction.ROUTE, actor=user.username, body_id=request.document.body_id,
           object_type="document", object_id=request.document_id,
           details={"request": request.id, "reassigned_to": person_id})
    db.commit()
    return request


def signer_released(db: Session, actor: int) -> int:
    """The caller's person id; the session is then closed, so that nothing holds the
    database (on SQLite: its write lock) while the caller waits on a token or a service."""
    person_id = signer_of(db, actor_of(db, actor)).id
    db.close()
    return person_id


def agent_certificate(db: Session, tools: Tools, actor: int, certificate_pem: str,
                      chain_pem: str = "") -> SignerCertificate:
    """The certificate ``kyso agent`` found on the official's token (and its chain):
    accepted only if it is the one registered for their signing authority; the jobs
    approved before it was known are prepared now."""
    user = actor_of(db, actor)
    person = signer_of(db, user)
    (cert, *_) = load_certificates(certificate_pem.encode(), "certificate_pem")
    chain = load_certificates(chain_pem.encode(), "chain_pem") if chain_pem else []
    row = register_certificate(db, person, cert, chain, actor=user.username)
    waiting = waiting_for_certificate(db, person)
    db.commit()
    for job_id in waiting:
        tools.dispatcher.prepare_job(job_id)
    return row


def agent_signature(db: Session, tools: Tools, actor: int, job_id: str, value: bytes,
                    algorithm: str) -> SigningJob:
    """The token's signature over a job's digest: checked now, embedded by a worker."""
    job = own_job(db, actor_of(db, actor), job_id)
    accept_signature(db, job, RawSignature(value, algorithm))
    finished = job.id  # read before the commit: after it, a read would open a transaction
    db.commit()
    tools.dispatcher.finish_job(finished)
    return job
