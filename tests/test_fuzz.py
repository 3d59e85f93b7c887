"""A bounded fuzz run (issue 17, point 7): real drafts and real signed files, damaged the way
files are damaged — bytes flipped, cut short, pieces cut out, PDF syntax spliced in — go
through preparation and verification. Each must end in a result or a Kyso refusal (a
``KysoError``, bilingual): never another exception, which would be a 500 to the user.

Hypothesis runs derandomized (the same cases every run) with a fixed number of examples, so
CI always runs the same bounded set; ``KYSO_FUZZ_EXAMPLES`` asks for more in a longer run
done by hand."""

# The issuance and job tests' fixtures (db, store, signing, agent_db) are imported, and
# tests name them:
# ruff: noqa: F811

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms as asn1_cms
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.datadir import DataDir
from api.demo.demo import DemoCommune
from certs import TrustStore, bundled_store, validation_context
from common import KysoError
from documents import (
    DocumentStatus,
    DocumentVersion,
    FileStore,
    JobStatus,
    Signing,
    SigningJob,
    VersionKind,
    accept_signature,
)
from signer import (
    Appearance,
    PendingSignature,
    SigningOptions,
    check_draft,
    finish,
    prepare_digest,
    prepare_pdf,
    verify_pdf,
)
from tokens import RawSignature, verify_raw
from tokens.digest import ALGORITHMS as DIGEST_ALGORITHMS

from .conftest import TESTS_DATA
from .support.hostile import raw_pdf
from .test_issuance import db, signing, store  # noqa: F401 - fixtures
from .test_jobs import agent_db_fixture, routed_job  # noqa: F401 - a fixture
from .test_jobs import prepared as prepared_job

DRAFTS = sorted((TESTS_DATA / "drafts").glob("*.pdf"))[:6]
SIGNED = sorted((TESTS_DATA / "real").glob("*.pdf"))
#: Pieces of PDF syntax a damaged or hostile file is made of.
SPLICES = [b"<<", b">>", b"[", b"]", b"obj", b"endobj", b"stream\n", b"endstream",
           b"/Length 999999999", b"/Filter /FlateDecode", b"0 0 R", b"9999 0 R", b"xref\n",
           b"trailer", b"%%EOF", b"/Type /Page", b"/Kids [1 0 R]", b"\x00\xff" * 8,
           b"(" * 40, b"/ByteRange [0 10 20 30]"]
EXAMPLES = int(os.environ.get("KYSO_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def damaged(draw: st.DrawFn, files: list[Path]) -> bytes:
    data = bytearray(draw(st.sampled_from(files)).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        kind = draw(st.sampled_from(["flip", "cut", "excise", "splice"]))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "excise":
            del data[at:at + draw(st.integers(1, 4096))]
        else:
            data[at:at] = draw(st.sampled_from(SPLICES))
        if not data:
            break
    return bytes(data)


def test_the_samples_are_there() -> None:
    assert len(DRAFTS) >= 3 and len(SIGNED) >= 5


@pytest.mark.slow
@FUZZ
@given(damaged(DRAFTS))
def test_a_damaged_draft_is_prepared_or_refused(pdf: bytes) -> None:
    try:
        check_draft(pdf)
        prepare_pdf(pdf, cover_draft_mark=True)
    except KysoError as refusal:
        assert refusal.vi and refusal.en


@pytest.fixture(scope="module")
def bundled() -> TrustStore:
    return bundled_store()


@pytest.mark.slow
@FUZZ
@given(pdf=damaged(SIGNED))
def test_a_damaged_signed_file_gets_a_report_or_a_refusal(pdf: bytes,
                                                          bundled: TrustStore) -> None:
    try:
        report = verify_pdf(pdf, lambda: validation_context(bundled, online=False), "hư.pdf",
                            bundled)
    except KysoError as refusal:
        assert refusal.vi and refusal.en
    else:
        assert report.verdict is not None


def _pdf_with_stream_filter(name: bytes) -> bytes:
    """A one-page PDF whose content stream's /Filter is the name ``name`` (as written)."""
    content = b"BT /F1 12 Tf 72 720 Td (x) Tj ET"
    return raw_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        4: b"<< /Length %d /Filter %s >>" % (len(content), name)}, streams={4: content})


def test_found_by_the_fuzz_run_a_filter_name_that_is_not_utf8_is_refused() -> None:
    from signer import PdfHostile

    with pytest.raises(PdfHostile) as refused:
        check_draft(_pdf_with_stream_filter(b"/#C6#28"))
    assert refused.value.code == "name" and "UTF-8" in refused.value.vi


# --- the hash-only finish: a signature value computed elsewhere (an agent, a remote service)


@dataclass(frozen=True)
class Prepared:
    """A prepared digest, the key's true signature over it and the whole CMS around it."""

    pending: PendingSignature
    signature: RawSignature
    cms: bytes
    store: TrustStore

    def __repr__(self) -> str:
        return f"Prepared({self.signature.algorithm}, {len(self.signature.value)} bytes)"


def _prepared(data: DataDir, commune: DemoCommune, pdf: bytes, label: str) -> Prepared:
    from api.demo.demo import DEMO_PIN

    with data.token(label).digest_signer(DEMO_PIN) as key:
        name = str(key.certificate.subject.native["common_name"])
        pending = prepare_digest(pdf, key.certificate, SigningOptions(
            appearance=Appearance.stamp(name, box=(330, 60, 560, 140), page=0)),
            chain=commune.pki.chain)
        signature = key.sign_digest(pending.digest, algorithm=pending.algorithm,
                                    md_algorithm=pending.md_algorithm)
    signed = finish(pending, signature)
    region = signed[pending.reserved_region_start + 1:pending.reserved_region_end - 1]
    whole = asn1_cms.ContentInfo.load(bytes.fromhex(region.decode()), strict=False).dump()
    return Prepared(pending, signature, whole, data.trust_store())


@pytest.fixture(scope="module")
def prepared(data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> dict[str, Prepared]:
    """An RSA (256-byte values) and an EC P-256 (64-byte r||s) key's prepared signature."""
    return {label: _prepared(data, commune, sample_pdf, label)
            for label in ("chu-tich", "pho-chu-tich")}


def _mutated(draw: Callable[..., Any], value: bytes) -> bytes:
    data = bytearray(value)
    kind = draw(st.sampled_from(["flip", "cut", "extend", "zeros", "ones", "random",
                                 "same-length", "empty", "der"]))
    if kind == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        data[at] ^= draw(st.integers(1, 255))
    elif kind == "cut":
        del data[draw(st.integers(0, max(0, len(data) - 1))):]
    elif kind == "extend":
        data += draw(st.binary(min_size=1, max_size=64))
    elif kind == "zeros":
        data = bytearray(len(data))
    elif kind == "ones":
        data = bytearray(b"\xff" * len(data))
    elif kind == "random":
        data = bytearray(draw(st.binary(max_size=1024)))
    elif kind == "same-length":
        data = bytearray(draw(st.binary(min_size=len(data), max_size=len(data))))
    elif kind == "empty":
        data = bytearray()
    else:  # a DER SEQUENCE of two INTEGERs, as an ECDSA value is written elsewhere
        r, s = draw(st.integers(0, 2 ** 300)), draw(st.integers(0, 2 ** 300))
        data = bytearray(encode_dss_signature(r, s))
    return bytes(data)


@pytest.mark.slow
@FUZZ
@given(case=st.data())
def test_a_foreign_signature_value_is_embedded_or_refused(case: st.DataObject,
                                                          prepared: dict[str, Prepared]) -> None:
    """Whatever comes back from the key's side (bytes flipped, cut, padded, random, DER where
    raw was expected, a damaged CMS, a wrong or unknown algorithm), finishing either gives a
    PDF whose signature verifies or a Kyso refusal; the prepared state is never changed."""
    label = case.draw(st.sampled_from(sorted(prepared)), label="key")
    job = prepared[label]
    before = job.pending.to_bytes()
    shape = case.draw(st.sampled_from(["raw", "raw", "cms"]), label="shape")
    algorithm = case.draw(st.one_of(st.sampled_from([*DIGEST_ALGORITHMS, job.signature.algorithm]),
                                    st.text(max_size=20)), label="algorithm")
    try:
        if shape == "cms":
            value = _mutated(case.draw, job.cms)
            signed = finish(job.pending, value)
        else:
            value = _mutated(case.draw, job.signature.value)
            signed = finish(job.pending, RawSignature(value, algorithm))
    except KysoError as refusal:
        assert refusal.vi and refusal.en
    else:
        assert signed.startswith(job.pending.prepared_pdf[:job.pending.reserved_region_start])
        assert check_raw_or_cms_kept(job, signed)
    assert job.pending.to_bytes() == before


def check_raw_or_cms_kept(job: Prepared, signed: bytes) -> bool:
    """A finished file from a fuzzed value: it must carry a signature that verifies over the
    prepared document (a value that still verifies, e.g. trailing bytes a DER reader
    ignores, is a signature all the same)."""
    (signature,) = verify_pdf(signed, lambda: validation_context(job.store, online=False),
                              "t.pdf", job.store).signatures
    return bool(signature.intact and signature.valid)


@pytest.mark.slow
@settings(FUZZ, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
@given(case=st.data())
def test_a_foreign_signature_for_a_job_is_refused_and_nothing_is_stored(
        case: st.DataObject, agent_job: tuple[sessionmaker[Session], FileStore, str,
                                              RawSignature]) -> None:
    """The same values sent for a READY job of the service (what ``kyso agent`` or a remote
    service posts): a Kyso refusal, the job still READY without a signature, the document
    still PREPARED, no APPROVED version and no new file in the store."""
    db, store, job_id, good = agent_job
    files = sorted(store.root.rglob("*.pdf"))
    value = _mutated(case.draw, good.value)
    algorithm = case.draw(st.one_of(st.sampled_from([*DIGEST_ALGORITHMS]),
                                    st.text(max_size=20)), label="algorithm")
    try:
        with db() as session, session.begin():
            accept_signature(session, session.get_one(SigningJob, job_id),
                             RawSignature(value, algorithm))
    except KysoError as refusal:
        assert refusal.vi and refusal.en
    else:  # only a value that is the key's signature all the same may pass
        assert verify_raw(_job_certificate(db, job_id), _job_digest(db, job_id),
                          RawSignature(value, algorithm))
        with db() as session, session.begin():  # back to READY for the next case
            job = session.get_one(SigningJob, job_id)
            job.status, job.signature, job.signature_algorithm = JobStatus.READY, None, None
    with db() as session:
        job = session.get_one(SigningJob, job_id)
        assert job.status is JobStatus.READY and job.signature is None
        assert job.document.status is DocumentStatus.PREPARED
        assert session.scalar(select(func.count()).select_from(DocumentVersion).where(
            DocumentVersion.document_id == job.document_id,
            DocumentVersion.kind == VersionKind.APPROVED)) == 0
    assert sorted(store.root.rglob("*.pdf")) == files


def _job_certificate(db: sessionmaker[Session], job_id: str) -> Any:
    with db() as session:
        pending = session.get_one(SigningJob, job_id).pending
    assert pending is not None
    return PendingSignature.from_bytes(pending).signing_cert


def _job_digest(db: sessionmaker[Session], job_id: str) -> bytes:
    with db() as session:
        return bytes.fromhex(session.get_one(SigningJob, job_id).digest or "")


@pytest.fixture
def agent_job(agent_db: sessionmaker[Session], store: FileStore, signing: Signing,
              data: DataDir, commune: DemoCommune
              ) -> tuple[sessionmaker[Session], FileStore, str, RawSignature]:
    """A READY job for Lê Minh Đức's key on his own PC, and his true signature over it."""
    from api.demo.demo import DEMO_PIN

    job = prepared_job(agent_db, store, signing, routed_job(agent_db, store, commune))
    with data.token("pho-chu-tich-duc").digest_signer(DEMO_PIN) as key:
        good = key.sign_digest(bytes.fromhex(job.digest or ""), algorithm=job.algorithm)
    return agent_db, store, job.id, good
