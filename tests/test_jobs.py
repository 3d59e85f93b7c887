"""Hash-only signing jobs in the service's own terms: a document prepared for a key the
service does not hold, the digest signed on that key, the approval finished — and every
way it can go wrong leaving nothing half-done."""

# The issuance tests' fixtures (db, store, signing) are imported, and tests name them:
# ruff: noqa: F811

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.datadir import DataDir
from api.demo.art import handwritten_signature
from api.demo.demo import DEMO_PIN, DemoCommune
from documents import (
    Document,
    DocumentStatus,
    DocumentVersion,
    FileStore,
    JobStatus,
    Organisation,
    Person,
    Signing,
    SigningAuthority,
    SigningJob,
    accept_signature,
    create_job,
    expire_jobs,
    finish_job,
    new_draft,
    prepare,
    prepare_job,
    ready_jobs,
    register_certificate,
)
from documents.audit import AuditEvent
from documents.errors import CertificateMismatch, JobNotReady
from signer import RawSignature, SignatureMismatch
from tokens import TokenRemoved

from .conftest import TESTS_DATA
from .helpers import verify
from .test_issuance import db, signing, store  # noqa: F401 - fixtures

DUC = "Lê Minh Đức"


@pytest.fixture(name="agent_db")
def agent_db_fixture(db: sessionmaker[Session]) -> sessionmaker[Session]:
    """The demo commune's database, where Lê Minh Đức's key is on the USB token at his PC."""
    with db() as session, session.begin():
        authority = session.scalars(select(SigningAuthority).join(Person).where(
            Person.full_name == DUC)).one()
        authority.token_name = "agent"
    return db


def routed_job(db: sessionmaker[Session], store: FileStore, commune: DemoCommune,
               *, register: str = "pho-chu-tich-duc") -> str:
    """A prepared draft awaiting Lê Minh Đức's hash-only signature; the job's id."""
    with db() as session, session.begin():
        body = session.scalars(select(Organisation)).one()
        document = new_draft(session, store, body, "quyet-dinh", "Về việc thử nghiệm",
                             (TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf").read_bytes())
        prepare(session, store, document)
        duc = session.scalars(select(Person).where(Person.full_name == DUC)).one()
        authority = session.scalars(select(SigningAuthority).where(
            SigningAuthority.person_id == duc.id)).one()
        cert = commune.pki.cert(register)
        if hashlib.sha256(cert.dump()).hexdigest() == authority.certificate_sha256:
            register_certificate(session, duc, cert, [commune.pki.cert("interm")])
        return create_job(session, document, duc, authority, "lo-1", actor="phochutichduc").id


def prepared(db: sessionmaker[Session], store: FileStore, signing: Signing,
             job_id: str) -> SigningJob:
    with db() as session, session.begin():
        job = session.get_one(SigningJob, job_id)
        prepare_job(session, store, job, handwritten_signature(), signing)
        session.expunge(job)
        return job


def test_a_digest_signed_on_the_token_becomes_the_approved_version(
        agent_db: sessionmaker[Session], store: FileStore, signing: Signing, data: DataDir,
        commune: DemoCommune) -> None:
    db = agent_db
    job = prepared(db, store, signing, routed_job(db, store, commune))
    assert job.status is JobStatus.READY and job.pages == 1
    assert job.digest is not None and len(bytes.fromhex(job.digest)) == 32

    with data.token("pho-chu-tich-duc").digest_signer(DEMO_PIN) as key:
        raw = key.sign_digest(bytes.fromhex(job.digest), algorithm=job.algorithm)
    with db() as session, session.begin():
        accept_signature(session, session.get_one(SigningJob, job.id), raw)
    with db() as session, session.begin():
        finished = finish_job(session, store, session.get_one(SigningJob, job.id))
        assert finished.status is JobStatus.DONE and finished.pending is None
        document = finished.document
        assert document.status is DocumentStatus.SIGNED
        version = session.scalars(select(DocumentVersion).where(
            DocumentVersion.document_id == document.id,
            DocumentVersion.kind == "APPROVED")).one()
        assert version.signer is not None and version.signer.full_name == DUC
        events = [e.action.name for e in session.scalars(select(AuditEvent).where(
            AuditEvent.object_id == document.id))]
        assert events[-2:] == ["APPROVE", "SIGN"]
        pdf = store.get(version.sha256)
    report = verify(data, pdf)
    assert report.verdict == "valid", [r.en for s in report.signatures for r in s.reasons]
    assert [s.signer for s in report.signatures] == [DUC]
    assert report.signatures[0].timestamp is not None  # B-T through the demo TSA


def test_a_signature_of_another_key_is_refused_and_the_job_stays_ready(
        agent_db: sessionmaker[Session], store: FileStore, signing: Signing, data: DataDir,
        commune: DemoCommune) -> None:
    db = agent_db
    job = prepared(db, store, signing, routed_job(db, store, commune))
    with data.token("chu-tich").digest_signer(DEMO_PIN) as other:
        forged = other.sign_digest(bytes.fromhex(job.digest or ""))
    with db() as session, session.begin(), pytest.raises(SignatureMismatch):
        accept_signature(session, session.get_one(SigningJob, job.id), forged)
    with db() as session:
        again = session.get_one(SigningJob, job.id)
        assert again.status is JobStatus.READY and again.signature is None
        assert again.document.status is DocumentStatus.PREPARED
        with pytest.raises(JobNotReady):  # and a job that ended takes no signature
            again.status = JobStatus.CANCELLED
            accept_signature(session, again, RawSignature(b"x" * 64, "ecdsa"))


def test_a_certificate_not_registered_for_the_signer_is_refused(
        agent_db: sessionmaker[Session], commune: DemoCommune) -> None:
    db = agent_db
    with db() as session, session.begin():
        duc = session.scalars(select(Person).where(Person.full_name == DUC)).one()
        with pytest.raises(CertificateMismatch):
            register_certificate(session, duc, commune.pki.cert("chu-tich"))


def test_an_expired_certificate_fails_the_job_with_the_reason_before_any_signing(
        agent_db: sessionmaker[Session], store: FileStore, signing: Signing,
        commune: DemoCommune) -> None:
    db = agent_db
    expired = commune.pki.cert("het-han")
    with db() as session, session.begin():
        duc = session.scalars(select(Person).where(Person.full_name == DUC)).one()
        authority = session.scalars(select(SigningAuthority).where(
            SigningAuthority.person_id == duc.id)).one()
        authority.certificate_sha256 = hashlib.sha256(expired.dump()).hexdigest()
        register_certificate(session, duc, expired)
    job = prepared(db, store, signing, routed_job(db, store, commune, register="het-han"))
    assert job.status is JobStatus.FAILED
    assert job.error is not None and "hết hạn" in job.error and job.pending is None
    with db() as session:
        assert session.get_one(Document, job.document_id).status is DocumentStatus.PREPARED


def test_an_unsigned_job_expires_and_its_prepared_state_is_dropped(
        agent_db: sessionmaker[Session], store: FileStore, signing: Signing,
        commune: DemoCommune) -> None:
    db = agent_db
    job = prepared(db, store, signing, routed_job(db, store, commune))
    assert job.expires_at is not None
    with db() as session, session.begin():
        duc = session.get_one(Person, job.person_id)
        assert [j.id for j in ready_jobs(session, duc)] == [job.id]
        assert expire_jobs(session, now=job.expires_at - timedelta(seconds=1)) == 0
        assert expire_jobs(session, now=job.expires_at + timedelta(seconds=1)) == 1
        assert ready_jobs(session, duc) == []
    with db() as session:
        gone = session.get_one(SigningJob, job.id)
        assert gone.status is JobStatus.EXPIRED and gone.pending is None
        assert session.scalar(select(func.count()).select_from(DocumentVersion).where(
            DocumentVersion.document_id == job.document_id,
            DocumentVersion.kind == "APPROVED")) == 0


def test_a_token_pulled_out_leaves_the_job_ready_for_the_next_try(
        agent_db: sessionmaker[Session], store: FileStore, signing: Signing,
        commune: DemoCommune, tmp_path: Path) -> None:
    db = agent_db
    from tokens import Pkcs11Config, Pkcs11Token

    from .support.native import ENV_REMOVE_AFTER, ENV_SLOW_MODULE, build_slow_token

    job = prepared(db, store, signing, routed_job(db, store, commune))
    module = build_slow_token(tmp_path / "native")
    with pytest.MonkeyPatch.context() as env:
        env.setenv(ENV_SLOW_MODULE, commune.hsm.module)
        env.setenv(ENV_REMOVE_AFTER, "0")
        env.setenv("KYSO_SLOW_SIGN_MS", "0")
        token = Pkcs11Token(Pkcs11Config(name="usb", module=str(module),
                                         token_label="pho-chu-tich-duc",
                                         key_label="pho-chu-tich-duc"))
        with pytest.raises(TokenRemoved), token.digest_signer(DEMO_PIN) as key:
            key.sign_digest(bytes.fromhex(job.digest or ""))
    with db() as session:
        assert session.get_one(SigningJob, job.id).status is JobStatus.READY
