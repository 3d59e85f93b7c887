"""Hash-only signing on real SoftHSM tokens and the demo TSA: prepare, sign only the
digest on the token, finish — in this process or in others — and validate the result."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from api.datadir import DataDir
from api.demo.art import seal
from api.demo.demo import DemoCommune
from certs import validation_context
from signer import (
    Appearance,
    PendingSignature,
    PendingSignatureExpired,
    PendingSignatureUnreadable,
    Report,
    SignatureMismatch,
    SigningOptions,
    async_finish,
    async_prepare_digest,
    fetch_timestamp,
    finish,
    open_reader,
    prepare_digest,
    verify_pdf,
)
from signer.prepare import (
    DAY_FIELD,
    MONTH_FIELD,
    NUMBER_FIELD,
    ORGANISATION_FIELD,
    FieldPlan,
    Place,
    prepare_draft,
)
from signer.sign import FieldFill
from tokens import (
    DigestRefused,
    DigestSigner,
    DigestSigningUnsupported,
    Health,
    RawSignature,
    Token,
    WrongPin,
)

ROOT = Path(__file__).resolve().parent.parent
BOX = (330, 60, 560, 140)
H = 841.89
#: The sample Quyết định's number, day and month blanks and the seal's place (as in
#: tests/test_prepare.py).
PLAN = FieldPlan(
    person=Place(0, (345.0, 166.0, 485.0, 222.0)),
    organisation=Place(0, (290.0, 133.0, 392.0, 245.0)),
    number=Place(0, (124.2, H - 120.6, 150.2, H - 103.7)),
    day=Place(0, (372.7, H - 121.9, 393.7, H - 103.7)),
    month=Place(0, (425.6, H - 121.9, 446.6, H - 103.7)),
)


@pytest.fixture(scope="module")
def check(data: DataDir, commune: DemoCommune) -> Callable[[bytes], Report]:
    """Validate with pyHanko against the demo trust store; every signature must be
    intact, valid and trusted."""
    store = data.trust_store()

    def validate(pdf: bytes) -> Report:
        report = verify_pdf(pdf, lambda: validation_context(store, online=True), "t", store)
        assert report.verdict == "valid", [r.en for s in report.signatures
                                           for r in s.reasons]
        for sig in report.signatures:
            assert (sig.intact, sig.valid, sig.trusted) == (True, True, True)
        return report

    return validate


@pytest.fixture(scope="module")
def rsa(data: DataDir, commune: DemoCommune, pin_value: str) -> Iterator[DigestSigner]:
    with data.token("chu-tich").digest_signer(pin_value) as signer:
        yield signer


@pytest.fixture(scope="module")
def ec(data: DataDir, commune: DemoCommune, pin_value: str) -> Iterator[DigestSigner]:
    with data.token("pho-chu-tich").digest_signer(pin_value) as signer:
        yield signer


@pytest.fixture(scope="module")
def pin_value() -> str:
    from api.demo.demo import DEMO_PIN

    return DEMO_PIN


def _options(signer: DigestSigner, tsa_url: str | None = None, **kwargs: Any) -> SigningOptions:
    name = str(signer.certificate.subject.native["common_name"])
    return SigningOptions(appearance=Appearance.stamp(name, box=BOX, page=0),
                          tsa_url=tsa_url, **kwargs)


def _prepare(pdf: bytes, signer: DigestSigner, commune: DemoCommune,
             options: SigningOptions | None = None, **kwargs: Any) -> PendingSignature:
    return prepare_digest(pdf, signer.certificate, options or _options(signer),
                          chain=commune.pki.chain, **kwargs)


def _sign(signer: DigestSigner, pending: PendingSignature) -> RawSignature:
    return signer.sign_digest(pending.digest, algorithm=pending.algorithm,
                              md_algorithm=pending.md_algorithm)


def _widget_rect(pdf: bytes, field: str) -> tuple[float, ...]:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        (widget,) = [f for f in doc.Root.AcroForm.Fields if str(f.T) == field]
        assert "/N" in widget.AP  # a normal appearance stream: the visible stamp
        return tuple(float(v) for v in widget.Rect)


@pytest.mark.parametrize(("token", "algorithm", "raw_size"), [
    ("rsa", "sha256_rsa", 256), ("ec", "sha256_ecdsa", 64)])
def test_prepare_sign_digest_on_token_finish(
        request: pytest.FixtureRequest, commune: DemoCommune, sample_pdf: bytes,
        check: Callable[[bytes], Report], token: str, algorithm: str, raw_size: int) -> None:
    signer: DigestSigner = request.getfixturevalue(token)
    pending = _prepare(sample_pdf, signer, commune)
    assert pending.digest == hashlib.sha256(pending.signed_attrs).digest()
    signature = _sign(signer, pending)
    assert len(signature.value) == raw_size  # EC: raw r||s straight from CKM_ECDSA
    signed = finish(pending, signature)
    assert signed.startswith(pending.prepared_pdf[:pending.reserved_region_start])
    (sig,) = check(signed).signatures
    assert sig.signature_algorithm == algorithm
    assert sig.pades_level == "B-B"
    assert sig.signer == signer.certificate.subject.native["common_name"]
    assert sig.signing_time == pending.signing_time.isoformat()
    x1, y1, x2, y2 = _widget_rect(signed, pending.field_name)
    assert (x2 - x1, y2 - y1) == (BOX[2] - BOX[0], BOX[3] - BOX[1])


def test_rsa_pss_on_the_token(rsa: DigestSigner, commune: DemoCommune, sample_pdf: bytes,
                              check: Callable[[bytes], Report]) -> None:
    pending = _prepare(sample_pdf, rsa, commune, algorithm="rsassa_pss")
    signature = _sign(rsa, pending)
    assert signature.algorithm == "rsassa_pss"
    (sig,) = check(finish(pending, signature)).signatures
    assert "pss" in sig.signature_algorithm


def test_async_api_inside_one_event_loop(ec: DigestSigner, commune: DemoCommune,
                                         sample_pdf: bytes,
                                         check: Callable[[bytes], Report]) -> None:
    async def flow() -> bytes:  # as the service runs it, inside FastAPI's loop
        pending = await async_prepare_digest(sample_pdf, ec.certificate, _options(ec),
                                             chain=commune.pki.chain)
        signature = await ec.async_sign_digest(pending.digest)
        return await async_finish(pending, signature)

    assert check(asyncio.run(flow())).signatures[0].signer == "Trần Thị Thu Hà"


def test_pkcs12_key_signs_digests(data: DataDir, commune: DemoCommune, sample_pdf: bytes,
                                  pin_value: str, check: Callable[[bytes], Report]) -> None:
    with data.token("chuyen-vien-vp").digest_signer(pin_value) as signer:
        pending = _prepare(sample_pdf, signer, commune)
        signed = finish(pending, _sign(signer, pending))
    assert check(signed).signatures[0].signer == "Bùi Thị Lan"


_FINISH_ELSEWHERE = """
import sys
from pathlib import Path
from signer import PendingSignature, RawSignature, finish
job = Path(sys.argv[1])
pending = PendingSignature.from_bytes((job / "pending").read_bytes())
signature = RawSignature((job / "signature").read_bytes(), (job / "algorithm").read_text())
token = job / "timestamp"
out = finish(pending, signature, timestamp=token.read_bytes() if token.exists() else None)
Path(sys.argv[2]).write_bytes(out)
"""


def _finish_in_new_process(job: Path, out: Path) -> bytes:
    done = subprocess.run([sys.executable, "-c", _FINISH_ELSEWHERE, str(job), str(out)],
                          cwd=ROOT, timeout=120, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


@pytest.mark.parametrize("with_tsa", [False, True], ids=["B-B", "B-T"])
def test_two_other_processes_finish_byte_identical(
        ec: DigestSigner, commune: DemoCommune, sample_pdf: bytes, tmp_path: Path,
        check: Callable[[bytes], Report], with_tsa: bool) -> None:
    tsa = commune.pki.tsa_url if with_tsa else None
    pending = _prepare(sample_pdf, ec, commune, _options(ec, tsa))
    signature = _sign(ec, pending)
    job = tmp_path / "job"
    job.mkdir()
    (job / "pending").write_bytes(pending.to_bytes())
    (job / "signature").write_bytes(signature.value)
    (job / "algorithm").write_text(signature.algorithm)
    if with_tsa:  # the TSA's token differs per call: obtain it once, hand it to both
        (job / "timestamp").write_bytes(fetch_timestamp(pending, signature))
    first = _finish_in_new_process(job, tmp_path / "a.pdf")
    second = _finish_in_new_process(job, tmp_path / "b.pdf")
    assert first == second
    (sig,) = check(first).signatures
    assert sig.pades_level == ("B-T" if with_tsa else "B-B")
    assert (sig.timestamp_valid is True) == with_tsa


def test_bt_asks_the_tsa_when_finishing(rsa: DigestSigner, commune: DemoCommune,
                                        sample_pdf: bytes,
                                        check: Callable[[bytes], Report]) -> None:
    pending = _prepare(sample_pdf, rsa, commune, _options(rsa, commune.pki.tsa_url))
    (sig,) = check(finish(pending, _sign(rsa, pending))).signatures
    assert (sig.pades_level, sig.timestamp_valid) == ("B-T", True)


def test_state_survives_serialisation_and_rejects_other_formats(
        ec: DigestSigner, commune: DemoCommune, sample_pdf: bytes) -> None:
    pending = _prepare(sample_pdf, ec, commune)
    again = PendingSignature.from_bytes(pending.to_bytes())
    assert again == pending
    assert again.to_bytes() == pending.to_bytes()
    doc = json.loads(pending.to_bytes())
    doc["format"] = "kyso.pending-signature/0"
    with pytest.raises(PendingSignatureUnreadable):
        PendingSignature.from_bytes(json.dumps(doc).encode())
    with pytest.raises(PendingSignatureUnreadable):
        PendingSignature.from_bytes(b"\x80\x04pickle")


def test_an_edited_state_is_refused(ec: DigestSigner, commune: DemoCommune,
                                    sample_pdf: bytes) -> None:
    pending = _prepare(sample_pdf, ec, commune)
    pdf = pending.prepared_pdf.replace(b"%%EOF", b"%%EOG", 1)  # in the signed range
    edited = PendingSignature(**{**pending.__dict__, "prepared_pdf": pdf})
    with pytest.raises(PendingSignatureUnreadable):
        finish(edited, _sign(ec, pending))


def test_expired_state_is_refused(ec: DigestSigner, commune: DemoCommune,
                                  sample_pdf: bytes) -> None:
    pending = _prepare(sample_pdf, ec, commune, lifetime=dt.timedelta(minutes=5))
    assert pending.expires_at - pending.created_at == dt.timedelta(minutes=5)
    signature = _sign(ec, pending)
    assert not pending.expired(pending.expires_at - dt.timedelta(seconds=1))
    finish(pending, signature, now=pending.expires_at - dt.timedelta(seconds=1))
    with pytest.raises(PendingSignatureExpired) as err:
        finish(pending, signature, now=pending.expires_at)
    assert "hết hạn" in err.value.vi and "expired" in err.value.en


def test_signature_from_another_key_is_refused(data: DataDir, rsa: DigestSigner,
                                               commune: DemoCommune, sample_pdf: bytes,
                                               pin_value: str) -> None:
    pending = _prepare(sample_pdf, rsa, commune, _options(rsa, commune.pki.tsa_url))
    with data.token("truong-phong-vhxh").digest_signer(pin_value) as other:
        assert other.certificate.dump() != rsa.certificate.dump()
        wrong = _sign(other, pending)
    with pytest.raises(SignatureMismatch) as err:
        finish(pending, wrong)
    assert "không khớp" in err.value.vi and "nothing was signed" in err.value.en


def test_signature_over_a_tampered_digest_is_refused(ec: DigestSigner, commune: DemoCommune,
                                                     sample_pdf: bytes) -> None:
    pending = _prepare(sample_pdf, ec, commune)
    digest = bytearray(pending.digest)
    digest[0] ^= 1
    with pytest.raises(SignatureMismatch):
        finish(pending, ec.sign_digest(bytes(digest)))
    with pytest.raises(SignatureMismatch):  # the right value, claimed for another algorithm
        finish(pending, RawSignature(_sign(ec, pending).value, "rsassa_pkcs1v15"))


def test_a_whole_cms_from_the_signer_is_accepted_and_timestamped(
        data: DataDir, commune: DemoCommune, sample_pdf: bytes, pin_value: str,
        check: Callable[[bytes], Report]) -> None:
    file_token = data.token("chuyen-vien-vp")  # a PKCS#12 key: makes its own CMS
    with file_token.digest_signer(pin_value) as signer:
        pending = _prepare(sample_pdf, signer, commune, _options(signer, commune.pki.tsa_url))
    with file_token.signer(pin_value) as own_cms_maker:
        made = asyncio.run(own_cms_maker.async_sign(pending.document_digest, "sha256",
                                                    use_pades=True)).dump()
    (sig,) = check(finish(pending, made)).signatures
    assert (sig.signer, sig.pades_level, sig.timestamp_valid) == ("Bùi Thị Lan", "B-T", True)
    with data.token("pho-chu-tich-duc").signer(pin_value) as other:  # another person's CMS
        wrong = asyncio.run(other.async_sign(pending.document_digest, "sha256",
                                             use_pades=True)).dump()
    with pytest.raises(SignatureMismatch):
        finish(pending, wrong)
    with pytest.raises(SignatureMismatch):
        finish(pending, b"\x30\x03\x02\x01\x01")  # not a SignedData


def test_number_and_date_fields_filled_through_hash_only(
        data: DataDir, commune: DemoCommune, sample_pdf: bytes, pin_value: str,
        check: Callable[[bytes], Report]) -> None:
    prepared = prepare_draft(sample_pdf, PLAN)
    fills = (FieldFill(NUMBER_FIELD, "07"), FieldFill(DAY_FIELD, "12", "Times-Italic", 14),
             FieldFill(MONTH_FIELD, "11", "Times-Italic", 14))
    options = SigningOptions(field_name=ORGANISATION_FIELD, fills=fills,
                             appearance=Appearance.seal(seal(), "UBND xã Tiên Lữ"))
    with data.token("ubnd").digest_signer(pin_value) as body:
        pending = prepare_digest(prepared, body.certificate, options, chain=commune.pki.chain)
        signed = finish(pending, _sign(body, pending))
    (sig,) = check(signed).signatures
    assert (sig.field, sig.signer) == (ORGANISATION_FIELD, "UBND xã Tiên Lữ")
    with pikepdf.open(io.BytesIO(signed)) as doc:
        values = {str(f.T): str(f.get("/V", "")) for f in doc.Root.AcroForm.Fields}
    assert (values[NUMBER_FIELD], values[DAY_FIELD], values[MONTH_FIELD]) == ("07", "12", "11")
    assert len(open_reader(signed).embedded_regular_signatures) == 1


def test_second_signature_goes_to_a_free_field(rsa: DigestSigner, ec: DigestSigner,
                                               commune: DemoCommune, sample_pdf: bytes,
                                               check: Callable[[bytes], Report]) -> None:
    first = _prepare(sample_pdf, rsa, commune)
    once = finish(first, _sign(rsa, first))
    second = _prepare(once, ec, commune, SigningOptions(
        appearance=Appearance.stamp("Trần Thị Thu Hà", box=(60, 60, 260, 120), page=0)))
    assert second.field_name == first.field_name + "_2"
    report = check(finish(second, _sign(ec, second)))
    assert [s.signer for s in report.signatures] == ["Nguyễn Văn Hùng", "Trần Thị Thu Hà"]


def test_digest_signer_refusals(data: DataDir, commune: DemoCommune, rsa: DigestSigner) -> None:
    with pytest.raises(WrongPin) as err, data.token("pho-chu-tich-duc").digest_signer("000000"):
        pass
    assert "không tự thử lại" in err.value.vi
    with pytest.raises(DigestRefused):
        rsa.sign_digest(b"\x00" * 20)  # not a SHA-256 digest
    with pytest.raises(DigestRefused):
        rsa.sign_digest(b"\x00" * 32, algorithm="ecdsa")

    class NoDigests(Token):
        name = "csc-v1"

        def signer(self, pin: str | None) -> Any:
            raise NotImplementedError

        def health(self) -> Health:
            return Health(True, "")

        @property
        def needs_pin(self) -> bool:
            return False

    with pytest.raises(DigestSigningUnsupported):
        NoDigests().digest_signer(None)
