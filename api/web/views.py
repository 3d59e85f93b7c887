"""What the pages show of documents: plain dicts built from the same rows the JSON API
reads, plus where each document waits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents import (
    Document,
    DocumentStatus,
    DocumentType,
    DocumentVersion,
    Organisation,
    Person,
    SigningAuthority,
    SigningRequest,
    link_of,
)
from documents.authority import in_force
from documents.queue import RequestStatus, current_signer, waiting_for

#: Statuses a document leaves by itself (a worker is at it): its list keeps refreshing.
MOVING = {DocumentStatus.DRAFT, DocumentStatus.AWAITING_SIGNATURE, DocumentStatus.SIGNED,
          DocumentStatus.NUMBERED}


def document_view(db: Session, document: Document) -> dict[str, Any]:
    versions = db.scalars(select(DocumentVersion).where(
        DocumentVersion.document_id == document.id).order_by(DocumentVersion.id)).all()
    entry = document.register_entry
    waiting = waiting_for(db, document) or current_signer(db, document)
    link = link_of(db, document)
    return {
        "id": document.id, "subject": document.subject, "type_name": document.doc_type.name,
        "type": document.doc_type_code, "status": document.status.name,
        "status_vi": document.status.value, "problem": document.problem,
        "number": entry.number_symbol if entry else None,
        "issued_date": entry.issued_date if entry else None,
        "unit": document.unit.abbreviation if document.unit else None,
        "created_at": document.created_at,
        "waiting_for": f"{waiting.position} {waiting.full_name}" if waiting else None,
        "versions": [{"kind": v.kind.name, "kind_vi": v.kind.value, "size": v.size,
                      "created_at": v.created_at, "sha256": v.sha256} for v in versions],
        "returned": returned_reason(db, document),
        "verify_path": f"/v/{link.code}" if link else None,
    }


def returned_reason(db: Session, document: Document) -> dict[str, str] | None:
    """Who sent the document back and why, while the drafter has not routed it again
    (the latest request of the document is the returned one)."""
    latest = db.scalars(select(SigningRequest).where(SigningRequest.document_id == document.id)
                        .order_by(SigningRequest.id.desc()).limit(1)).first()
    if latest is None or latest.status is not RequestStatus.RETURNED:
        return None
    return {"reason": latest.reason or "", "by": latest.signer.full_name}


def body_documents(db: Session, body: Organisation, *statuses: DocumentStatus,
                   limit: int = 100) -> list[Document]:
    query = select(Document).where(Document.body_id == body.id)
    if statuses:
        query = query.where(Document.status.in_(statuses))
    return list(db.scalars(query.order_by(Document.created_at.desc()).limit(limit)))


def document_types(db: Session, copies: bool = False) -> list[DocumentType]:
    return list(db.scalars(select(DocumentType).where(DocumentType.is_copy.is_(copies))
                           .order_by(DocumentType.ordinal)))


def signers_of(db: Session, body: Organisation) -> list[dict[str, Any]]:
    """People holding signing authority in force in ``body`` (whom a draft goes to)."""
    rows = db.execute(select(Person, SigningAuthority).join(
        SigningAuthority, SigningAuthority.person_id == Person.id).where(
        SigningAuthority.body_id == body.id, Person.active.is_(True), in_force())
        .order_by(Person.id)).all()
    seen: dict[int, dict[str, Any]] = {}
    for person, authority in rows:
        seen.setdefault(person.id, {"person_id": person.id, "full_name": person.full_name,
                                    "position": person.position,
                                    "designation": authority.designation.name})
    return list(seen.values())
