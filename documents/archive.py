"""Archive timestamp renewal for issued documents (PAdES B-LTA), run periodically.

An issued document must stay verifiable for as long as it is kept. Its latest file —
the issued version, or the last ARCHIVED version made from it — gets a new document
timestamp (:func:`signer.ltv.add_archive_timestamp`) when :func:`signer.ltv.
archive_timestamp_due` says so: the last archive timestamp's TSA certificate expires
within ``margin``, its digest is weak, or a B-LT file has none yet. The result is a new
``DocumentVersion`` of kind ARCHIVED (the issued version is never replaced: it stays
the file the register entry was issued with), ``source_version_id`` pointing at the
version it extends, and an audit event. Issued B-T files (no DSS) are included by
default: their validation info is embedded while the CAs still answer, then the first
archive timestamp.

Audit: adding an action means a migration that recreates ``audit_event`` with its
triggers on SQLite, so the act is recorded as ``ADMIN_CHANGE`` (a maintenance act by
the system, not a legal act of a person: not SIGN, SEAL or ISSUE) with
``{"archive_timestamp": true, …}`` in its details.

Like every act in ``documents``, :func:`renew_archive_timestamps` never commits. The
slow part (TSA and OCSP requests) runs first, before anything is written, so the audit
head is locked only for the short writing part.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from signer import (
    ARCHIVE_MARGIN,
    DueReason,
    SignerError,
    TimestampUnavailable,
    add_archive_timestamp,
    archive_timestamp_due,
)

from .audit import AuditAction, record
from .issuance import Signing, keep_pdf, latest_version
from .models import Document, DocumentVersion, VersionKind
from .storage import FileStore

log = logging.getLogger(__name__)

#: The audit action archive renewals are recorded under (see the module docstring).
ARCHIVE_ACTION = AuditAction.ADMIN_CHANGE


@dataclass(frozen=True)
class _Renewal:
    document: Document
    source: DocumentVersion
    reason: DueReason
    pdf: bytes


def _due(session: Session, store: FileStore, now: dt.datetime, margin: dt.timedelta,
         include_b_t: bool) -> list[tuple[Document, DocumentVersion, DueReason, bytes]]:
    issued_ids = select(DocumentVersion.document_id).where(
        DocumentVersion.kind == VersionKind.ISSUED).distinct()
    due = []
    for document in session.scalars(select(Document).where(Document.id.in_(issued_ids))
                                    .order_by(Document.id)):
        current = latest_version(session, document, VersionKind.ISSUED, VersionKind.ARCHIVED)
        assert current is not None
        pdf = store.get(current.sha256)
        try:
            reason = archive_timestamp_due(pdf, now, margin, include_b_t=include_b_t)
        except SignerError as exc:
            log.warning("archive timestamp check skipped for %s: %s", document.id, exc.en)
            continue
        if reason is not None:
            due.append((document, current, reason, pdf))
    return due


def renew_archive_timestamps(session: Session, store: FileStore, *, tsa_url: str,
                             validation_context: Callable[[], Any], now: dt.datetime,
                             margin: dt.timedelta = ARCHIVE_MARGIN,
                             include_b_t: bool = True, limit: int | None = None,
                             actor: str | None = None,
                             signing: Signing | None = None) -> list[str]:
    """Add an archive timestamp to every issued document whose latest file needs one;
    return the ids of the documents renewed, in id order.

    ``validation_context`` makes a fresh, online pyHanko ValidationContext per
    document (a context keeps every response it fetched, and pyHanko would embed
    them all). ``now`` is when the due check is made. ``include_b_t`` also gives
    issued B-T files (no DSS yet) their validation info and first archive timestamp,
    so every issued document becomes B-LTA; ``limit`` caps the documents renewed in
    one call (the next run takes the rest). With ``signing`` (whose ``trust`` is set),
    each document's context trusts what its own body trusts
    (:meth:`~documents.issuance.Signing.for_body`) instead of ``validation_context``.
    Idempotent: right after a run, nothing is due. A TSA that does not answer raises
    :class:`~signer.TimestampUnavailable` before anything is written (the task retries); a file that
    cannot be renewed for another reason is logged and left for the next run.
    """
    renewals: list[_Renewal] = []
    for document, source, reason, pdf in _due(session, store, now, margin, include_b_t):
        if limit is not None and len(renewals) >= limit:
            break
        try:
            contexts = (signing.for_body(session, document.body_id).contexts
                        if signing is not None and signing.trust is not None else None)
            renewed = add_archive_timestamp(pdf, tsa_url, (contexts or validation_context)())
        except TimestampUnavailable:
            raise
        except SignerError as exc:
            log.warning("archive timestamp not renewed for %s: %s", document.id, exc.en)
            continue
        renewals.append(_Renewal(document, source, reason, renewed))

    for renewal in renewals:
        document, source = renewal.document, renewal.source
        version = keep_pdf(session, store, document, VersionKind.ARCHIVED, renewal.pdf, actor,
                           source.file_name, source=source)
        record(session, ARCHIVE_ACTION, actor=actor, body_id=document.body_id,
               object_type="document", object_id=document.id,
               details={"archive_timestamp": True, "reason": renewal.reason.name,
                        "tsa_url": tsa_url, "source_sha256": source.sha256,
                        "sha256": version.sha256, "version_id": version.id})
    return [renewal.document.id for renewal in renewals]
