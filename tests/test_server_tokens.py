"""Server-side tokens that survive a drop: the organisation's token (or its network HSM's
connection) goes away under a worker's open session and comes back; the session is dropped,
the task retries, and the next use logs in again. Plus the administrator's token health list.

The device is the slow-token wrapper (tests/support/slowtoken.c) with no delay, in front of
SoftHSM: while the flag file ``KYSO_SLOW_UNPLUGGED`` names exists, its token is absent."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from api.datadir import DataDir
from api.demo.demo import DEMO_PIN, DemoCommune
from api.settings import Settings
from api.worker.runtime import TokenSessions
from certs import free_port, validation_context
from signer import SigningOptions, sign_pdf
from tokens import Pkcs11Config, Pkcs11Token, TokenNotFound, TokenRemoved, find_softhsm_module

from .conftest import TESTS_DATA
from .csc_fixtures import CscService, csc_service_fixture  # noqa: F401
from .helpers import verify
from .service_support import start_service, upload, wait_for
from .support.native import ENV_SLOW_MODULE, ENV_SLOW_SIGN_MS, ENV_UNPLUGGED, build_slow_token

SEAL = "ubnd"  # the organisation's token (RSA-2048 on SoftHSM)
DRAFT = TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf"  # signed by Lê Minh Đức


@pytest.fixture(scope="module")
def slow_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_slow_token(tmp_path_factory.mktemp("unplug"))


@pytest.fixture
def device(slow_module: Path, commune: DemoCommune, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Path:
    """The wrapper forwarding to the session's SoftHSM, without delay; the returned flag
    file unplugs it while it exists."""
    monkeypatch.setenv(ENV_SLOW_MODULE, commune.hsm.module)
    monkeypatch.setenv(ENV_SLOW_SIGN_MS, "0")
    flag = tmp_path / "unplugged"
    monkeypatch.setenv(ENV_UNPLUGGED, str(flag))
    return flag


def assert_valid(data: DataDir, pdf: bytes) -> None:
    report = verify(data, pdf)
    assert report.verdict == "valid", [r.en for s in report.signatures for r in s.reasons]
    sig = report.signatures[-1]
    assert (sig.intact, sig.valid, sig.trusted) == (True, True, True)


def test_the_wrapper_unplugs_and_plugs_back_like_a_usb_token(
        device: Path, slow_module: Path) -> None:
    import pkcs11
    from pkcs11 import KeyType, Mechanism, ObjectClass

    lib = pkcs11.lib(str(slow_module))
    present = [s.get_token().label for s in lib.get_slots(token_present=True)]
    assert SEAL in present
    token = lib.get_token(token_label=SEAL)
    old = token.open(user_pin=DEMO_PIN)
    key: Any = old.get_key(ObjectClass.PRIVATE_KEY, KeyType.RSA, label=SEAL)
    assert key.sign(b"truoc", mechanism=Mechanism.SHA256_RSA_PKCS)

    device.touch()
    with pytest.raises(pkcs11.exceptions.DeviceRemoved):
        key.sign(b"trong luc rut", mechanism=Mechanism.SHA256_RSA_PKCS)
    assert lib.get_slots(token_present=True) == []  # no token in any slot
    assert lib.get_slots(token_present=False)  # the reader (slot) is still there
    with pytest.raises(pkcs11.exceptions.TokenNotPresent):
        token.open(user_pin=DEMO_PIN)
    health = Pkcs11Token(Pkcs11Config(name="seal", module=str(slow_module),
                                      token_label=SEAL, key_label=SEAL)).health()
    assert not health.ok and "token 'ubnd' not found" in health.detail

    device.unlink()
    # back, but the session from before is gone (closed when the device went away)
    with pytest.raises(pkcs11.exceptions.SessionHandleInvalid):
        key.sign(b"sau", mechanism=Mechanism.SHA256_RSA_PKCS)
    with pytest.raises(pkcs11.exceptions.SessionHandleInvalid):
        old.close()  # nothing left to log out of or close
    assert SEAL in [s.get_token().label for s in lib.get_slots(token_present=True)]
    with lib.get_token(token_label=SEAL).open(user_pin=DEMO_PIN) as new:  # log in again
        again: Any = new.get_key(ObjectClass.PRIVATE_KEY, KeyType.RSA, label=SEAL)
        assert again.sign(b"sau", mechanism=Mechanism.SHA256_RSA_PKCS)


def test_a_worker_session_dropped_with_the_token_is_reopened_after_it_is_back(
        device: Path, slow_module: Path, data: DataDir, commune: DemoCommune,
        sample_pdf: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host = DataDir(tmp_path / "host").create()  # the token host's data directory
    host.save_token_settings({"hsm": {"backend": "pkcs11", "module": str(slow_module),
                                      "token_label": SEAL, "key_label": SEAL}})
    monkeypatch.setenv("KYSO_PIN_HSM", DEMO_PIN)
    sessions = TokenSessions(Settings(data_dir=host.root))
    options = SigningOptions(validation_context=validation_context(data.trust_store(),
                                                                   online=True))

    def sign() -> bytes:
        with sessions.signer_for("hsm") as signer:
            return sign_pdf(sample_pdf, signer, options)

    try:
        assert_valid(data, sign())
        assert_valid(data, sign())  # the same open session, no new login

        device.touch()  # pulled out / the HSM connection dropped
        with pytest.raises(TokenRemoved):  # mapped from PKCS#11, so a task retries it
            sign()
        # the session was dropped: the next use opens a new one, and finds no token
        with pytest.raises(TokenNotFound):
            sign()

        device.unlink()  # back: the next use logs in again and signs
        assert_valid(data, sign())
        assert_valid(data, sign())
    finally:
        sessions.close_all()


@pytest.fixture
def admin_client(data: DataDir, commune: DemoCommune, csc_service: CscService,
                 slow_module: Path, device: Path,
                 tmp_path: Path) -> Iterator[Any]:
    """The real app in-process on its own data directory whose tokens.json names several
    server-side tokens, as an administrator."""
    from fastapi.testclient import TestClient

    from api.database import open_database
    from api.demo.accounts import seed_demo_accounts
    from api.demo.commune import demo_people, seed
    from api.http.app import create_app

    service = DataDir(tmp_path / "service").create()
    sessions = open_database(service)
    with sessions() as session, session.begin():
        body = seed(session, commune.pki)
        seed_demo_accounts(session, body, demo_people(session, body))
    service.save_token_settings({
        "ubnd": {"backend": "pkcs11", "module": commune.hsm.module, "token_label": SEAL,
                 "key_label": SEAL},
        "hsm-mang": {"backend": "pkcs11", "module": str(slow_module), "token_label": SEAL,
                     "key_label": SEAL},
        "chuyen-vien-vp": {"backend": "pkcs12",
                           "path": str(commune.pkcs12_path("chuyen-vien-vp"))},
        "thieu-module": {"backend": "pkcs11", "module": str(tmp_path / "khong-co.so"),
                         "token_label": SEAL},
        "csc-tinh": {"backend": "csc", "url": csc_service.base_url,
                     "credential_id": "chu-tich", "access_token": csc_service.static_token},
        "csc-mat-ket-noi": {"backend": "csc", "url": f"http://127.0.0.1:{free_port()}",
                            "credential_id": "chu-tich", "client_id": "kyso",
                            "client_secret": "bi-mat-khong-hien", "timeout": 3},
    })
    app = create_app(Settings(data_dir=service.root, database_url=service.database_url,
                              server_tokens=["ubnd", "hsm-mang"]))
    with TestClient(app) as client:
        yield client


def _login(client: Any, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/login",
                         json={"username": username, "password": f"{username}-demo"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_administrators_see_the_health_of_every_configured_token(
        admin_client: Any, device: Path, csc_service: CscService) -> None:
    auditor = _login(admin_client, "kiemtra")
    assert admin_client.get("/api/v1/admin/tokens", headers=auditor).status_code == 403
    admin = _login(admin_client, "quantri")

    device.touch()
    answer = admin_client.get("/api/v1/admin/tokens", headers=admin)
    assert answer.status_code == 200, answer.text
    assert csc_service.static_token not in answer.text and "bi-mat" not in answer.text
    tokens = {t["name"]: t for t in answer.json()}
    assert sorted(tokens) == ["chuyen-vien-vp", "csc-mat-ket-noi", "csc-tinh", "hsm-mang",
                              "thieu-module", "ubnd"]
    ok = {name: t["ok"] for name, t in tokens.items()}
    assert ok == {"ubnd": True, "hsm-mang": False, "chuyen-vien-vp": True,
                  "thieu-module": False, "csc-tinh": True, "csc-mat-ket-noi": False}
    assert f"'{SEAL}'" in tokens["ubnd"]["detail"]
    assert "token 'ubnd' not found" in tokens["hsm-mang"]["detail"]
    assert "CSC" in tokens["csc-tinh"]["detail"] and "chu-tich" in tokens["csc-tinh"]["detail"]
    assert "Error:" in tokens["csc-mat-ket-noi"]["detail"]
    assert (tokens["ubnd"]["queue"], tokens["ubnd"]["held_here"]) == ("token.ubnd", True)
    assert (tokens["csc-tinh"]["queue"], tokens["csc-tinh"]["held_here"]) == (
        "token.csc-tinh", False)

    device.unlink()  # plugged back in
    again = {t["name"]: t for t in admin_client.get("/api/v1/admin/tokens",
                                                    headers=admin).json()}
    assert again["hsm-mang"]["ok"] and f"'{SEAL}'" in again["hsm-mang"]["detail"]


def _number(symbol: str) -> int:
    match = re.match(r"(\d+)/", symbol)
    assert match, symbol
    return int(match.group(1))


@pytest.mark.slow
def test_issuing_while_the_organisation_token_is_unplugged_retries_and_completes_once(
        tmp_path: Path, slow_module: Path) -> None:
    flag = tmp_path / "unplugged"
    data = DataDir(tmp_path / "data").create()
    env = {k: v for k, v in os.environ.items()
           if k not in ("SOFTHSM2_CONF", "KYSO_DATABASE_URL", "KYSO_BROKER_URL",
                        "KYSO_RESULT_BACKEND")}
    env.update({ENV_SLOW_MODULE: find_softhsm_module(), ENV_SLOW_SIGN_MS: "0",
                ENV_UNPLUGGED: str(flag)})
    service = start_service(data, free_port(), env, tmp_path / "serve.log")
    try:
        # the organisation seal now sits behind the device that can be pulled out
        tokens = data.token_settings()
        tokens[SEAL] = {**tokens[SEAL], "module": str(slow_module)}
        data.save_token_settings(tokens)

        staff = service.login("chuyenvien")
        body_id = staff.get("/api/v1/bodies").json()[0]["id"]
        signer = {s["full_name"]: s["person_id"] for s in
                  staff.get(f"/api/v1/bodies/{body_id}/signers").json()}["Lê Minh Đức"]
        documents = []
        for _ in range(2):
            created = upload(staff, body_id, DRAFT)
            assert created.status_code == 201, created.text
            routed = staff.post(f"/api/v1/documents/{created.json()['id']}/route",
                                json={"signer_person_ids": [signer]})
            assert routed.status_code == 200, routed.text
            documents.append(created.json()["id"])
        vice_chair = service.login("phochutichduc")
        requests = [r["id"] for r in vice_chair.get("/api/v1/queue").json()
                    if r["document_id"] in documents]
        assert vice_chair.post("/api/v1/requests/approve-batch",
                               json={"request_ids": requests}).status_code == 202
        clerk = service.login("vanthu")
        for document_id in documents:
            wait_for(clerk, document_id, "SIGNED", seconds=120)

        first, second = documents
        issue = {"recipients": "Như Điều 3; Lưu: VT."}
        assert clerk.post(f"/api/v1/documents/{first}/issue", json=issue).status_code == 202
        wait_for(clerk, first, "ISSUED", seconds=120)  # the worker's session is open now

        flag.touch()  # the organisation's token is pulled out
        assert clerk.post(f"/api/v1/documents/{second}/issue", json=issue).status_code == 202
        time.sleep(5)
        assert clerk.get(f"/api/v1/documents/{second}").json()["status"] == "SIGNED"
        admin = service.login("quantri")
        seal = {t["name"]: t for t in admin.get("/api/v1/admin/tokens").json()}[SEAL]
        assert not seal["ok"] and seal["held_here"]

        flag.unlink()  # back: the task's retry logs in again and issues
        issued = wait_for(clerk, second, "ISSUED", seconds=150)

        one = clerk.get(f"/api/v1/documents/{first}").json()
        for document in (one, issued):
            assert [v["kind"] for v in document["versions"]].count("ISSUED") == 1
        assert _number(issued["number"]) == _number(one["number"]) + 1  # no gap
        register = clerk.get(f"/api/v1/register/{body_id}/{date.today().year}").json()
        assert sorted(r["document_id"] for r in register) == sorted(documents)  # no duplicate
        auditor = service.login("kiemtra")
        pdf = auditor.get(f"/api/v1/documents/{second}/versions/issued").content
        (report,) = auditor.post("/api/v1/verify", files=[
            ("files", ("issued.pdf", pdf, "application/pdf"))]).json()
        assert report["verdict"] == "valid", report
        assert [s["signer"] for s in report["signatures"]] == ["Lê Minh Đức", "UBND xã Tiên Lữ"]
    finally:
        service.stop()
