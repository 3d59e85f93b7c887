"""Hash-only signing jobs: approvals signed by a key the service does not hold.

Where an official's key is decides how their approval gets signed
(:func:`channel_of` reads it from the signing authority's ``token_name``):

- a server-side token (any configured token name): a Celery worker on the token's
  host signs the whole PDF (:mod:`documents.work`, called by the worker's Celery tasks);
- ``"agent"``: the official's USB token on their own PC, reached by ``kyso agent``;
- ``"remote:<name>"``: a remote-signing service (CSC v2) the official authorises.

For the last two the service prepares each document for the official's registered
certificate and keeps a :class:`SigningJob` with the digest to sign; only the digest
leaves the service. A job goes::

    PREPARING ──prepare──▶ READY ──signature──▶ SIGNED ──finish──▶ DONE
        │                    │  (expires_at passed)                │
        └──▶ FAILED          └──▶ EXPIRED (the state is dropped)   └──▶ FAILED

Nothing of a job is half-done: the approved version is stored only by
:func:`finish_job`, in the transaction that marks the job DONE; a signature that
does not verify leaves the job READY. Prepared states live in the row until the job
ends, then they are dropped (:func:`expire_jobs` cleans up the abandoned ones).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from asn1crypto import pem, x509
from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from common import KysoError
from signer import PendingSignature, RawSignature

from .accounts import User
from .audit import AuditAction, record
from .custody import Channel, channel_of_token, person_custody
from .errors import CertificateMismatch, CertificateNotRegistered, JobNotReady, WrongStep
from .issuance import Signing, begin_approval, finish_approval
from .job_status import JobStatus
from .models import AGENT_CHANNEL, Base, Document, Person, SigningAuthority, enum_type
from .sqltypes import Nfc, UtcDateTime, utc_now
from .storage import FileStore

AGENT = AGENT_CHANNEL


def channel_of(authority: SigningAuthority) -> Channel:
    return channel_of_token(authority.token_name)


OPEN = (JobStatus.PREPARING, JobStatus.READY, JobStatus.SIGNED)


class SignerCertificate(Base):
    """A signer's certificate (and chain) as the service needs it to prepare a document
    for a key it does not hold; bound to people through their authorities' SHA-256."""

    __tablename__ = "signer_certificate"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    #: The issuing chain, PEM blocks, leaf's issuer first.
    chain_pem: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Nfc(500))
    not_after: Mapped[datetime] = mapped_column(UtcDateTime())
    added_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    added_by: Mapped[str | None] = mapped_column(Nfc(100))

    @property
    def certificate(self) -> x509.Certificate:
        return x509.Certificate.load(self.der)

    @property
    def chain(self) -> list[x509.Certificate]:
        return [x509.Certificate.load(der) for _, _, der in
                pem.unarmor(self.chain_pem.encode(), multiple=True)] if self.chain_pem else []


class SigningJob(Base):
    __tablename__ = "signing_job"
    __table_args__ = (Index("ix_signing_job_person_status", "person_id", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True,
                                    default=lambda: str(uuid.uuid4()))
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    authority_id: Mapped[int] = mapped_column(ForeignKey("signing_authority.id"))
    #: The jobs the official approved together (one PIN entry or one authorisation).
    batch: Mapped[str] = mapped_column(String(36))
    channel: Mapped[str] = mapped_column(String(100))
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus, "job_status"),
                                              default=JobStatus.PREPARING)
    certificate_sha256: Mapped[str] = mapped_column(String(64))
    #: Hex of what the key signs (the hash of the CMS signed attributes).
    digest: Mapped[str | None] = mapped_column(String(128))
    md_algorithm: Mapped[str | None] = mapped_column(String(16))
    algorithm: Mapped[str | None] = mapped_column(String(32))
    #: :meth:`signer.PendingSignature.to_bytes`, dropped once the job ends.
    pending: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature_algorithm: Mapped[str | None] = mapped_column(String(32))
    pages: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Nfc(1000))
    actor: Mapped[str | None] = mapped_column(Nfc(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    document: Mapped[Document] = relationship()
    person: Mapped[Person] = relationship()
    authority: Mapped[SigningAuthority] = relationship()


def register_certificate(session: Session, person: Person, certificate: x509.Certificate,
                         chain: Sequence[x509.Certificate] = (), *,
                         actor: str | None = None) -> SignerCertificate:
    """Keep ``certificate`` for preparing ``person``'s documents; refused unless it is the
    one registered for one of their signing authorities (by SHA-256)."""
    fingerprint = hashlib.sha256(certificate.dump()).hexdigest()
    registered = set(session.scalars(select(SigningAuthority.certificate_sha256).where(
        SigningAuthority.person_id == person.id)))
    if fingerprint not in registered:
        raise CertificateMismatch(person.full_name)
    row = session.get(SignerCertificate, fingerprint)
    chain_pem = "".join(pem.armor("CERTIFICATE", c.dump()).decode() for c in chain)
    if row is None:
        row = SignerCertificate(
            sha256=fingerprint, der=certificate.dump(), chain_pem=chain_pem,
            subject=certificate.subject.human_friendly,
            not_after=certificate["tbs_certificate"]["validity"]["not_after"].native,
            added_by=actor)
        session.add(row)
        record(session, AuditAction.ADMIN_CHANGE, actor=actor, body_id=person.body_id,
               object_type="signer_certificate", object_id=fingerprint,
               details={"person_id": person.id, "subject": row.subject})
    elif chain_pem and not row.chain_pem:
        row.chain_pem = chain_pem
    session.flush()
    return row


def create_job(session: Session, document: Document, person: Person,
               authority: SigningAuthority, batch: str, *, actor: str | None) -> SigningJob:
    """A job for ``person``'s hash-only signature of ``document`` (reused if one is open)."""
    open_job = session.scalar(select(SigningJob).where(
        SigningJob.document_id == document.id, SigningJob.person_id == person.id,
        SigningJob.status.in_(OPEN)))
    if open_job is not None:
        return open_job
    job = SigningJob(document=document, person=person, authority=authority, batch=batch,
                     channel=authority.token_name,
                     certificate_sha256=authority.certificate_sha256, actor=actor)
    session.add(job)
    session.flush()
    return job


def _end(job: SigningJob, status: JobStatus, error: str | None = None) -> None:
    job.status = status
    job.error = error
    job.pending = None
    job.signature = None
    job.finished_at = utc_now()


def prepare_job(session: Session, store: FileStore, job: SigningJob, signature_image: bytes,
                signing: Signing, *, lifetime: timedelta = timedelta(hours=8)) -> SigningJob:
    """PREPARING → READY with the digest to sign, or FAILED with the reason (the
    certificate expired or was revoked, the document moved on, …). Idempotent.

    Without the signer's certificate the job stays PREPARING (its ``error`` says why):
    it is prepared once the agent hands the certificate over (:func:`waiting_for_certificate`).
    """
    if job.status is not JobStatus.PREPARING:
        return job
    row = session.get(SignerCertificate, job.certificate_sha256)
    if row is None:
        job.error = str(CertificateNotRegistered(job.person.full_name))
        session.flush()
        return job
    try:
        with session.begin_nested():
            pending = begin_approval(session, store, job.document, job.person,
                                     row.certificate, row.chain, signature_image, signing,
                                     lifetime=lifetime)
    except KysoError as exc:
        _end(job, JobStatus.FAILED, str(exc))
        return job
    job.pending = pending.to_bytes()
    job.digest = pending.digest.hex()
    job.md_algorithm = pending.md_algorithm
    job.algorithm = pending.algorithm
    job.expires_at = pending.expires_at
    job.error = None
    job.pages = _pages(pending.prepared_pdf)
    job.status = JobStatus.READY
    session.flush()
    return job


def _pages(pdf: bytes) -> int | None:
    from signer import open_reader

    try:
        return int(open_reader(pdf).root["/Pages"]["/Count"])
    except (KeyError, TypeError, ValueError):
        return None


def waiting_for_certificate(session: Session, person: Person) -> list[str]:
    """Ids of ``person``'s jobs still to prepare (e.g. before their certificate came)."""
    return list(session.scalars(select(SigningJob.id).where(
        SigningJob.person_id == person.id, SigningJob.status == JobStatus.PREPARING)))


def ready_jobs(session: Session, person: Person, *, batch: str | None = None,
               now: datetime | None = None) -> list[SigningJob]:
    """What waits for ``person``'s key: READY jobs not expired, oldest first."""
    query = select(SigningJob).where(SigningJob.person_id == person.id,
                                     SigningJob.status == JobStatus.READY,
                                     SigningJob.expires_at > (now or utc_now()))
    if batch is not None:
        query = query.where(SigningJob.batch == batch)
    return list(session.scalars(query.order_by(SigningJob.created_at, SigningJob.id)))


def accept_signature(session: Session, job: SigningJob, signature: RawSignature, *,
                     now: datetime | None = None) -> SigningJob:
    """The key's signature over the job's digest: checked at once (a wrong one is refused
    and the job stays READY), then kept for :func:`finish_job`. Idempotent for the same
    signature."""
    if job.status is JobStatus.SIGNED and job.signature == signature.value:
        return job
    if job.status is not JobStatus.READY:
        raise JobNotReady(job.id, job.status)
    assert job.pending is not None
    pending = PendingSignature.from_bytes(job.pending)
    if pending.expired(now):
        _end(job, JobStatus.EXPIRED)
        session.flush()
        raise JobNotReady(job.id, JobStatus.EXPIRED)
    check_raw_signature(pending, signature)
    job.signature = signature.value
    job.signature_algorithm = signature.algorithm
    job.status = JobStatus.SIGNED
    session.flush()
    return job


def check_raw_signature(pending: PendingSignature, signature: RawSignature) -> None:
    """Refuse a signature that is not the certificate's key over ``pending.digest``."""
    from signer import SignatureMismatch
    from tokens import verify_raw

    if not verify_raw(pending.signing_cert, pending.digest, signature, pending.md_algorithm):
        raise SignatureMismatch(pending.signing_cert.subject.human_friendly)


def finish_job(session: Session, store: FileStore, job: SigningJob) -> SigningJob:
    """SIGNED → DONE: the signature embedded, the approved version stored and audited in
    this transaction; or FAILED with the reason. Idempotent."""
    if job.status is not JobStatus.SIGNED:
        return job
    assert job.pending is not None and job.signature is not None
    pending = PendingSignature.from_bytes(job.pending)
    raw = RawSignature(job.signature, job.signature_algorithm or pending.algorithm)
    try:
        with session.begin_nested():
            finish_approval(session, store, job.document, job.person, pending, raw,
                            actor=job.actor, channel=job.channel,
                            custody=person_custody(job.authority, account=job.actor,
                                                   account_id=_account_id(session, job.actor)))
    except WrongStep as exc:
        _end(job, JobStatus.FAILED, str(exc))
        return job
    _end(job, JobStatus.DONE)
    session.flush()
    return job


def _account_id(session: Session, username: str | None) -> int | None:
    """The id of the account whose approval started a job (its actor), if it still exists."""
    return session.scalar(select(User.id).where(User.username == username)) if username \
        else None


def cancel_jobs(session: Session, document: Document) -> int:
    """End every open job of ``document`` (recalled or returned meanwhile)."""
    jobs = session.scalars(select(SigningJob).where(SigningJob.document_id == document.id,
                                                    SigningJob.status.in_(OPEN))).all()
    for job in jobs:
        _end(job, JobStatus.CANCELLED)
    session.flush()
    return len(jobs)


def expire_jobs(session: Session, *, now: datetime | None = None) -> int:
    """Drop the prepared states of READY jobs past their time (run periodically)."""
    jobs = session.scalars(select(SigningJob).where(
        SigningJob.status.in_((JobStatus.READY, JobStatus.PREPARING)),
        SigningJob.expires_at <= (now or utc_now()))).all()
    for job in jobs:
        _end(job, JobStatus.EXPIRED)
    session.flush()
    return len(jobs)


def note_batch_problem(session: Session, person_id: int, batch: str,
                       reason: str | None) -> int:
    """Say on ``person_id``'s waiting jobs of ``batch`` why they are still unsigned (the
    official refused on the phone, the confirmation timed out); ``None`` clears it. The
    jobs stay READY: the documents wait to be signed again, nothing was signed."""
    jobs = session.scalars(select(SigningJob).where(
        SigningJob.person_id == person_id, SigningJob.batch == batch,
        SigningJob.status == JobStatus.READY)).all()
    for job in jobs:
        job.error = reason
    session.flush()
    return len(jobs)
