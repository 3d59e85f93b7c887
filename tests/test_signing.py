"""Signing on every backend, each result validated by Kyso, pyHanko's CLI and poppler."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from api.datadir import DataDir
from api.demo.demo import DemoCommune
from signer import (
    APPROVAL_FIELD,
    SigningOptions,
    open_reader,
    remember_token_sizes,
    sign_pdf,
    token_sizes,
    verify_pdf,
)
from tokens import Pkcs11Config, Pkcs11Token

from .helpers import sign_as, verify

PYHANKO = str(Path(sys.executable).with_name("pyhanko"))


@pytest.fixture(scope="module")
def signed_by_chairman(data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> bytes:
    return sign_as(data, commune.pki, "chu-tich", sample_pdf)


def test_rsa_token_signature_is_valid_pades_bt_with_ocsp(
        data: DataDir, signed_by_chairman: bytes) -> None:
    report = verify(data, signed_by_chairman)
    assert report.verdict == "valid"
    (sig,) = report.signatures
    assert sig.signer == "Nguyễn Văn Hùng"
    assert sig.signer_title == "Chủ tịch"
    assert sig.signer_organisation == "UBND xã Tiên Lữ"
    assert (sig.intact, sig.valid, sig.trusted, sig.timestamp_valid) == (True, True, True, True)
    assert sig.pades_level == "B-T"
    assert sig.revocation == "ocsp"
    assert sig.coverage == "entire_file"
    assert sig.digest_algorithm == "sha256"
    assert sig.signature_algorithm == "sha256_rsa"
    assert sig.signing_time is not None and sig.signing_time.endswith("+07:00")
    assert "DEMO — NOT A REAL CA" in sig.trust_anchor
    assert sig.trust_anchor_origin == "demo"


def test_pyhanko_cli_judges_it_valid(commune: DemoCommune, signed_by_chairman: bytes,
                                     tmp_path: Path) -> None:
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(signed_by_chairman)
    root = commune.pki.directory / "certs" / "root.cert.pem"
    result = subprocess.run(
        [PYHANKO, "sign", "validate", "--trust", str(root), "--trust-replace",
         "--executive-summary", str(pdf)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(":VALID")


def test_poppler_pdfsig_reads_it_intact(signed_by_chairman: bytes, tmp_path: Path) -> None:
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(signed_by_chairman)
    result = subprocess.run(["pdfsig", "-nocert", str(pdf)], capture_output=True, text=True,
                            timeout=60)
    assert "Signature is Valid." in result.stdout
    assert "Total document signed" in result.stdout
    assert "Nguyễn Văn Hùng" in result.stdout
    assert "ETSI.CAdES.detached" in result.stdout


def test_stamp_text_is_real_vietnamese_text(signed_by_chairman: bytes, tmp_path: Path) -> None:
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(signed_by_chairman)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, timeout=60, check=True).stdout
    assert "Ký bởi: Nguyễn Văn Hùng" in text
    assert "Chức vụ: Chủ tịch" in text
    assert "Cơ quan: UBND xã Tiên Lữ" in text
    assert "+07:00" in text


def test_contents_space_is_measured_for_the_signature(signed_by_chairman: bytes) -> None:
    from asn1crypto import cms

    from signer.sign import RESERVE_MARGIN

    (embedded,) = open_reader(signed_by_chairman).embedded_regular_signatures
    room = len(embedded.sig_object["/Contents"])
    written = len(cms.ContentInfo.load(embedded.pkcs7_content, strict=False).dump())
    # the CMS as it was written, and the margin (per level: tests/test_appearance.py)
    assert RESERVE_MARGIN <= room - written <= RESERVE_MARGIN + 128


def test_ec_token_signs_with_raw_ecdsa(data: DataDir, commune: DemoCommune,
                                       sample_pdf: bytes) -> None:
    report = verify(data, sign_as(data, commune.pki, "pho-chu-tich", sample_pdf))
    assert report.verdict == "valid"
    assert report.signatures[0].signature_algorithm == "sha256_ecdsa"
    assert report.signatures[0].signer == "Trần Thị Thu Hà"


def test_pkcs12_file_signs(data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> None:
    report = verify(data, sign_as(data, commune.pki, "chuyen-vien-vp", sample_pdf))
    assert report.verdict == "valid"
    assert report.signatures[0].signer == "Bùi Thị Lan"


@pytest.mark.parametrize("selector", ["cert_sha256", "key_id"])
def test_token_key_chosen_by_fingerprint_or_id(commune: DemoCommune, sample_pdf: bytes,
                                               pin: str, selector: str) -> None:
    cert = commune.pki.cert("truong-phong-vhxh")
    value = cert.sha256.hex() if selector == "cert_sha256" else "01"
    token = Pkcs11Token(Pkcs11Config(name="t", module=commune.hsm.module,
                                     token_label="truong-phong-vhxh", **{selector: value}))
    with token.signer(pin) as signer:
        assert signer.signing_cert is not None and signer.signing_cert.dump() == cert.dump()
        signed = sign_pdf(sample_pdf, signer, SigningOptions(tsa_url=commune.pki.tsa_url))
    report = verify_pdf(signed, lambda: _context(commune))
    assert report.verdict == "valid"
    assert report.signatures[0].signer == "Lê Đức Thắng"


def _context(commune: DemoCommune) -> object:
    from certs import Origin, TrustStore, validation_context

    store = TrustStore()
    store.add(commune.pki.root, Origin.DEMO, "test")
    return validation_context(store, other_certs=commune.pki.chain)


def test_without_tsa_the_signature_is_pades_bb(commune: DemoCommune, sample_pdf: bytes,
                                               pin: str) -> None:
    token = Pkcs11Token(Pkcs11Config(name="t", module=commune.hsm.module,
                                     token_label="chu-tich", key_label="chu-tich"))
    with token.signer(pin) as signer:
        signed = sign_pdf(sample_pdf, signer, SigningOptions())
    (sig,) = verify_pdf(signed, lambda: _context(commune)).signatures
    assert sig.pades_level == "B-B"
    assert sig.timestamp is None
    assert sig.verdict == "valid"
    assert sig.field == APPROVAL_FIELD


def test_signature_image_is_drawn_and_the_signature_stays_valid(
        data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> None:
    picture = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    ImageDraw.Draw(picture).line([(10, 100), (120, 20), (200, 90), (290, 30)],
                                 fill=(0, 51, 153, 255), width=6)
    png = io.BytesIO()
    picture.save(png, format="PNG")
    signed = sign_as(data, commune.pki, "chu-tich", sample_pdf, image=png.getvalue())
    assert verify(data, signed).verdict == "valid"
    assert signed.count(b"/Subtype /Image") > sample_pdf.count(b"/Subtype /Image")


def test_a_second_approval_keeps_the_first_valid(data: DataDir, commune: DemoCommune,
                                                 signed_by_chairman: bytes) -> None:
    twice = sign_as(data, commune.pki, "pho-chu-tich", signed_by_chairman,
                    box=(60, 60, 260, 120))
    report = verify(data, twice)
    assert [s.signer for s in report.signatures] == ["Nguyễn Văn Hùng", "Trần Thị Thu Hà"]
    assert report.verdict == "valid", [r.en for s in report.signatures for r in s.reasons]
    assert report.signatures[0].coverage == "entire_revision"


def test_a_remembered_token_size_too_small_makes_the_signature_again(
        data: DataDir, commune: DemoCommune, sample_pdf: bytes,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A TSA token size kept by an earlier run (kyso sign's data directory) that the TSA's
    tokens have outgrown: the signature that did not fit is made again, measured."""
    import signer.sign as signing

    monkeypatch.setattr(signing, "_TOKEN_SIZES", {})
    monkeypatch.setattr(signing, "_REMEMBERED", set())
    monkeypatch.setattr(signing, "_CONTENTS_SIZES", {})
    key = f"{commune.pki.tsa_url} sha256"
    remember_token_sizes({key: 16})
    assert token_sizes() == {key: 16}
    signed = sign_as(data, commune.pki, "chu-tich", sample_pdf)
    report = verify(data, signed)
    assert report.verdict == "valid" and report.signatures[0].timestamp
    assert token_sizes()[key] > 1000 and not signing._REMEMBERED
