"""The acts that move a document from draft to issued file (Decree 30/2020, Art. 13–16).

Plain functions over a session, a :class:`FileStore` and an open pyHanko signer:
none commits, so each act is one transaction the caller commits (or rolls back —
then the allocated number is not consumed and the stored file is an unreferenced
blob, never a half-issued document). Every PDF produced is a new version; nothing
is overwritten.

    draft ──prepare──▶ prepared ──approve──▶ signed ──issue──▶ issued
                                               (number + date + register + seal)
    issued ──attach──▶ attachment signed      issued ──copy──▶ copy (own number)

Every act ends by recording its audit events (:mod:`documents.audit`) in the same
transaction: UPLOAD, PREPARE, APPROVE + SIGN, NUMBER + SEAL + ISSUE, ATTACH, COPY.
A refused or rolled-back act leaves no event.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from asn1crypto import x509
from pyhanko.sign.signers import Signer
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select
from sqlalchemy.orm import Session

from certs import SharedFetchers, TrustStore, validation_context
from common import vietnam_time
from signer import (
    ATTACHMENT_LIMITS,
    DAY_FIELD,
    MONTH_FIELD,
    UPLOADED,
    YEAR_FIELD,
    CopyKind,
    DateLine,
    DocumentInfo,
    DraftLayout,
    FieldPlan,
    PadesLevel,
    PendingSignature,
    Prepared,
    RawSignature,
    appendix_options,
    approval_options,
    check_draft,
    clerk_fields,
    copy_options,
    finish,
    issuance_options,
    locate,
    prepare_digest,
    prepare_pdf,
    sign_pdf,
    signer_certificate,
)

from .anchors import trust_for
from .audit import AuditAction, record
from .authority import find_authority
from .block import PLACEHOLDER_NAMES
from .custody import Act, Custody, channel_of_token, check_token
from .errors import (
    CertificateMismatch,
    NoSigningAuthority,
    PrintedDateMismatch,
    SignerNotInBlock,
    UnknownDocumentType,
    WrongKeyOnToken,
    WrongStep,
)
from .layouts import prepared_layout
from .links import ensure_link, verify_url
from .models import (
    Document,
    DocumentStatus,
    DocumentType,
    DocumentVersion,
    NumberBook,
    Organisation,
    Person,
    RegisterEntry,
    SigningAuthority,
    Unit,
    VersionKind,
)
from .numbering import book_for
from .register import IssueDetails, register_issue
from .storage import FileStore

#: A signature block may carry the template's placeholder instead of a name.
COPY_TYPES = {CopyKind.SAO_Y: "ban-sao-y", CopyKind.TRICH_SAO: "ban-trich-sao",
              CopyKind.SAO_LUC: "ban-sao-luc"}


@dataclass(frozen=True)
class Signing:
    """What every signing act needs besides the signer: the TSA, a validation context per
    signature (the pre-signing check of the certificate; the revocation data embedded at
    B-LT), and the PAdES level of the organisation's signatures (issue, attachment, copy).

    ``contexts`` makes a FRESH pyHanko ValidationContext each time: a context caches
    what it fetched, and a long-lived one would keep an old OCSP answer (missing a
    revocation since) and embed everything it ever fetched.

    ``trust`` (the base store every body shares: bundled and demo roots) makes the trust
    scoped: each act validates with ``trust`` + the province-wide anchors + the anchors
    of the document's own body (:func:`documents.anchors.trust_for`, read in the act's
    transaction), never another body's; ``contexts`` is then unused.
    """

    tsa_url: str | None = None
    contexts: Callable[[], ValidationContext] | None = None
    level: PadesLevel = PadesLevel.B_T
    trust: TrustStore | None = None
    #: shared OCSP/CRL fetches for the scoped contexts (None: each context fetches)
    fetchers: SharedFetchers | None = None
    #: print the body's name and the signing time under the seal (Appendix I: off)
    seal_caption: bool = False

    @property
    def validation_context(self) -> ValidationContext | None:
        """A new validation context (None without ``contexts``: no pre-signing check)."""
        return self.contexts() if self.contexts is not None else None

    def for_body(self, session: Session, body_id: int) -> Signing:
        """This signing with contexts trusting what body ``body_id`` trusts (unchanged
        without ``trust``)."""
        if self.trust is None:
            return self
        store = trust_for(session, self.trust, [body_id])
        fetchers = self.fetchers
        return replace(self, contexts=lambda: validation_context(store, shared=fetchers))


def keep_pdf(session: Session, store: FileStore, document: Document, kind: VersionKind,
             pdf: bytes, actor: str | None, file_name: str = "",
             source: DocumentVersion | None = None,
             signer: Person | None = None) -> DocumentVersion:
    digest = store.put(pdf)
    version = session.scalar(select(DocumentVersion).where(
        DocumentVersion.document_id == document.id, DocumentVersion.kind == kind,
        DocumentVersion.sha256 == digest))
    if version is None:
        version = DocumentVersion(document=document, kind=kind, sha256=digest, size=len(pdf),
                                  file_name=file_name, created_by=actor,
                                  source_version_id=source.id if source else None,
                                  signer_id=signer.id if signer else None)
        session.add(version)
        session.flush()
    return version


def latest_version(session: Session, document: Document,
                   *kinds: VersionKind) -> DocumentVersion | None:
    query = select(DocumentVersion).where(DocumentVersion.document_id == document.id)
    if kinds:
        query = query.where(DocumentVersion.kind.in_(kinds))
    return session.scalar(query.order_by(DocumentVersion.id.desc()).limit(1))


def _require(document: Document, *statuses: DocumentStatus) -> None:
    if document.status not in statuses:
        raise WrongStep(document.status.value, " / ".join(s.value for s in statuses))


def _cert_sha256(signer: Signer) -> str:
    return hashlib.sha256(signer_certificate(signer).dump()).hexdigest()


def _caused_by(custody: Custody | None, act: Act, document: Document, actor: str | None,
               certificate_sha256: str, token_name: str | None = None,
               person_id: int | None = None) -> dict[str, object]:
    """Who caused a signature, for its audit event: the act's :class:`Custody` when the
    caller resolved one (the service, ``kyso demo``), else what the act itself knows."""
    if custody is not None:
        if custody.act is not act or custody.body_id != document.body_id \
                or custody.certificate_sha256 != certificate_sha256:
            raise WrongKeyOnToken(custody.token_name, custody.certificate_sha256,
                                  certificate_sha256)
        return custody.audit()
    return {"act": act.name, "account": actor, "account_id": None, "person_id": person_id,
            "body_id": document.body_id, "certificate_sha256": certificate_sha256,
            "channel": channel_of_token(token_name).value if token_name else None,
            "token": token_name}


def _body_signature(custody: Custody | None, body_signer: Signer,
                    signing_time: datetime | None) -> datetime:
    """The moment of an organisation signature (Vietnam time, to the second), after
    checking that the open token holds the body's bound certificate."""
    if custody is not None:
        check_token(custody, body_signer)
    return vietnam_time(signing_time).replace(microsecond=0)


def _audit(session: Session, action: AuditAction, document: Document, actor: str | None,
           **details: object) -> None:
    record(session, action, actor=actor, body_id=document.body_id, object_type="document",
           object_id=document.id, details=details)


def new_draft(session: Session, store: FileStore, body: Organisation, doc_type_code: str,
              subject: str, pdf: bytes, *, unit: Unit | None = None, actor: str | None = None,
              file_name: str = "", checked: bool = False) -> Document:
    """Register a draft: refused now if it can never be signed (encrypted, active content…)
    or if its type is not one of Appendix III's (:class:`UnknownDocumentType`).

    ``checked``: the caller already ran ``check_draft`` (in a child process with limits,
    before opening a transaction), so it is not run again here."""
    if session.get(DocumentType, doc_type_code) is None:
        raise UnknownDocumentType(doc_type_code)
    if not checked:
        check_draft(pdf, draft_marks=True, source=file_name or UPLOADED)
    document = Document(body=body, unit=unit, doc_type_code=doc_type_code, subject=subject,
                        status=DocumentStatus.DRAFT)
    session.add(document)
    session.flush()
    version = keep_pdf(session, store, document, VersionKind.DRAFT, pdf, actor, file_name)
    _audit(session, AuditAction.UPLOAD, document, actor, doc_type=doc_type_code,
           subject=subject, unit_id=unit.id if unit else None, sha256=version.sha256,
           size=version.size, file_name=file_name)
    return document


def replace_draft(session: Session, store: FileStore, document: Document, pdf: bytes, *,
                  actor: str | None = None, file_name: str = "",
                  checked: bool = False) -> Document:
    """A corrected draft for a document that came back (returned or recalled).

    The earlier versions stay; the document starts again from DRAFT and is prepared
    and routed like a new one.
    """
    _require(document, DocumentStatus.RETURNED, DocumentStatus.DRAFT)
    if not checked:
        check_draft(pdf, draft_marks=True, source=file_name or UPLOADED)
    version = keep_pdf(session, store, document, VersionKind.DRAFT, pdf, actor, file_name)
    document.status = DocumentStatus.DRAFT
    _audit(session, AuditAction.UPLOAD, document, actor, sha256=version.sha256,
           size=version.size, file_name=file_name, replaces_returned=True)
    return document


@dataclass(frozen=True)
class PrepareInput:
    """What preparing a draft needs, read in a short transaction (:func:`prepare_input`):
    the draft version's hash and bytes, the QR code's text and whether the drafter asked
    to cover "DỰ THẢO" marks."""

    draft_sha256: str
    pdf: bytes
    qr_text: str | None
    cover_draft_mark: bool = False


def prepare_input(session: Session, store: FileStore, document: Document, *,
                  qr_url: str | None = None, cover_draft_mark: bool = False) -> PrepareInput:
    """The draft to prepare; makes the document's short verification link
    (:mod:`documents.links`), whose URL the QR code prints when ``qr_url`` is given."""
    _require(document, DocumentStatus.DRAFT)
    draft = latest_version(session, document, VersionKind.DRAFT)
    assert draft is not None
    link = ensure_link(session, document)
    qr_text = verify_url(qr_url, link.code) if qr_url else None
    return PrepareInput(draft.sha256, store.get(draft.sha256), qr_text, cover_draft_mark)


def store_prepared(session: Session, store: FileStore, document: Document,
                   given: PrepareInput, prepared: Prepared, *,
                   overrides: dict[str, object] | None = None,
                   actor: str | None = None) -> DocumentVersion | None:
    """Keep the prepared PDF made from ``given`` (outside any transaction): a new version,
    the document PREPARED, the PREPARE audit event (with the draft marks covered when the
    drafter asked for it: ``draft_marks_covered``). Idempotent: None (nothing done) when
    the document is no longer a draft or its latest draft is no longer ``given``'s."""
    draft = latest_version(session, document, VersionKind.DRAFT)
    if document.status is not DocumentStatus.DRAFT or draft is None \
            or draft.sha256 != given.draft_sha256:
        return None
    version = keep_pdf(session, store, document, VersionKind.PREPARED, prepared.pdf, actor)
    document.status = DocumentStatus.PREPARED
    _audit(session, AuditAction.PREPARE, document, actor, draft_sha256=draft.sha256,
           sha256=version.sha256, overrides=sorted(overrides or {}),
           qr=given.qr_text is not None,
           **({"draft_marks_covered": list(prepared.covered)}
              if given.cover_draft_mark else {}))
    return version


def prepare(session: Session, store: FileStore, document: Document, *,
            overrides: dict[str, object] | None = None,
            actor: str | None = None, qr_url: str | None = None,
            cover_draft_mark: bool = False) -> tuple[DraftLayout, FieldPlan]:
    """Locate the draft's number, date and signature block and add every field, in this
    process and this transaction (the service's worker runs the same steps with the PDF
    work in a child process and no transaction open: ``documents.work``).

    ``overrides`` replaces planned places by hand (keys of :class:`FieldPlan`).
    A draft still marked "DỰ THẢO" is refused (`signer.marks.DraftMarked`) unless the
    drafter asked for ``cover_draft_mark``: the marks are then taken out of the pages
    and named in the PREPARE audit event (``draft_marks_covered``).
    The document's short verification link is made here (:mod:`documents.links`);
    with ``qr_url`` (the service's public base URL) its QR code and caption are
    printed on page 1 — now, since nothing may be drawn after the first signature.
    """
    given = prepare_input(session, store, document, qr_url=qr_url,
                          cover_draft_mark=cover_draft_mark)
    prepared = prepare_pdf(given.pdf, given.qr_text, overrides, given.cover_draft_mark)
    store_prepared(session, store, document, given, prepared, overrides=overrides, actor=actor)
    return prepared.layout, prepared.plan


def _approvable(session: Session, document: Document, person: Person,
                cert_sha256: str) -> tuple[SigningAuthority, DocumentVersion]:
    """The authority and prepared version ``person`` signs under; refusals as for approve."""
    _require(document, DocumentStatus.PREPARED, DocumentStatus.AWAITING_SIGNATURE)
    authority = find_authority(session, person, document.body, document.doc_type,
                               document.unit)
    if authority is None:
        raise NoSigningAuthority(person.full_name, document.doc_type.name, document.body.name)
    if authority.certificate_sha256 != cert_sha256:
        raise CertificateMismatch(person.full_name)
    prepared = latest_version(session, document, VersionKind.PREPARED)
    assert prepared is not None
    return authority, prepared


def _check_block(store: FileStore, prepared: DocumentVersion, pdf: bytes,
                 person: Person) -> None:
    block = prepared_layout(store, prepared.sha256, pdf).signature
    if block is not None and block.name not in PLACEHOLDER_NAMES \
            and block.name != person.full_name:
        raise SignerNotInBlock(block.name, person.full_name)


def _approved(session: Session, store: FileStore, document: Document, person: Person,
              authority: SigningAuthority, prepared: DocumentVersion, signed: bytes,
              actor: str | None, custody: Custody | None = None, **how: object) -> None:
    version = keep_pdf(session, store, document, VersionKind.APPROVED, signed, person.full_name,
                       signer=person)
    document.status = DocumentStatus.SIGNED
    who = actor or person.full_name
    _audit(session, AuditAction.APPROVE, document, who, person_id=person.id,
           person=person.full_name, authority_id=authority.id,
           designation=authority.designation)
    caused_by = _caused_by(custody, Act.APPROVAL, document, who, authority.certificate_sha256,
                           authority.token_name, person.id)
    _audit(session, AuditAction.SIGN, document, who, signature="approval",
           certificate_sha256=authority.certificate_sha256, token=authority.token_name,
           source_sha256=prepared.sha256, sha256=version.sha256, caused_by=caused_by, **how)


def approve(session: Session, store: FileStore, document: Document, person: Person,
            signer: Signer, signature_image: bytes, signing: Signing = Signing(), *,
            actor: str | None = None, custody: Custody | None = None) -> bytes:
    """The competent person's approval signature (Appendix I: blue image, centred).

    Refused unless the person holds signing authority for this type of document, the
    token's certificate is the one registered for that authority, and the signature
    block names this person. The audit events (APPROVE, SIGN) name ``actor``, by
    default the person. ``custody``: who caused the signature (:mod:`documents.custody`);
    it must name this authority's key.
    """
    if custody is not None:
        check_token(custody, signer)
    authority, prepared = _approvable(session, document, person, _cert_sha256(signer))
    if custody is not None and custody.authority_id not in (None, authority.id):
        raise WrongKeyOnToken(custody.token_name, custody.certificate_sha256,
                              authority.certificate_sha256)
    pdf = store.get(prepared.sha256)
    _check_block(store, prepared, pdf, person)
    signing = signing.for_body(session, document.body_id)
    signed = sign_pdf(pdf, signer, approval_options(signature_image, tsa_url=signing.tsa_url,
                                            validation_context=signing.validation_context))
    _approved(session, store, document, person, authority, prepared, signed, actor, custody)
    return signed


def begin_approval(session: Session, store: FileStore, document: Document, person: Person,
                   certificate: x509.Certificate, chain: Sequence[x509.Certificate],
                   signature_image: bytes, signing: Signing = Signing(), *,
                   lifetime: timedelta = timedelta(minutes=30)) -> PendingSignature:
    """Hash-only approval, first half: the prepared document made ready for the
    signature of ``certificate``'s key held elsewhere (the signer's USB token through
    ``kyso agent``, or a remote-signing service). The same checks as :func:`approve`;
    nothing is stored: the caller keeps the returned state until the signature comes."""
    _approvable(session, document, person, hashlib.sha256(certificate.dump()).hexdigest())
    prepared = latest_version(session, document, VersionKind.PREPARED)
    assert prepared is not None
    pdf = store.get(prepared.sha256)
    _check_block(store, prepared, pdf, person)
    signing = signing.for_body(session, document.body_id)
    return prepare_digest(pdf, certificate, approval_options(
        signature_image, tsa_url=signing.tsa_url,
        validation_context=signing.validation_context), chain=chain, lifetime=lifetime)


def finish_approval(session: Session, store: FileStore, document: Document, person: Person,
                    pending: PendingSignature, signature: RawSignature | bytes, *,
                    actor: str | None = None, channel: str = "agent",
                    custody: Custody | None = None) -> bytes:
    """Hash-only approval, second half: embed the signature made over ``pending.digest``
    and record the approval exactly as :func:`approve` does. A signature that does not
    verify, an expired state or a document that moved on meanwhile produce nothing."""
    authority, prepared = _approvable(session, document, person,
                                      hashlib.sha256(pending.certificate).hexdigest())
    signed = finish(pending, signature)
    _approved(session, store, document, person, authority, prepared, signed, actor, custody,
              channel=channel)
    return signed


def day_and_month(day: date, pad_months_through: int = 2) -> tuple[str, str]:
    """The day and month as the date line writes them (05; 01, 02 but 3, 12)."""
    month = f"{day.month:02d}" if day.month <= pad_months_through else str(day.month)
    return f"{day.day:02d}", month


def date_fills(day: date) -> dict[str, str]:
    """What issuing on ``day`` writes into the date line's fields: day, month and year."""
    d, m = day_and_month(day)
    return {DAY_FIELD: d, MONTH_FIELD: m, YEAR_FIELD: str(day.year)}


_PRINTED = re.compile(r"ngày\s*(?P<day>\d*)\D*?tháng\s*(?P<month>\d*)\D*?năm\s*(?P<year>\d*)")


def printed_date(pdf: bytes, issued: date, date_line: DateLine | None = None) -> str | None:
    """The date line as the page issued on ``issued`` prints it — the draft's place, the
    values its day, month and year fields will hold, the draft's own digits where it has
    no field — or None when the draft has no date line. This is what the clerk's page
    shows before issuing.

    Raises `PrintedDateMismatch` when that date is not ``issued`` whole: a document
    prepared before year fields existed that prints another year, a day typed in the
    draft, a blank no field will fill."""
    if date_line is None:
        date_line = locate(pdf).date
    if date_line is None:
        return None
    fields = clerk_fields(pdf)
    fills = date_fills(issued)
    own = _PRINTED.search(date_line.text)
    parts = {key: fills[name] if name in fields else (own.group(key) if own else "")
             for name, key in ((DAY_FIELD, "day"), (MONTH_FIELD, "month"),
                               (YEAR_FIELD, "year"))}
    printed = (f"{date_line.place}, ngày {parts['day']} tháng {parts['month']} "
               f"năm {parts['year']}")
    wanted = {"day": issued.day, "month": issued.month, "year": issued.year}
    for key, word_vi, word_en in (("day", "ngày", "day"), ("month", "tháng", "month"),
                                  ("year", "năm", "year")):
        value = parts[key]
        if not value.isdigit() or int(value) != wanted[key]:
            printed_how = (f"dự thảo ghi sẵn {word_vi} {value}" if value
                           else f"{word_vi} để trống")
            raise PrintedDateMismatch(
                printed, f"{issued:%d/%m/%Y}",
                f"{printed_how} và không có trường {word_vi} để điền",
                f"the draft prints the {word_en} as “{value or '…'}” and has no "
                f"{word_en} field to fill")
    return printed


def _check_printed(issued_pdf: bytes, entry: RegisterEntry, printed: str | None) -> None:
    """After the organisation signature: the date fields hold the register's date."""
    if printed is None:
        return
    values = clerk_fields(issued_pdf)
    for name, text in date_fills(entry.issued_date).items():
        if name in values and values[name] != text:
            raise PrintedDateMismatch(
                printed, f"{entry.issued_date:%d/%m/%Y}",
                f"trường {name} được điền “{values[name]}”, khác “{text}”",
                f"field {name} holds “{values[name]}”, not “{text}”")


def issue(session: Session, store: FileStore, document: Document, body_signer: Signer,
          seal_image: bytes, details: IssueDetails, signing: Signing = Signing(), *,
          book: NumberBook | None = None, actor: str | None = None,
          custody: Custody | None = None, signing_time: datetime | None = None
          ) -> tuple[RegisterEntry, bytes]:
    """The clerk's one act: number, date, register entry and the organisation signature.

    Number and register entry are written in the caller's transaction; the number
    and the date — day, month and year — are filled in the same revision as the
    organisation signature. What the page prints is the register's date, whole: a
    document that would print another date is refused before a number is taken
    (`PrintedDateMismatch`), and the filled fields are read back before anything is
    stored. The audit events (NUMBER, SEAL, ISSUE) name ``actor``, by default the
    clerk who registers (``details.registered_by``).

    With ``custody`` (the service and ``kyso demo`` always pass it) the open token must
    hold the body's bound certificate, and the issue date is the day (Vietnam time) of
    the organisation signature, ``signing_time`` or now: ``details.issued_date`` is
    replaced, so no caller chooses it. Without ``custody`` (tests of the act itself) the
    date is ``details.issued_date`` as given.
    """
    _require(document, DocumentStatus.SIGNED, DocumentStatus.NUMBERED)
    moment = _body_signature(custody, body_signer, signing_time)
    if custody is not None:
        details = replace(details, issued_date=moment.date())
    approved = latest_version(session, document, VersionKind.APPROVED)
    assert approved is not None
    book = book or book_for(session, document.body, document.doc_type, document.unit)
    pdf = store.get(approved.sha256)
    prepared = latest_version(session, document, VersionKind.PREPARED)
    layout = prepared_layout(store, prepared.sha256) if prepared is not None else None
    printed = printed_date(pdf, details.issued_date, layout.date if layout else None)
    entry = register_issue(session, document, book, details)
    ensure_link(session, document)  # documents prepared before links existed get one now
    present = clerk_fields(pdf)  # a document prepared before year fields has none
    fills = {name: text for name, text in date_fills(entry.issued_date).items()
             if name in present}
    signing = signing.for_body(session, document.body_id)
    options = issuance_options(seal_image, document.body.name, entry.code_number,
                       fills.get(DAY_FIELD), fills.get(MONTH_FIELD), fills.get(YEAR_FIELD),
                       tsa_url=signing.tsa_url, validation_context=signing.validation_context,
                       level=signing.level, seal_caption=signing.seal_caption,
                       info=DocumentInfo(entry.number_symbol, document.subject,
                                         document.body.name))
    issued = sign_pdf(pdf, body_signer, options,
                      signing_time=moment if custody is not None else signing_time)
    _check_printed(issued, entry, printed)
    version = keep_pdf(session, store, document, VersionKind.ISSUED, issued,
                       details.registered_by)
    document.status = DocumentStatus.ISSUED
    who = actor or details.registered_by
    _audit(session, AuditAction.NUMBER, document, who, number=entry.number,
           number_symbol=entry.number_symbol, book_id=book.id, year=entry.year,
           register_entry_id=entry.id, issued_date=entry.issued_date)
    cert = _cert_sha256(body_signer)
    _audit(session, AuditAction.SEAL, document, who, certificate_sha256=cert,
           source_sha256=approved.sha256, sha256=version.sha256,
           caused_by=_caused_by(custody, Act.ISSUE, document, who, cert))
    _audit(session, AuditAction.ISSUE, document, who, number_symbol=entry.number_symbol,
           issued_date=entry.issued_date, printed_date=printed, sha256=version.sha256)
    return entry, issued


def _issued(session: Session, store: FileStore, document: Document) -> tuple[DocumentVersion,
                                                                              RegisterEntry]:
    _require(document, DocumentStatus.ISSUED, DocumentStatus.DELIVERED)
    version = latest_version(session, document, VersionKind.ISSUED)
    assert version is not None and document.register_entry is not None
    return version, document.register_entry


def sign_attachment(session: Session, store: FileStore, document: Document, body_signer: Signer,
                    pdf: bytes, signing: Signing = Signing(), *, file_name: str = "",
                    actor: str | None = None, custody: Custody | None = None) -> bytes:
    """An attachment in its own file: organisation signature, top right, the main
    document's number and symbol (Appendix I). ``custody``: as for :func:`issue`."""
    _, entry = _issued(session, store, document)
    check_draft(pdf, ATTACHMENT_LIMITS)  # an annex: up to the 100 MB a PDF may have
    moment = _body_signature(custody, body_signer, None)
    signing = signing.for_body(session, document.body_id)
    signed = sign_pdf(pdf, body_signer, appendix_options(
        pdf, entry.number_symbol, tsa_url=signing.tsa_url,
        validation_context=signing.validation_context, level=signing.level),
        signing_time=moment)
    version = keep_pdf(session, store, document, VersionKind.ATTACHMENT, signed, actor, file_name)
    cert = _cert_sha256(body_signer)
    _audit(session, AuditAction.ATTACH, document, actor, number_symbol=entry.number_symbol,
           certificate_sha256=cert, sha256=version.sha256, file_name=file_name,
           caused_by=_caused_by(custody, Act.ATTACHMENT, document, actor, cert))
    return signed


def make_copy(session: Session, store: FileStore, document: Document, body_signer: Signer,
              kind: CopyKind, details: IssueDetails, signing: Signing = Signing(), *,
              book: NumberBook | None = None, actor: str | None = None,
              file_name: str = "", custody: Custody | None = None,
              signing_time: datetime | None = None) -> tuple[Document, RegisterEntry, bytes]:
    """An electronic copy of an issued document: a document of its own, numbered in the
    copies book, carrying the copying body's signature at the top right (Part II.I).

    The audit event (COPY, on the copy) names ``actor``, by default
    ``details.registered_by``. ``custody``: as for :func:`issue` (the copy's date is the
    day of its signature)."""
    source, entry = _issued(session, store, document)
    moment = _body_signature(custody, body_signer, signing_time)
    if custody is not None:
        details = replace(details, issued_date=moment.date())
    copy_doc = Document(body=document.body, unit=document.unit,
                        doc_type_code=COPY_TYPES[kind],
                        subject=f"{kind.value.capitalize()} {entry.number_symbol}"
                                f": {document.subject}"[:500],
                        status=DocumentStatus.SIGNED)
    session.add(copy_doc)
    session.flush()
    copy_book = book or book_for(session, document.body, COPY_TYPES[kind])
    copy_entry = register_issue(session, copy_doc, copy_book, details)
    pdf = store.get(source.sha256)
    signing = signing.for_body(session, document.body_id)
    signed = sign_pdf(pdf, body_signer, copy_options(
        pdf, kind, document.body.name, copy_entry.number_symbol,
        tsa_url=signing.tsa_url, validation_context=signing.validation_context,
        level=signing.level), signing_time=moment if custody is not None else signing_time)
    version = keep_pdf(session, store, copy_doc, VersionKind.COPY, signed, details.registered_by,
                       file_name, source=source)
    copy_doc.status = DocumentStatus.ISSUED
    cert = _cert_sha256(body_signer)
    _audit(session, AuditAction.COPY, copy_doc, actor or details.registered_by,
           kind=kind, source_document_id=document.id, source_sha256=source.sha256,
           source_number_symbol=entry.number_symbol, number=copy_entry.number,
           number_symbol=copy_entry.number_symbol, book_id=copy_book.id,
           year=copy_entry.year, register_entry_id=copy_entry.id,
           certificate_sha256=cert, sha256=version.sha256,
           caused_by=_caused_by(custody, Act.COPY, document, actor or details.registered_by,
                                cert))
    return copy_doc, copy_entry, signed
