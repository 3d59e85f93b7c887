"""Long-term validity against the session's real TSA/OCSP/CRL: B-LT and B-LTA signing,
validation with the network cut off, archive timestamp renewal, and the periodic
renewal over a database of issued documents."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from asn1crypto import ocsp
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.cli.operations import DEMO_BOX, appearance_for
from api.datadir import DataDir
from api.demo.demo import DEMO_PIN, DemoCommune
from certs import validation_context
from documents import AuditEvent, Document, DocumentVersion, FileStore, VersionKind
from documents import renew_archive_timestamps as renew
from signer import (
    DueReason,
    LevelNeedsTsa,
    PadesLevel,
    SigningOptions,
    add_archive_timestamp,
    archive_timestamp_due,
    ltv_contents,
    open_reader,
    sign_pdf,
    validate_offline,
)

from .helpers import verify
from .test_issuance import approved, db, issued, signing, store  # noqa: F401  (fixtures)

NOW = dt.datetime.now(dt.UTC)


def sign_at(data: DataDir, commune: DemoCommune, pdf: bytes, level: PadesLevel,
            tsa: bool = True) -> bytes:
    data.activate_softhsm()
    with data.token("chu-tich").signer(DEMO_PIN) as signer:
        return sign_pdf(pdf, signer, SigningOptions(
            appearance=appearance_for(signer.signing_cert, DEMO_BOX, 0),
            tsa_url=commune.pki.tsa_url if tsa else None,
            validation_context=validation_context(data.trust_store(), online=True),
            level=level))


@pytest.fixture(scope="module")
def signed(data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> dict[PadesLevel, bytes]:
    return {level: sign_at(data, commune, sample_pdf, level)
            for level in (PadesLevel.B_T, PadesLevel.B_LT, PadesLevel.B_LTA)}


@pytest.fixture(scope="module")
def renewed(data: DataDir, commune: DemoCommune, signed: dict[PadesLevel, bytes]) -> bytes:
    return add_archive_timestamp(signed[PadesLevel.B_LTA], commune.pki.tsa_url,
                                 validation_context(data.trust_store(), online=True))


def online_status(data: DataDir, pdf: bytes) -> list[tuple[bool, bool, bool, bool | None]]:
    """(intact, valid, trusted, timestamp valid) of each signature, by bare pyHanko online."""
    from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp

    async def run() -> list[tuple[bool, bool, bool, bool | None]]:
        out: list[tuple[bool, bool, bool, bool | None]] = []
        for sig in open_reader(pdf).embedded_signatures:
            context = validation_context(data.trust_store(), online=True)
            if sig.sig_object_type == "/DocTimeStamp":
                ts = await async_validate_pdf_timestamp(sig, validation_context=context)
                out.append((ts.intact, ts.valid, ts.trusted, None))
            else:
                st = await async_validate_pdf_signature(sig, context, context)
                tsv = st.timestamp_validity
                out.append((st.intact, st.valid, st.trusted,
                            None if tsv is None else tsv.intact and tsv.valid and tsv.trusted))
        return out

    return asyncio.run(run())


def offline(data: DataDir, pdf: bytes, now: dt.datetime | None = None) -> Any:
    trust = data.trust_store()
    return validate_offline(pdf, trust.anchors, other_certs=trust.intermediates, now=now)


@dataclass
class NetworkGuard:
    """Refuses every TCP connection to the demo PKI's port and remembers the attempts."""

    port: int
    attempts: list[Any] = field(default_factory=list)


@pytest.fixture
def no_network(commune: DemoCommune, monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    guard = NetworkGuard(commune.pki.info.port)
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def refuse(address: Any) -> None:
        if isinstance(address, tuple) and address[1] == guard.port:
            guard.attempts.append(address)
            raise ConnectionRefusedError(111, "network cut off by the test")

    def connect(self: socket.socket, address: Any) -> None:
        refuse(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        refuse(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield guard


# --- signing at B-LT and B-LTA ---------------------------------------------------------

def test_b_lt_embeds_the_signers_ocsp_response_and_crl_in_the_dss(
        data: DataDir, signed: dict[PadesLevel, bytes]) -> None:
    from pyhanko.sign.validation import DocumentSecurityStore

    pdf = signed[PadesLevel.B_LT]
    reader = open_reader(pdf)
    dss = DocumentSecurityStore.read_dss(reader)
    (sig,) = reader.embedded_regular_signatures
    serials = set()
    for ref in dss.ocsps:
        response = ocsp.OCSPResponse.load(ref.get_object().data)
        for single in response.basic_ocsp_response["tbs_response_data"]["responses"]:
            assert single["cert_status"].name == "good"
            serials.add(single["cert_id"]["serial_number"].native)
    assert sig.signer_cert.serial_number in serials
    contents = ltv_contents(pdf)
    assert contents.dss_crls >= 1 and contents.dss_certs >= 3
    assert contents.document_timestamps == ()
    assert ltv_contents(signed[PadesLevel.B_T]).dss_ocsps == 0
    assert online_status(data, pdf) == [(True, True, True, True)]


def test_b_lta_adds_a_document_timestamp_after_the_dss(
        data: DataDir, commune: DemoCommune, signed: dict[PadesLevel, bytes]) -> None:
    pdf = signed[PadesLevel.B_LTA]
    contents = ltv_contents(pdf)
    assert contents.has_revocation_info
    (stamp,) = contents.document_timestamps
    assert "Máy chủ cấp dấu thời gian" in stamp.tsa
    assert stamp.digest_algorithms == ("sha256", "sha256")
    kinds = [sig.sig_object_type for sig in open_reader(pdf).embedded_signatures]
    assert kinds == ["/Sig", "/DocTimeStamp"]
    assert online_status(data, pdf) == [(True, True, True, True), (True, True, True, None)]


def test_long_term_levels_need_a_tsa(data: DataDir, commune: DemoCommune,
                                     sample_pdf: bytes) -> None:
    with pytest.raises(LevelNeedsTsa) as refused:
        sign_at(data, commune, sample_pdf, PadesLevel.B_LTA, tsa=False)
    assert "TSA" in refused.value.vi
    # the default level without a TSA stays B-B, as before
    plain = sign_at(data, commune, sample_pdf, PadesLevel.B_T, tsa=False)
    assert online_status(data, plain) == [(True, True, True, None)]


# --- validation with the network cut off ----------------------------------------------

def test_the_guard_really_cuts_the_network(data: DataDir, signed: dict[PadesLevel, bytes],
                                           no_network: NetworkGuard) -> None:
    # an ordinary online context tries the OCSP responder and is refused (its
    # soft-fail revocation mode then lets the result through: that is why offline
    # validation must not use it)
    online_status(data, signed[PadesLevel.B_T])
    assert no_network.attempts


def test_b_lta_validates_offline(data: DataDir, signed: dict[PadesLevel, bytes],
                                 no_network: NetworkGuard) -> None:
    (result,) = offline(data, signed[PadesLevel.B_LTA])
    assert result.passed, result.failure
    assert (result.intact, result.valid, result.trusted, result.timestamp_valid) == (
        True, True, True, True)
    assert result.signer == "Nguyễn Văn Hùng"
    assert result.archive_time is not None and result.signing_time is not None
    assert result.signing_time <= result.archive_time
    assert no_network.attempts == []


def test_b_t_and_b_lt_are_not_valid_offline(data: DataDir, signed: dict[PadesLevel, bytes],
                                            no_network: NetworkGuard) -> None:
    (b_t,) = offline(data, signed[PadesLevel.B_T])
    (b_lt,) = offline(data, signed[PadesLevel.B_LT])
    assert (b_t.indication, b_t.trusted) == ("INDETERMINATE", False)
    assert (b_lt.indication, b_lt.subindication) == ("INDETERMINATE", "NO_POE")
    assert b_t.intact and b_lt.intact  # the bytes are fine; the proof is missing
    assert no_network.attempts == []


# --- archive timestamp renewal --------------------------------------------------------

def test_renewal_adds_a_second_document_timestamp_as_an_incremental_update(
        signed: dict[PadesLevel, bytes], renewed: bytes) -> None:
    original = signed[PadesLevel.B_LTA]
    assert renewed.startswith(original)
    first, second = ltv_contents(renewed).document_timestamps
    assert first == ltv_contents(original).document_timestamps[0]
    assert second.field_name == "KySo_LuuTru" and second.time > first.time


def test_renewed_file_validates_offline_every_signature_intact(
        data: DataDir, renewed: bytes, no_network: NetworkGuard) -> None:
    (result,) = offline(data, renewed)
    assert result.passed, result.failure
    assert (result.intact, result.valid, result.trusted) == (True, True, True)
    assert no_network.attempts == []


def test_the_auditors_report_finds_b_lta_and_renewed_files_valid(
        data: DataDir, commune: DemoCommune, signed: dict[PadesLevel, bytes],
        renewed: bytes) -> None:
    """DSS and document-timestamp revisions are the allowed long-term updates, not
    changes to what was signed."""
    for pdf in (signed[PadesLevel.B_LTA], renewed):
        report = verify(data, pdf)
        assert report.verdict == "valid", [r.en for s in report.signatures for r in s.reasons]


def test_renewed_chain_still_proves_the_signature_after_the_signer_cert_expired(
        data: DataDir, renewed: bytes, no_network: NetworkGuard) -> None:
    (sig,) = open_reader(renewed).embedded_regular_signatures
    expired = sig.signer_cert["tbs_certificate"]["validity"]["not_after"].native
    later = expired + dt.timedelta(days=365)
    (result,) = offline(data, renewed, now=later)
    assert result.passed, result.failure
    assert result.archive_time is not None and result.archive_time < expired


def test_renewal_of_a_b_t_file_embeds_its_validation_info_first(
        data: DataDir, commune: DemoCommune, signed: dict[PadesLevel, bytes]) -> None:
    pdf = add_archive_timestamp(signed[PadesLevel.B_T], commune.pki.tsa_url,
                                validation_context(data.trust_store(), online=True))
    contents = ltv_contents(pdf)
    assert contents.has_revocation_info and len(contents.document_timestamps) == 1
    (result,) = offline(data, pdf)
    assert result.passed, result.failure


# --- when renewal is due --------------------------------------------------------------

def test_archive_timestamp_due(signed: dict[PadesLevel, bytes], renewed: bytes,
                               sample_pdf: bytes) -> None:
    b_lta = signed[PadesLevel.B_LTA]
    (stamp,) = ltv_contents(b_lta).document_timestamps
    margin = dt.timedelta(days=180)
    assert archive_timestamp_due(b_lta, NOW) is None
    assert archive_timestamp_due(b_lta, stamp.tsa_not_after - margin - dt.timedelta(days=1),
                                 margin) is None
    assert archive_timestamp_due(b_lta, stamp.tsa_not_after - margin, margin) \
        is DueReason.TSA_CERT_EXPIRING
    assert archive_timestamp_due(b_lta, NOW, dt.timedelta(days=365 * 30)) \
        is DueReason.TSA_CERT_EXPIRING
    assert archive_timestamp_due(renewed, NOW) is None
    assert archive_timestamp_due(signed[PadesLevel.B_LT], NOW) is DueReason.NO_ARCHIVE_TIMESTAMP
    assert archive_timestamp_due(signed[PadesLevel.B_T], NOW) is None
    assert archive_timestamp_due(signed[PadesLevel.B_T], NOW, include_b_t=True) \
        is DueReason.NO_VALIDATION_INFO
    assert archive_timestamp_due(sample_pdf, NOW, include_b_t=True) is None


def test_a_sha1_archive_timestamp_is_due(data: DataDir, commune: DemoCommune,
                                         signed: dict[PadesLevel, bytes]) -> None:
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
    from pyhanko.sign.timestamps import HTTPTimeStamper

    writer = IncrementalPdfFileWriter(io.BytesIO(signed[PadesLevel.B_LT]))
    out = PdfTimeStamper(HTTPTimeStamper(commune.pki.tsa_url)).timestamp_pdf(
        writer, "sha1", output=io.BytesIO())
    weak = out.getvalue()
    (stamp,) = ltv_contents(weak).document_timestamps
    assert "sha1" in stamp.digest_algorithms
    assert archive_timestamp_due(weak, NOW) is DueReason.WEAK_DIGEST


# --- the periodic renewal over the database -------------------------------------------

def test_renew_archive_timestamps_is_idempotent_and_audited(
        data: DataDir, commune: DemoCommune, db: sessionmaker[Session],  # noqa: F811
        store: FileStore, signing: Any) -> None:  # noqa: F811
    doc_id = approved(db, store, data, signing)
    _, issued_pdf = issued(db, store, data, signing, doc_id)
    context = lambda: validation_context(data.trust_store(), online=True)  # noqa: E731

    def run(**kwargs: Any) -> list[str]:
        with db() as session, session.begin():
            return renew(session, store, tsa_url=commune.pki.tsa_url,
                         validation_context=context, now=dt.datetime.now(dt.UTC), **kwargs)

    assert run(include_b_t=False) == []  # issued at B-T: nothing to renew unless asked
    assert run() == [doc_id]
    assert run() == []  # idempotent

    with db() as session:
        versions = session.scalars(select(DocumentVersion).where(
            DocumentVersion.document_id == doc_id).order_by(DocumentVersion.id)).all()
        issued_v, archived = (v for v in versions if v.kind in (VersionKind.ISSUED,
                                                                 VersionKind.ARCHIVED))
        assert archived.kind is VersionKind.ARCHIVED and archived.source_version_id == issued_v.id
        assert store.get(issued_v.sha256) == issued_pdf  # the issued file is kept as it was
        archived_pdf = store.get(archived.sha256)
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.object_id == doc_id).order_by(AuditEvent.seq)).all()
        last = events[-1]
        details = json.loads(last.details)
        assert details["archive_timestamp"] is True
        assert details["reason"] == "NO_VALIDATION_INFO"
        assert details["sha256"] == archived.sha256
        assert details["source_sha256"] == issued_v.sha256
        assert sum(json.loads(e.details).get("archive_timestamp", False) for e in events) == 1
        assert session.get_one(Document, doc_id).status.name == "ISSUED"

    assert archived_pdf.startswith(issued_pdf)
    results = offline(data, archived_pdf)
    assert [r.field_name for r in results] == ["KySo_PheDuyet", "KySo_CoQuan"]
    assert all(r.passed and r.intact and r.valid and r.trusted for r in results), results



def test_issuing_at_b_lta_and_the_daily_renewal_task(
        data: DataDir, commune: DemoCommune, db: sessionmaker[Session],  # noqa: F811
        store: FileStore, signing: Any) -> None:  # noqa: F811
    """With KYSO_PADES_LEVEL=B-LTA the issued file proves itself offline at once; the
    Celery beat task renews what is due (here: a B-T file issued earlier)."""
    from api.demo.art import handwritten_signature, seal
    from api.worker.tasks import Runtime, configure, renew_archives
    from documents import Signing

    lta = Signing(tsa_url=commune.pki.tsa_url, level=PadesLevel.B_LTA,
                  contexts=lambda: validation_context(data.trust_store(), online=True))
    doc_id = approved(db, store, data, signing)
    _, issued_pdf = issued(db, store, data, lta, doc_id)
    results = offline(data, issued_pdf)
    assert all(r.passed and r.intact and r.valid and r.trusted for r in results), results
    report = verify(data, issued_pdf)  # and the auditor's report says so, online
    assert report.verdict == "valid", [r.en for s in report.signatures for r in s.reasons]
    assert [s.pades_level for s in report.signatures][-1] == "B-LTA"

    earlier = approved(db, store, data, signing)
    issued(db, store, data, signing, earlier)  # B-T
    configure(Runtime(sessions=db, store=store, signer_for=lambda name: None,  # type: ignore
                      signing=lta, seal_for=lambda d: seal(),
                      signature_image_for=lambda p: handwritten_signature()))
    assert renew_archives.run(180) == 1  # the B-T file; the B-LTA one is not due yet
    assert renew_archives.run(180) == 0


def test_hash_only_signing_refuses_long_term_levels(data: DataDir, commune: DemoCommune,
                                                    sample_pdf: bytes) -> None:
    from signer import SigningFailed, prepare_digest

    options = SigningOptions(tsa_url=commune.pki.tsa_url, level=PadesLevel.B_LT,
                             validation_context=validation_context(data.trust_store()))
    with pytest.raises(SigningFailed) as refused:
        prepare_digest(sample_pdf, commune.pki.cert("chu-tich"), options,
                       chain=commune.pki.chain)
    assert "DSS/LTA" in refused.value.en


def test_offline_context_holds_the_files_dss_and_cannot_fetch(
        data: DataDir, signed: dict[PadesLevel, bytes]) -> None:
    from signer import offline_context

    trust = data.trust_store()
    context = offline_context(trust.anchors, signed[PadesLevel.B_LT])
    assert not context.fetching_allowed
    assert len(context.ocsps) == 1 and len(context.crls) >= 1
    assert len(offline_context(trust.anchors, signed[PadesLevel.B_T]).ocsps) == 0
