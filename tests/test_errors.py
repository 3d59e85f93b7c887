"""Every refusal is one clear line in Vietnamese and English, and nothing half-made is left."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pikepdf
import pytest

from api.datadir import DataDir
from api.demo.demo import DemoCommune
from common import KysoError
from signer import (
    CertificateExpired,
    CertificateRevoked,
    PdfEncrypted,
    PdfUnreadable,
    TimestampUnavailable,
)
from tokens import (
    KeyFileError,
    KeyNotFound,
    ModuleMissing,
    Pkcs11Config,
    Pkcs11Token,
    Pkcs12Config,
    Pkcs12Token,
    TokenNotFound,
    WrongPin,
)

from .helpers import run_kyso, sign_as


def assert_bilingual(error: KysoError) -> None:
    line = error.one_line()
    assert line.startswith("Lỗi: ") and " — Error: " in line
    assert "\n" not in line


def test_wrong_pin_is_refused_and_reports_what_the_token_says(
        data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> None:
    with pytest.raises(WrongPin) as err:
        sign_as(data, commune.pki, "truong-phong-vhxh", sample_pdf, pin="000000")
    assert_bilingual(err.value)
    assert "mã PIN không đúng" in err.value.vi and "wrong PIN" in err.value.en
    assert "not retried" in err.value.en
    # SoftHSM raises CKF_USER_PIN_COUNT_LOW after a failure: the message says so
    assert err.value.remaining == "low"


def test_missing_module(pin: str) -> None:
    token = Pkcs11Token(Pkcs11Config(name="x", module="/khong/co/libvendor.so",
                                     token_label="chu-tich"))
    with pytest.raises(ModuleMissing) as err, token.signer(pin):
        pass
    assert_bilingual(err.value)
    assert "/khong/co/libvendor.so" in err.value.en
    assert not token.health().ok


def test_token_not_plugged_in(commune: DemoCommune, pin: str) -> None:
    token = Pkcs11Token(Pkcs11Config(name="x", module=commune.hsm.module,
                                     token_label="token-cua-nguoi-khac"))
    with pytest.raises(TokenNotFound) as err, token.signer(pin):
        pass
    assert "cắm USB token" in err.value.vi
    assert "token-cua-nguoi-khac" in token.health().detail


def test_missing_key_on_the_token(commune: DemoCommune, pin: str) -> None:
    token = Pkcs11Token(Pkcs11Config(name="x", module=commune.hsm.module,
                                     token_label="chu-tich", key_label="khong-co-khoa"))
    with pytest.raises(KeyNotFound) as err, token.signer(pin):
        pass
    assert_bilingual(err.value)


def test_pkcs12_wrong_password(commune: DemoCommune) -> None:
    path = commune.pkcs12_path("chuyen-vien-vp")
    with pytest.raises(KeyFileError), Pkcs12Token(Pkcs12Config("p", str(path))).signer("sai"):
        pass


def test_expired_certificate_is_refused_before_signing(
        data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> None:
    with pytest.raises(CertificateExpired) as err:
        sign_as(data, commune.pki, "het-han", sample_pdf)
    assert "Phạm Quốc Bảo" in err.value.vi
    assert_bilingual(err.value)


def test_revoked_certificate_is_refused_after_asking_the_ocsp_responder(
        data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> None:
    with pytest.raises(CertificateRevoked) as err:
        sign_as(data, commune.pki, "thu-hoi", sample_pdf)
    assert "thu hồi" in err.value.vi and "revoked" in err.value.en


@pytest.mark.parametrize("broken", [
    b"",
    b"this is not a PDF",
    b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF",
])
def test_unreadable_pdf(data: DataDir, commune: DemoCommune, broken: bytes) -> None:
    with pytest.raises(PdfUnreadable) as err:
        sign_as(data, commune.pki, "chu-tich", broken)
    assert_bilingual(err.value)


def test_truncated_pdf(data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> None:
    with pytest.raises(PdfUnreadable):
        sign_as(data, commune.pki, "chu-tich", sample_pdf[: len(sample_pdf) // 3])


def test_encrypted_pdf(data: DataDir, commune: DemoCommune, sample_pdf: bytes,
                       tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    with pikepdf.open(__import__("io").BytesIO(sample_pdf)) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(owner="chu", user="xa", R=6))
    with pytest.raises(PdfEncrypted) as err:
        sign_as(data, commune.pki, "chu-tich", path.read_bytes())
    assert "mã hóa" in err.value.vi


def test_unreachable_tsa_signs_nothing(data: DataDir, commune: DemoCommune, sample_pdf: bytes,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYSO_TSA_URL", "http://127.0.0.1:9/tsa")
    with pytest.raises(TimestampUnavailable) as err:
        sign_as(data, commune.pki, "chu-tich", sample_pdf)
    assert "127.0.0.1:9" in err.value.en


# --- the same refusals through the command line: one line, non-zero, no output file ----------

@pytest.mark.parametrize(("token", "pin", "expected"), [
    ("chu-tich", "111111", "wrong PIN"),
    ("het-han", None, "has expired"),
    ("thu-hoi", None, "has been revoked"),
    ("khong-ton-tai", None, "no token named"),
])
def test_cli_refusals_are_one_line_and_leave_no_file(
        data: DataDir, commune: DemoCommune, tmp_path: Path, pin: str,
        token: str, expected: str, sample_pdf: bytes) -> None:
    source = tmp_path / "in.pdf"
    source.write_bytes(sample_pdf)
    target = tmp_path / "out.pdf"
    result = run_kyso(data, "sign", str(source), str(target), "--token", token,
                      pin=pin if pin is not None else "246810")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Lỗi: ") and expected in lines[0]
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.pdf"]


def test_cli_never_overwrites(data: DataDir, commune: DemoCommune, tmp_path: Path,
                              sample_pdf: bytes) -> None:
    source = tmp_path / "in.pdf"
    source.write_bytes(sample_pdf)
    target = tmp_path / "out.pdf"
    target.write_bytes(b"keep me")
    result = run_kyso(data, "sign", str(source), str(target), "--token", "chu-tich",
                      pin="246810")
    assert result.returncode == 2
    assert "never overwrites" in result.stderr
    assert target.read_bytes() == b"keep me"


def test_cli_encrypted_input(data: DataDir, commune: DemoCommune, tmp_path: Path,
                             sample_pdf: bytes) -> None:
    source = tmp_path / "in.pdf"
    with pikepdf.open(__import__("io").BytesIO(sample_pdf)) as pdf:
        pdf.save(source, encryption=pikepdf.Encryption(owner="a", user="b", R=6))
    result = run_kyso(data, "sign", str(source), str(tmp_path / "o.pdf"), "--token",
                      "chu-tich", pin="246810")
    assert result.returncode == 2
    assert "encrypted" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o.pdf").exists()


# --- a token with a real retry counter: SoftHSM behind tests/support/pinlock.c ---------------

@pytest.fixture(scope="module")
def pinlock_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SoftHSM wrapped in a PKCS#11 module that locks after three wrong PINs, as USB tokens do."""
    source = Path(__file__).parent / "support" / "pinlock.c"
    target = tmp_path_factory.mktemp("pinlock") / "pinlock.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-I/usr/include/p11-kit-1", "-o", str(target),
                    str(source), "-ldl"], check=True, capture_output=True, timeout=120)
    return target


def test_token_counts_down_then_locks_and_stays_locked(
        commune: DemoCommune, pinlock_module: Path, tmp_path: Path, sample_pdf: bytes) -> None:
    data = DataDir(tmp_path / "data").create()
    data.save_token_settings({"usb": {
        "backend": "pkcs11", "module": str(pinlock_module),
        "token_label": "truong-phong-vhxh", "key_label": "truong-phong-vhxh"}})
    env = {"KYSO_PINLOCK_STATE": str(tmp_path / "retry-counter"),
           "KYSO_PINLOCK_MODULE": commune.hsm.module}
    source = tmp_path / "in.pdf"
    source.write_bytes(sample_pdf)
    target = tmp_path / "out.pdf"

    def sign(pin: str) -> str:
        result = run_kyso(data, "sign", str(source), str(target), "--token", "usb",
                          pin=pin, extra_env=env)
        assert result.returncode == 2
        return result.stderr

    first, second, third = sign("000000"), sign("000000"), sign("000000")
    assert "wrong PIN; few tries left" in first
    assert "wrong PIN; ONE try left" in second
    assert "the token is locked" in third and "thiết bị ký số đã bị khóa" in third
    assert "the token is locked" in sign("246810")  # the right PIN no longer helps
    assert not target.exists()
