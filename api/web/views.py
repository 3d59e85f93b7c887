"""What the pages show of documents: plain dicts built from the same rows the JSON API
reads, plus where each document waits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents import (
    WAITING_PREFIX,
    Document,
    DocumentStatus,
    DocumentType,
    DocumentVersion,
    Organisation,
    Page,
    Person,
    RequestStatus,
    SigningAuthority,
    SigningRequest,
    current_signer,
    in_force,
    link_of,
    numbered,
    waiting_for,
)


def in_progress(document: Document, waiting: Person | None, signing: Person | None) -> bool:
    """Whether a worker is at the document now (its list refreshes until it is done): a
    draft being prepared, an approved document being signed, a numbered one being sealed
    and issued — or one whose work waits for a service and resumes by itself. A document
    waiting for a person (to route, approve, number, correct) is not: no polling.
    ``waiting``/``signing``: :func:`waiting_for` and :func:`current_signer` of it."""
    if document.problem:
        return document.problem.startswith(WAITING_PREFIX)
    if document.status is DocumentStatus.AWAITING_SIGNATURE:
        return waiting is None and signing is not None
    return document.status in (DocumentStatus.DRAFT, DocumentStatus.NUMBERED)


def document_view(db: Session, document: Document) -> dict[str, Any]:
    versions = db.scalars(select(DocumentVersion).where(
        DocumentVersion.document_id == document.id).order_by(DocumentVersion.id)).all()
    kinds = [v.kind for v in versions]
    entry = document.register_entry
    ahead = waiting_for(db, document)
    signing = current_signer(db, document) if ahead is None else None
    waiting = ahead or signing
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
        "versions": [{"kind": v.kind.name, "kind_vi": label, "size": v.size,
                      "created_at": v.created_at, "sha256": v.sha256, "ordinal": n,
                      # the latest of its kind, or (several) this one
                      "href": f"/van-ban/{document.id}/{v.kind.name.lower()}.pdf"
                              + (f"?lan={n}" if kinds.count(v.kind) > 1 else "")}
                     for v, n, label in numbered(versions)],
        "signer_ids": last_signers(db, document),
        "returned": returned_reason(db, document),
        "verify_path": f"/v/{link.code}" if link else None,
        "in_progress": in_progress(document, ahead, signing),
    }


def last_signers(db: Session, document: Document) -> list[int]:
    """The people of the document's latest routing, in order (whom a corrected draft goes
    back to unless the drafter picks others); empty before the first routing."""
    latest = db.scalar(select(SigningRequest.round).where(
        SigningRequest.document_id == document.id).order_by(SigningRequest.round.desc())
        .limit(1))
    if latest is None:
        return []
    requests = db.scalars(select(SigningRequest).where(
        SigningRequest.document_id == document.id, SigningRequest.round == latest)
        .order_by(SigningRequest.step, SigningRequest.id)).all()
    people: list[int] = []
    for request in requests:
        if request.person_id not in people:
            people.append(request.person_id)
    return people


def returned_reason(db: Session, document: Document) -> dict[str, str] | None:
    """Who sent the document back and why, while the drafter has not routed it again
    (the latest request of the document is the returned one)."""
    latest = db.scalars(select(SigningRequest).where(SigningRequest.document_id == document.id)
                        .order_by(SigningRequest.id.desc()).limit(1)).first()
    if latest is None or latest.status is not RequestStatus.RETURNED:
        return None
    return {"reason": latest.reason or "", "by": latest.signer.full_name}


@dataclass(frozen=True)
class Listing:
    """One paged list as a page shows it: its rows, how many there are in all, and the
    query strings of its neighbouring pages (None where there is none)."""

    items: list[dict[str, Any]]
    count: int
    next: str | None = None
    prev: str | None = None
    #: the first page, when this is not it
    first: str | None = None


def query_string(params: Mapping[str, str | int | None]) -> str:
    """``params`` as a URL query, empty values left out."""
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def listing(page: Page[Any], items: list[dict[str, Any]], count: int,
            view: Mapping[str, str | int | None], next_key: str = "next",
            prev_key: str = "prev") -> Listing:
    """A :class:`Listing` of ``page``: its neighbours' queries are ``view`` (the page's
    other parameters, kept) with this list's cursor under ``next_key`` / ``prev_key``."""
    at_start = not view.get(next_key) and not view.get(prev_key)
    rest = {k: v for k, v in view.items() if k not in (next_key, prev_key)}
    return Listing(
        items, count,
        next=query_string({**rest, next_key: page.following}) if page.following else None,
        prev=query_string({**rest, prev_key: page.preceding}) if page.preceding else None,
        first=None if at_start else query_string(rest))


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
