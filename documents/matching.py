"""Register matching: is this file one this instance stored, and which one?

Every PDF a document's life produced is a :class:`DocumentVersion` with its SHA-256, so
a file is matched by its hash alone (:func:`match_file`): which document, which kind of
version, how it relates to the issued document (:class:`Relation`) and the register
entry (number and symbol, date, body, type and subject, signer, recipients). A file
that matches nothing may still name a document through the verification link printed
on it (:func:`match_link`, relation ``CLAIMED``): the link says which document the file
pretends to be, never that it is.

:func:`check_against` answers the public page's question for one document: is this
file exactly the issued document (or an archive-timestamp renewal of it)?
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, select
from sqlalchemy.orm import Session

from .links import code_in_url, document_for_code
from .models import Document, DocumentStatus, DocumentVersion, RegisterEntry, VersionKind

#: Versions are looked up by hash alone (declared here, created by migration 0009).
SHA256_INDEX = Index("ix_document_version_sha256", DocumentVersion.sha256)


class Relation(enum.Enum):
    """How a matched file relates to the issued document; the value is said in Vietnamese."""

    #: exactly the version the clerk issued
    ISSUED = "bản đã ban hành"
    #: the issued file with its archive timestamp renewed (PAdES B-LTA), the latest one
    ARCHIVED = "bản đã ban hành, được gia hạn dấu thời gian lưu trữ (bản mới nhất)"
    #: an archive renewal that a later renewal has since replaced
    ARCHIVED_SUPERSEDED = "bản đã ban hành, được gia hạn dấu thời gian lưu trữ " \
                          "(đã có bản gia hạn mới hơn)"
    #: an attachment (phụ lục) signed for the issued document
    ATTACHMENT = "phụ lục đã ký kèm văn bản"
    #: an electronic copy (sao y, trích sao, sao lục): a numbered document of its own
    COPY = "bản sao điện tử"
    #: a draft, prepared or approved version: not (yet) issued
    NOT_ISSUED = "phiên bản trước khi ban hành"
    #: no stored version; the file carries this document's verification link
    CLAIMED = "tệp mang đường dẫn kiểm tra của văn bản nhưng không trùng phiên bản nào đã lưu"

    @property
    def is_issued(self) -> bool:
        """The file is the issued document itself (or an archive renewal of it)."""
        return self in (Relation.ISSUED, Relation.ARCHIVED, Relation.ARCHIVED_SUPERSEDED)


_EN = {
    Relation.ISSUED: "the issued version",
    Relation.ARCHIVED: "the issued version with its archive timestamp renewed (the latest)",
    Relation.ARCHIVED_SUPERSEDED: "the issued version with its archive timestamp renewed "
                                  "(a later renewal exists)",
    Relation.ATTACHMENT: "an attachment signed for the document",
    Relation.COPY: "an electronic copy",
    Relation.NOT_ISSUED: "a version from before the document was issued",
    Relation.CLAIMED: "the file carries the document's verification link but matches "
                      "no stored version",
}

#: When one file is stored under several kinds, the first kind here names it.
_PREFERENCE = (VersionKind.ISSUED, VersionKind.ARCHIVED, VersionKind.ATTACHMENT,
               VersionKind.COPY, VersionKind.APPROVED, VersionKind.PREPARED, VersionKind.DRAFT)


@dataclass(frozen=True)
class RegisterFacts:
    """A register entry as matching reports it (names as they were on the day of issue)."""

    number_symbol: str
    issued_date: date
    organ_name: str
    type_name: str
    subject: str
    signer_full_name: str
    signer_position: str
    recipients: str
    cancelled: bool
    cancel_reason: str | None

    @classmethod
    def of(cls, entry: RegisterEntry) -> RegisterFacts:
        return cls(number_symbol=entry.number_symbol, issued_date=entry.issued_date,
                   organ_name=entry.organ_name, type_name=entry.type_name,
                   subject=entry.subject, signer_full_name=entry.signer_full_name,
                   signer_position=entry.signer_position, recipients=entry.recipients,
                   cancelled=entry.cancelled, cancel_reason=entry.cancel_reason)

    def to_dict(self) -> dict[str, Any]:
        return {"number_symbol": self.number_symbol,
                "issued_date": self.issued_date.isoformat(), "organ_name": self.organ_name,
                "type_name": self.type_name, "subject": self.subject,
                "signer_full_name": self.signer_full_name,
                "signer_position": self.signer_position, "recipients": self.recipients,
                "cancelled": self.cancelled, "cancel_reason": self.cancel_reason}


@dataclass(frozen=True)
class Match:
    """What the register knows of a file."""

    document_id: str
    body_id: int
    status: DocumentStatus
    relation: Relation
    #: The matched version's kind, id and creation time; None for ``CLAIMED``.
    kind: VersionKind | None
    version_id: int | None
    stored_at: datetime | None
    #: The document's register entry (for a copy: the copy's own entry); None while
    #: the document has no number.
    entry: RegisterFacts | None
    #: For a copy: the document it copies and that document's entry.
    source_document_id: str | None = None
    source_entry: RegisterFacts | None = None

    @property
    def exact(self) -> bool:
        """The file is exactly the issued document (or an archive renewal of it)."""
        return self.relation.is_issued

    @property
    def vi(self) -> str:
        return self.relation.value

    @property
    def en(self) -> str:
        return _EN[self.relation]

    def to_dict(self) -> dict[str, Any]:
        """The ``register`` block of a verification report (JSON-like)."""
        return {
            "document_id": self.document_id, "status": self.status.name,
            "relation": self.relation.name, "exact": self.exact,
            "vi": self.vi, "en": self.en,
            "version_kind": self.kind.name if self.kind else None,
            "version_id": self.version_id,
            "stored_at": self.stored_at.isoformat() if self.stored_at else None,
            "entry": self.entry.to_dict() if self.entry else None,
            "source_document_id": self.source_document_id,
            "source_entry": self.source_entry.to_dict() if self.source_entry else None,
        }


def _facts(document: Document) -> RegisterFacts | None:
    entry = document.register_entry
    return RegisterFacts.of(entry) if entry is not None else None


def _latest_issued_id(session: Session, document_id: str) -> int | None:
    """The id of the newest ISSUED or ARCHIVED version: the document's reference file."""
    return session.scalar(select(DocumentVersion.id).where(
        DocumentVersion.document_id == document_id,
        DocumentVersion.kind.in_((VersionKind.ISSUED, VersionKind.ARCHIVED)))
        .order_by(DocumentVersion.id.desc()).limit(1))


def _relation(session: Session, version: DocumentVersion) -> Relation:
    if version.kind is VersionKind.ISSUED:
        return Relation.ISSUED
    if version.kind is VersionKind.ARCHIVED:
        latest = _latest_issued_id(session, version.document_id)
        return Relation.ARCHIVED if latest == version.id else Relation.ARCHIVED_SUPERSEDED
    if version.kind is VersionKind.ATTACHMENT:
        return Relation.ATTACHMENT
    if version.kind is VersionKind.COPY:
        return Relation.COPY
    return Relation.NOT_ISSUED


def _match_version(session: Session, version: DocumentVersion) -> Match:
    document = version.document
    source_id: str | None = None
    source_entry: RegisterFacts | None = None
    if version.kind is VersionKind.COPY and version.source_version_id is not None:
        source = session.get(DocumentVersion, version.source_version_id)
        if source is not None:
            source_id, source_entry = source.document_id, _facts(source.document)
    return Match(document_id=document.id, body_id=document.body_id, status=document.status,
                 relation=_relation(session, version), kind=version.kind,
                 version_id=version.id, stored_at=version.created_at,
                 entry=_facts(document), source_document_id=source_id,
                 source_entry=source_entry)


def match_file(session: Session, sha256: str) -> Match | None:
    """The stored version whose SHA-256 is ``sha256`` (hex, any case), or None."""
    found = session.scalars(select(DocumentVersion).where(
        DocumentVersion.sha256 == sha256.lower())).all()
    if not found:
        return None
    best = min(found, key=lambda v: (_PREFERENCE.index(v.kind), -v.id))
    return _match_version(session, best)


def match_document(session: Session, document: Document) -> Match:
    """What the register says of ``document`` when a file names it without being one of
    its versions (relation ``CLAIMED``)."""
    return Match(document_id=document.id, body_id=document.body_id, status=document.status,
                 relation=Relation.CLAIMED, kind=None, version_id=None, stored_at=None,
                 entry=_facts(document))


def match_link(session: Session, code: str) -> Match | None:
    """The document a verification link's code names (relation ``CLAIMED``), or None."""
    document = document_for_code(session, code)
    return match_document(session, document) if document is not None else None


def match_claimed(session: Session, urls: Iterable[str]) -> Match | None:
    """The first document named by one of ``urls`` (verification links read from a
    file, e.g. :func:`signer.qr.qr_links`), relation ``CLAIMED``; None if none is ours."""
    for url in urls:
        code = code_in_url(url)
        found = match_link(session, code) if code else None
        if found is not None:
            return found
    return None


def public_relation(match: Match) -> bool:
    """Whether the match may be shown to someone outside the document's body: the file
    is (or claims to be) a document that was issued; drafts and approvals stay private."""
    if match.relation is Relation.NOT_ISSUED:
        return False
    return match.relation is not Relation.CLAIMED or match.entry is not None and \
        match.status in (DocumentStatus.ISSUED, DocumentStatus.DELIVERED)


@dataclass(frozen=True)
class Comparison:
    """The answer for one document: is the file exactly its issued version?"""

    genuine: bool
    #: What the file is, when the register knows it (any document's version).
    match: Match | None
    vi: str
    en: str


def check_against(session: Session, document: Document, sha256: str) -> Comparison:
    """Compare a file (by SHA-256) with ``document``'s issued and archived versions.

    Genuine only when the file is one of them. Otherwise the answer says what the file
    is when it is another version of this document (a draft, an attachment) or a copy
    made from it; of another document's files it says nothing (the page for one
    document does not describe others).
    """
    found = match_file(session, sha256)
    issued = document.status in (DocumentStatus.ISSUED, DocumentStatus.DELIVERED)
    if found is not None and found.document_id == document.id and found.exact and issued:
        if found.relation is Relation.ISSUED:
            return Comparison(True, found, "Tệp này đúng là bản đã ban hành.",
                              "This file is exactly the issued version.")
        return Comparison(True, found,
                          f"Tệp này đúng là bản đã ban hành ({found.vi}).",
                          f"This file is exactly the issued document ({found.en}).")
    no_vi, no_en = "Tệp này KHÔNG phải bản đã ban hành", "This file is NOT the issued version"
    if not issued:
        return Comparison(False, None, f"{no_vi}: văn bản chưa được ban hành.",
                          f"{no_en}: the document has not been issued.")
    if found is not None and found.document_id == document.id:
        return Comparison(False, found, f"{no_vi}: đây là {found.vi}.",
                          f"{no_en}: it is {found.en}.")
    if found is not None and found.source_document_id == document.id:
        number = found.entry.number_symbol if found.entry else "—"
        return Comparison(False, found, f"{no_vi}: đây là bản sao điện tử số {number} "
                                        "của văn bản này.",
                          f"{no_en}: it is electronic copy {number} of this document.")
    return Comparison(False, None,
                      f"{no_vi}: nội dung tệp khác với bản đã ban hành (đã bị sửa đổi "
                      "hoặc là tệp khác).",
                      f"{no_en}: its content differs from the issued version (altered, "
                      "or another file).")
