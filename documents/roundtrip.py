"""An approval signed outside Kyso: the prepared file handed out, the signed file taken back.

An official may sign with whatever tool they already have (the VGCA Sign Tool or Sign
Service, a CA's desktop signer, Adobe or Foxit). Two acts, each one transaction:

- :func:`prepared_to_sign` gives the next signer the prepared PDF (audited as a download
  for signing);
- :func:`accept_signed` takes the signed file back. It is accepted only when
  :func:`signer.check_returned` finds exactly the prepared revision plus one approval
  signature in the prepared field by the certificate registered for the signer; then the
  approval is recorded as if the channel had signed it (APPROVE and SIGN events naming the
  channel, the APPROVED version stored, the drafter and clerks notified). A signer whose
  last step still waits approves it with the upload. Register, seal and issue stay the
  records clerk's acts.

A refusal changes nothing but the audit trail: the transaction is rolled back and one
VERIFY event records the refused file's SHA-256 and the reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import KysoError
from signer import APPROVAL_FIELD, check_returned

from .accounts import Role, User, require_role
from .audit import AuditAction, record
from .custody import approval_custody
from .errors import NotTheApprover
from .issuance import _approvable, _approved, _check_block
from .jobs import cancel_jobs
from .models import Document, DocumentStatus, Person, VersionKind
from .queue import (
    RequestStatus,
    SigningRequest,
    approve_request,
    current_signer,
    my_queue,
    notify_signed,
    to_sign,
    waiting_for,
)
from .storage import FileStore

__all__ = ["PreparedFile", "SignedUpload", "accept_signed", "prepared_to_sign",
           "signable_elsewhere"]

#: the channel an upload from the signer's page records (a tool of the signer's own)
UPLOAD = "upload"


@dataclass(frozen=True)
class PreparedFile:
    """What the signer's tool signs: the prepared PDF and where the signature goes."""

    document_id: str
    file_name: str
    pdf: bytes
    sha256: str
    field_name: str
    #: the certificate the signature must be made with (the signer's registered one)
    certificate_sha256: str


@dataclass(frozen=True)
class SignedUpload:
    document_id: str
    sha256: str
    status: DocumentStatus
    channel: str


def _next_signer(session: Session, account: User, document_id: str) -> tuple[Document, Person]:
    """The document and the account's person, when that person signs it next (the last
    step's signer, approved or still to approve); anything else is refused alike."""
    document = session.get(Document, document_id)
    person = account.person
    if document is None or person is None:
        raise NotTheApprover(account.username, "—")
    require_role(session, account, document.body, Role.SIGNER)
    if current_signer(session, document) == person:
        return document, person
    waiting = _last_step_waiting(session, document, person)
    if waiting is None:
        expected = waiting_for(session, document) or current_signer(session, document)
        raise NotTheApprover(account.username, expected.full_name if expected else "—")
    return document, person


def _last_step_waiting(session: Session, document: Document,
                       person: Person) -> SigningRequest | None:
    """``person``'s WAITING request on ``document`` when no step follows it."""
    if waiting_for(session, document) != person:
        return None
    request = session.scalar(select(SigningRequest).where(
        SigningRequest.document_id == document.id, SigningRequest.person_id == person.id,
        SigningRequest.status == RequestStatus.WAITING))
    if request is None:
        return None
    later = session.scalar(select(SigningRequest.id).where(
        SigningRequest.document_id == document.id, SigningRequest.round == request.round,
        SigningRequest.step > request.step,
        SigningRequest.status == RequestStatus.PENDING))
    return request if later is None else None


def signable_elsewhere(session: Session, account: User) -> list[Document]:
    """The documents ``account``'s person signs next: their last step still to approve,
    or approved and waiting for the signature; oldest first, each once."""
    person = account.person
    if person is None:
        return []
    found: dict[str, Document] = {}
    for request in to_sign(session, person):
        found.setdefault(request.document_id, request.document)
    for request in my_queue(session, person):
        if _last_step_waiting(session, request.document, person) is request:
            found.setdefault(request.document_id, request.document)
    return [d for d in found.values()
            if d.status in (DocumentStatus.PREPARED, DocumentStatus.AWAITING_SIGNATURE)]


def _file_name(document: Document) -> str:
    return f"{document.id}-de-ky.pdf"


def prepared_to_sign(session: Session, store: FileStore, account: User, document_id: str, *,
                     channel: str = UPLOAD) -> PreparedFile:
    """The prepared PDF of ``document_id`` for its next signer to sign in their own tool."""
    document, person = _next_signer(session, account, document_id)
    authority, prepared = _approvable(session, document, person,
                                      _registered_sha256(session, document, person))
    pdf = store.get(prepared.sha256)
    record(session, AuditAction.DOWNLOAD, actor=account.username, body_id=document.body_id,
           object_type="document", object_id=document.id,
           details={"kind": VersionKind.PREPARED.name, "sha256": prepared.sha256,
                    "purpose": "sign", "channel": channel})
    session.commit()
    return PreparedFile(document.id, _file_name(document), pdf, prepared.sha256,
                        APPROVAL_FIELD, authority.certificate_sha256)


def _registered_sha256(session: Session, document: Document, person: Person) -> str:
    from .custody import approval_key

    return approval_key(session, document, person).certificate_sha256


def accept_signed(session: Session, store: FileStore, account: User, document_id: str,
                  returned: bytes, *, channel: str = UPLOAD) -> SignedUpload:
    """Take back the prepared document signed outside Kyso, or refuse it saying why."""
    sha256 = hashlib.sha256(returned).hexdigest()
    try:
        document, person = _next_signer(session, account, document_id)
        waiting = _last_step_waiting(session, document, person)
        if waiting is not None:  # the upload is also the last step's approval
            approve_request(session, waiting, actor=account.username)
            record(session, AuditAction.APPROVE, actor=account.username,
                   body_id=document.body_id, object_type="document", object_id=document.id,
                   details={"request": waiting.id, "step": waiting.step, "channel": channel})
        custody = approval_custody(session, account, document, person_id=person.id,
                                   server=False)
        authority, prepared = _approvable(session, document, person,
                                          custody.certificate_sha256)
        prepared_pdf = store.get(prepared.sha256)
        _check_block(store, prepared, prepared_pdf, person)
        accepted = check_returned(prepared_pdf, returned, field_name=APPROVAL_FIELD,
                                  certificate_sha256=custody.certificate_sha256)
        cancel_jobs(session, document)  # an agent or remote job started by the approval
        _approved(session, store, document, person, authority, prepared, returned,
                  account.username, custody, channel=channel, added_bytes=accepted.added_bytes)
        document.problem = None
        notify_signed(session, document, person)
        status = document.status
        session.commit()
    except KysoError as refusal:
        session.rollback()
        _record_refusal(session, account, document_id, sha256, channel, refusal)
        raise
    return SignedUpload(document_id, sha256, status, channel)


def _record_refusal(session: Session, account: User, document_id: str, sha256: str,
                    channel: str, refusal: KysoError) -> None:
    document = session.get(Document, document_id)
    if document is None or account.person is None or \
            account.person.body_id != document.body_id:
        return  # nothing to say about another body's documents
    record(session, AuditAction.VERIFY, actor=account.username, body_id=document.body_id,
           object_type="document", object_id=document.id,
           details={"purpose": "signed_upload", "channel": channel, "sha256": sha256,
                    "accepted": False, "reason": refusal.vi})
    session.commit()

