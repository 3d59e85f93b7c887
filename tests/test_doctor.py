"""`kyso doctor` on real tokens: every check passes for a good one, and each way an official
"cannot sign" is found and explained (SoftHSM demo tokens, the demo PKI's OCSP/CRL on
loopback, a tiny HTTP server standing in for the service's health route and clock)."""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.doctor import certificate_fingerprints
from api.cli.main import app
from api.datadir import DataDir
from api.demo.demo import DemoCommune
from certs import free_port
from tokens import Pkcs11Config, Pkcs11Token, TokenLocked, WrongPin
from tokens.diagnose import (
    CHECK_ORDER,
    Check,
    DoctorConfig,
    ModuleCandidate,
    check_clock,
    passed,
    run_checks,
)

from .helpers import run_kyso
from .support.native import build_pinlock


@contextlib.contextmanager
def tiny_service(skew: dt.timedelta = dt.timedelta(0)) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 answering GET /api/v1/health, its Date ``skew`` off."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/api/v1/health":
                self.send_error(404)
                return
            body = json.dumps({"status": "ok", "database": "ok"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def date_time_string(self, timestamp: float | None = None) -> str:
            return email.utils.formatdate(time.time() + skew.total_seconds(), usegmt=True)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    with tiny_service() as url:
        yield url


def sha256_of(commune: DemoCommune, label: str) -> str:
    return hashlib.sha256(commune.pki.cert(label).dump()).hexdigest()


def diagnose(data: DataDir, commune: DemoCommune, label: str, service: str | None,
             **kwargs: object) -> dict[str, Check]:
    if "registered" not in kwargs:
        kwargs["registered"] = {sha256_of(commune, label)}
    config = DoctorConfig(module=commune.hsm.module, token_label=label,
                          trust=data.trust_store(), service_url=service,
                          **kwargs)  # type: ignore[arg-type]
    checks = run_checks(config)
    assert [c.name for c in checks] == list(CHECK_ORDER)
    return {c.name: c for c in checks}


def assert_explained(check: Check) -> None:
    """A failed check says in Vietnamese (with diacritics) what to do next."""
    assert check.ok is False
    assert check.vi and check.en and check.next_step_vi and check.next_step_en
    assert any(ch in check.next_step_vi for ch in "ạảãáàăâđêôơư")


def test_a_good_token_passes_every_check(data: DataDir, commune: DemoCommune,
                                         service: str) -> None:
    checks = diagnose(data, commune, "chu-tich", service)
    assert {name: c.ok for name, c in checks.items()} == {name: True for name in CHECK_ORDER}
    assert passed(list(checks.values()))
    assert "Nguyễn Văn Hùng" in checks["certificate"].vi
    assert "(demo)" in checks["chain"].detail
    assert "OCSP" in checks["revocation"].detail and ": good" in checks["revocation"].detail
    assert sha256_of(commune, "chu-tich") in checks["registered"].detail


def test_missing_module(tmp_path: Path) -> None:
    checks = run_checks(DoctorConfig(module="/khong/co/libvendor.so", token_label="chu-tich"))
    assert_explained(checks[0])
    assert "Cài phần mềm" in checks[0].next_step_vi and "/khong/co/libvendor.so" in checks[0].vi
    assert [c.ok for c in checks[1:6]] == [None] * 5  # token, PIN, certificate, chain, revocation
    assert not passed(checks)

    not_a_module = tmp_path / "libvendor.so"
    not_a_module.write_bytes(b"\x7fELF but not really")
    checks = run_checks(DoctorConfig(module=str(not_a_module)))
    assert checks[0].ok is False and "Không nạp được" in checks[0].vi

    nowhere = [ModuleCandidate("VNPT-CA", str(tmp_path / "vnpt-ca_csp11.dll"))]
    checks = run_checks(DoctorConfig(candidates=nowhere))
    assert checks[0].ok is False and "vnpt-ca_csp11.dll" in checks[0].detail


def test_the_module_is_found_at_a_common_path(commune: DemoCommune, tmp_path: Path) -> None:
    candidates = [ModuleCandidate("Viettel-CA", str(tmp_path / "viettel-ca_v6.dll")),
                  ModuleCandidate("SoftHSM", commune.hsm.module)]
    checks = run_checks(DoctorConfig(candidates=candidates, token_label="chu-tich"))
    assert checks[0].ok is True and commune.hsm.module in checks[0].vi
    assert checks[1].ok is True


def test_a_token_that_is_not_plugged_in(data: DataDir, commune: DemoCommune,
                                        service: str) -> None:
    checks = diagnose(data, commune, "token-cua-nguoi-khac", service, registered=None)
    assert checks["module"].ok is True
    assert_explained(checks["token"])
    assert "Cắm" in checks["token"].next_step_vi
    assert "'chu-tich'" in checks["token"].detail  # what IS plugged in
    for name in ("pin", "certificate", "chain", "revocation", "registered"):
        assert checks[name].ok is None and checks[name].vi.startswith("Bỏ qua")
    assert checks["service"].ok is True


def test_an_expired_certificate(data: DataDir, commune: DemoCommune, service: str) -> None:
    checks = diagnose(data, commune, "het-han", service)
    assert_explained(checks["certificate"])
    assert "hết hạn" in checks["certificate"].vi and "Phạm Quốc Bảo" in checks["certificate"].vi
    assert "đăng ký chứng thư mới" in checks["certificate"].next_step_vi
    assert checks["chain"].ok is True  # trust is judged apart from expiry
    assert not passed(list(checks.values()))


def test_a_revoked_certificate(data: DataDir, commune: DemoCommune, service: str) -> None:
    checks = diagnose(data, commune, "thu-hoi", service)
    assert checks["certificate"].ok is True
    assert_explained(checks["revocation"])
    assert "thu hồi" in checks["revocation"].vi and "revoked" in checks["revocation"].detail


def test_a_certificate_near_its_end_warns(data: DataDir, commune: DemoCommune,
                                          service: str) -> None:
    not_after = commune.pki.cert("chu-tich")["tbs_certificate"]["validity"]["not_after"].native
    checks = diagnose(data, commune, "chu-tich", service,
                      now=not_after - dt.timedelta(days=10, hours=1))
    cert = checks["certificate"]
    assert cert.ok is True and cert.warning
    assert "còn 10 ngày" in cert.vi and "gia hạn" in cert.next_step_vi


def test_a_certificate_not_from_a_trusted_ca(commune: DemoCommune) -> None:
    from certs import bundled_store

    checks = run_checks(DoctorConfig(module=commune.hsm.module, token_label="chu-tich",
                                     trust=bundled_store()))
    chain = checks[CHECK_ORDER.index("chain")]
    assert_explained(chain)
    assert "kho tin cậy" in chain.next_step_vi


def test_a_locked_pin(commune: DemoCommune, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """SoftHSM behind pinlock.c: three wrong PINs lock it; the doctor sees it from the flags."""
    module = str(build_pinlock(tmp_path / "pinlock"))
    monkeypatch.setenv("KYSO_PINLOCK_MODULE", commune.hsm.module)
    monkeypatch.setenv("KYSO_PINLOCK_STATE", str(tmp_path / "retry-counter"))
    token = Pkcs11Token(Pkcs11Config(name="usb", module=module,
                                     token_label="truong-phong-vhxh",
                                     key_label="truong-phong-vhxh"))

    def pin_check() -> Check:
        checks = run_checks(DoctorConfig(module=module, token_label="truong-phong-vhxh"))
        return checks[CHECK_ORDER.index("pin")]

    assert pin_check().ok is True and not pin_check().warning
    with pytest.raises(WrongPin), token.signer("000000"):
        pass
    low = pin_check()
    assert low.ok is True and low.warning and "còn ít lần thử" in low.vi
    with pytest.raises(WrongPin), token.signer("000000"):
        pass
    assert "MỘT lần thử" in pin_check().vi
    with pytest.raises(TokenLocked), token.signer("000000"):
        pass
    locked = pin_check()
    assert_explained(locked)
    assert "đã bị khóa" in locked.vi and "mở khóa" in locked.next_step_vi


def test_clock_skew(data: DataDir, commune: DemoCommune) -> None:
    with tiny_service(skew=dt.timedelta(minutes=10)) as url:
        checks = diagnose(data, commune, "chu-tich", url)
    assert checks["service"].ok is True
    assert_explained(checks["clock"])
    assert "chậm 10 phút" in checks["clock"].vi  # the server is ahead: this PC is behind
    with tiny_service(skew=dt.timedelta(minutes=-3)) as url:
        assert check_clock(url + "/api/v1/health").ok is True  # within 5 minutes


def test_an_unreachable_service(data: DataDir, commune: DemoCommune) -> None:
    checks = diagnose(data, commune, "chu-tich", f"http://127.0.0.1:{free_port()}")
    assert_explained(checks["service"])
    assert "Kiểm tra mạng" in checks["service"].next_step_vi
    assert checks["clock"].ok is None
    assert checks["certificate"].ok is True  # the token side is still diagnosed


def test_a_certificate_that_is_not_the_registered_one(data: DataDir, commune: DemoCommune,
                                                      service: str) -> None:
    other = sha256_of(commune, "pho-chu-tich")
    checks = diagnose(data, commune, "chu-tich", service, registered={other})
    assert_explained(checks["registered"])
    assert "đăng ký chứng thư mới" in checks["registered"].next_step_vi
    assert other in checks["registered"].detail
    assert sha256_of(commune, "chu-tich") in checks["registered"].detail


# --- the command --------------------------------------------------------------------------

def test_cli_json_all_pass(data: DataDir, commune: DemoCommune, service: str) -> None:
    result = CliRunner().invoke(app, [
        "--data-dir", str(data.root), "doctor", "--module", commune.hsm.module,
        "--token-label", "chu-tich", "--service", service,
        "--expect-cert", sha256_of(commune, "chu-tich"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [c["name"] for c in doc["checks"]] == list(CHECK_ORDER)
    assert all(c["ok"] is True for c in doc["checks"])
    assert doc["passed"] is True


def test_cli_says_what_to_do_and_exits_2(data: DataDir, commune: DemoCommune) -> None:
    result = run_kyso(data, "doctor", "--module", commune.hsm.module,
                      "--token-label", "chu-tich", "--service", f"http://127.0.0.1:{free_port()}",
                      "--expect-cert", sha256_of(commune, "chu-tich"),
                      extra_env={"COLUMNS": "250"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    out = " ".join(result.stdout.split())  # the table may wrap long cells
    assert "✓" in out and "✗" in out and "–" in out  # passed, failed, skipped (the clock)
    assert "Kết nối tới dịch vụ Kyso" in out
    assert "Kiểm tra mạng và địa chỉ dịch vụ" in out


def test_fingerprints_are_read_from_the_accounts_answer() -> None:
    digest = "AB" * 32
    me = {"username": "chu-tich", "memberships": [{"body_id": 1, "roles": ["Lãnh đạo"]}],
          "authorities": [{"unit": "UBND", "certificate_sha256": digest},
                          {"certificate_sha256s": ["cd" * 32, "not-a-digest"]}]}
    assert certificate_fingerprints(me) == {digest.lower(), "cd" * 32}
    assert certificate_fingerprints({"username": "x", "person_id": 3}) == set()


def test_cli_a_refused_login_is_a_failed_check(data: DataDir, commune: DemoCommune,
                                               service: str) -> None:
    # the tiny service has no login route: the doctor says it could not log in
    result = CliRunner().invoke(app, [
        "--data-dir", str(data.root), "doctor", "--module", commune.hsm.module,
        "--token-label", "chu-tich", "--service", service, "--user", "chu-tich", "--json"],
        env={"KYSO_PASSWORD": "sai-mat-khau"})
    assert result.exit_code == 2, result.output
    checks = {c["name"]: c for c in json.loads(result.output)["checks"]}
    assert checks["registered"]["ok"] is False
    assert "Không đăng nhập được" in checks["registered"]["vi"]
    assert checks["certificate"]["ok"] is True
