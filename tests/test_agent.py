"""Keys where they really are, end to end: `kyso serve` running, `kyso agent` as a separate
process on "the signer's PC" (a SoftHSM the service cannot reach), and a CSC v2 remote-
signing server — staff route, the signer approves a batch, the key signs only digests,
the clerk issues, and every issued document verifies valid."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.demo.demo import DEMO_PIN

from .conftest import TESTS_DATA
from .csc_fixtures import CscService
from .helpers import KYSO
from .service_support import Service, keys_elsewhere, upload, wait_for
from .support.native import ENV_REMOVE_AFTER, ENV_SLOW_MODULE, build_slow_token

DRAFT_DUC = TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf"  # signed by Lê Minh Đức
DRAFT_HUNG = TESTS_DATA / "drafts" / "a_quyet_dinh_1trang.pdf"  # by Nguyễn Văn Hùng


@dataclass
class Setting:
    service: Service
    body_id: int
    pc: Path  # SOFTHSM2_CONF of the vice-chair's own PC: only his token is there
    softhsm_module: str
    slow_module: Path
    csc: CscService
    other_pc: Path  # a PC with only the expired official's token


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    root = tmp_path_factory.mktemp("agent")
    # the vice-chair's USB token is on his PC, the expired one on another: the service
    # sees neither
    with keys_elsewhere(root, moved=("pho-chu-tich-duc", "het-han")) as keys:
        yield Setting(keys.service, keys.body_id, keys.pc("pho-chu-tich-duc"),
                      keys.commune.hsm.module, build_slow_token(root / "native"), keys.csc,
                      keys.pc("het-han"))


def route_and_approve(setting: Setting, signer: str, username: str, draft: Path,
                      count: int) -> tuple[str, list[str]]:
    """Staff upload ``count`` drafts and route each to ``signer``, who approves them as one
    batch: (batch id, document ids)."""
    staff = setting.service.login("chuyenvien")
    signers = {s["full_name"]: s["person_id"] for s in
               staff.get(f"/api/v1/bodies/{setting.body_id}/signers").json()}
    documents = []
    for _ in range(count):
        created = upload(staff, setting.body_id, draft)
        assert created.status_code == 201, created.text
        routed = staff.post(f"/api/v1/documents/{created.json()['id']}/route",
                            json={"signer_person_ids": [signers[signer]]})
        assert routed.status_code == 200, routed.text
        documents.append(created.json()["id"])
    me = setting.service.login(username)
    requests = [r["id"] for r in me.get("/api/v1/queue").json() if r["document_id"] in documents]
    approved = me.post("/api/v1/requests/approve-batch", json={"request_ids": requests})
    assert approved.status_code == 202, approved.text
    assert len(approved.json()["job_ids"]) == count
    return approved.json()["batch"], documents


def all_prepared(setting: Setting, username: str, count: int) -> None:
    """Give the service time to prepare ``count`` digests for ``username``'s key (it can
    only once the agent has handed over the certificate, i.e. after an earlier run)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(jobs_of(setting, username)) < count:
        time.sleep(0.3)


def run_agent(setting: Setting, *args: str, stdin: str = f"{DEMO_PIN}\n",
              conf: Path | None = None, module: str | None = None,
              extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOFTHSM2_CONF": str(conf or setting.pc),
           "KYSO_PASSWORD": "phochutichduc-demo", "COLUMNS": "120", **(extra_env or {})}
    return subprocess.run(
        [KYSO, "agent", "--service", setting.service.url, "--user", "phochutichduc",
         "--module", module or setting.softhsm_module, "--once", "--yes", "--wait", "20",
         *args], input=stdin, env=env, capture_output=True, text=True, timeout=300)


def issue_and_verify(setting: Setting, documents: list[str], signer: str) -> None:
    clerk = setting.service.login("vanthu")
    for document_id in documents:
        wait_for(clerk, document_id, "SIGNED", seconds=120)
        queued = clerk.post(f"/api/v1/documents/{document_id}/issue",
                            json={"recipients": "Như Điều 3; Lưu: VT."})
        assert queued.status_code == 202, queued.text
    auditor = setting.service.login("kiemtra")
    files = []
    for document_id in documents:
        wait_for(clerk, document_id, "ISSUED", seconds=120)
        pdf = auditor.get(f"/api/v1/documents/{document_id}/versions/issued").content
        files.append(("files", (f"{document_id}.pdf", pdf, "application/pdf")))
    reports = auditor.post("/api/v1/verify", files=files).json()
    assert [r["verdict"] for r in reports] == ["valid"] * len(documents)
    for report in reports:
        assert [s["signer"] for s in report["signatures"]] == [signer, "UBND xã Tiên Lữ"]


def jobs_of(setting: Setting, username: str) -> list[dict[str, Any]]:
    answer: dict[str, Any] = setting.service.login(username).get("/api/v1/agent/jobs").json()
    return list(answer["jobs"])


@pytest.mark.slow
def test_the_agent_signs_a_batch_of_ten_with_one_pin_on_a_token_the_service_cannot_reach(
        setting: Setting) -> None:
    _, documents = route_and_approve(setting, "Lê Minh Đức", "phochutichduc", DRAFT_DUC, 10)
    done = run_agent(setting)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Đã ký 10/10" in done.stdout
    assert "documents to sign" in done.stdout and "phê duyệt danh" in done.stdout  # what it signs
    assert done.stdout.count("/versions/prepared") == 10  # a link to open each one
    assert done.stderr.count("Mã PIN của USB token") == 1  # one PIN entry for the batch
    assert DEMO_PIN not in done.stdout + done.stderr
    issue_and_verify(setting, documents, "Lê Minh Đức")


@pytest.mark.slow
def test_a_wrong_pin_signs_nothing_and_is_not_retried(setting: Setting) -> None:
    _, documents = route_and_approve(setting, "Lê Minh Đức", "phochutichduc", DRAFT_DUC, 2)
    wrong = run_agent(setting, stdin="111111\n")
    assert wrong.returncode == 2, wrong.stdout + wrong.stderr
    assert "mã PIN không đúng" in wrong.stderr and "không tự thử lại" in wrong.stderr
    assert {j["document_id"] for j in jobs_of(setting, "phochutichduc")} >= set(documents)
    # the right PIN then signs both
    assert run_agent(setting).returncode == 0
    issue_and_verify(setting, documents, "Lê Minh Đức")


@pytest.mark.slow
def test_a_token_pulled_out_mid_batch_finishes_what_was_signed_and_keeps_the_rest(
        setting: Setting) -> None:
    _, documents = route_and_approve(setting, "Lê Minh Đức", "phochutichduc", DRAFT_DUC, 5)
    all_prepared(setting, "phochutichduc", 5)
    pulled = run_agent(setting, module=str(setting.slow_module), extra_env={
        ENV_SLOW_MODULE: setting.softhsm_module, ENV_REMOVE_AFTER: "2",
        "KYSO_SLOW_SIGN_MS": "50"})
    assert pulled.returncode == 2, pulled.stdout + pulled.stderr
    assert re.search(r"dừng sau 2/[3-5] văn bản", pulled.stderr), pulled.stderr
    assert "cắm lại USB token" in pulled.stderr
    clerk = setting.service.login("vanthu")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = [clerk.get(f"/api/v1/documents/{d}").json()["status"] for d in documents]
        if statuses.count("SIGNED") == 2:
            break
        time.sleep(0.3)
    assert sorted(statuses) == ["AWAITING_SIGNATURE"] * 3 + ["SIGNED"] * 2
    for document_id in documents:  # nothing half-signed: one approved version or none
        kinds = [v["kind"] for v in clerk.get(f"/api/v1/documents/{document_id}").json()[
            "versions"]]
        assert kinds.count("APPROVED") <= 1
    assert len([j for j in jobs_of(setting, "phochutichduc")
                if j["document_id"] in documents]) == 3
    again = run_agent(setting)  # the token is back: the other three are signed
    assert again.returncode == 0 and "3/3" in again.stdout, again.stdout + again.stderr
    issue_and_verify(setting, documents, "Lê Minh Đức")


@pytest.mark.slow
def test_the_agent_refuses_a_token_with_another_certificate(setting: Setting) -> None:
    other_pc = setting.other_pc
    refused = run_agent(setting, conf=other_pc)
    assert refused.returncode == 2
    assert "không phải chứng thư đã đăng ký" in refused.stderr


@pytest.mark.slow
def test_the_agent_refuses_an_expired_certificate_before_asking_the_pin(
        setting: Setting) -> None:
    import hashlib

    from api.demo.demo import provision as _provision

    admin = setting.service.login("quantri")
    base = f"/api/v1/admin/bodies/{setting.body_id}"
    pki = _provision(setting.service.data.softhsm, setting.service.data.pki).pki
    person = admin.post(f"{base}/people", json={"full_name": "Đỗ Văn Cũ",
                                                "position": "Phó Chủ tịch"}).json()
    admin.post(f"{base}/authorities", json={
        "person_id": person["person_id"], "token_name": "agent", "designation": "KT",
        "certificate_sha256": hashlib.sha256(pki.cert("het-han").dump()).hexdigest()})
    admin.post(f"{base}/users", json={"username": "dovancu", "password": "do-van-cu-mat-khau",
                                      "display_name": "Đỗ Văn Cũ", "roles": ["SIGNER"],
                                      "person_id": person["person_id"]})
    expired = subprocess.run(
        [KYSO, "agent", "--service", setting.service.url, "--user", "dovancu", "--module",
         setting.softhsm_module, "--once", "--yes"], input="", capture_output=True, text=True,
        timeout=120, env={**os.environ, "KYSO_PASSWORD": "do-van-cu-mat-khau",
                          "SOFTHSM2_CONF": str(setting.other_pc)})
    assert expired.returncode == 2
    assert "hết hạn" in expired.stderr and "PIN" not in expired.stderr


@pytest.mark.slow
def test_a_remote_signing_service_signs_a_batch_with_one_authorisation(
        setting: Setting) -> None:
    batch, documents = route_and_approve(setting, "Nguyễn Văn Hùng", "chutich", DRAFT_HUNG, 10)
    chair = setting.service.login("chutich")
    wrong = chair.post(f"/api/v1/remote/batches/{batch}/sign", json={"pin": "000000"})
    assert wrong.status_code == 422 and "PIN" in wrong.json()["error"]["vi"]
    signed = chair.post(f"/api/v1/remote/batches/{batch}/sign", json={"pin": DEMO_PIN})
    assert signed.status_code == 200, signed.text
    assert signed.json()["signed"] == 10
    assert DEMO_PIN not in (setting.service.data.root.parent / "serve.log").read_text()
    issue_and_verify(setting, documents, "Nguyễn Văn Hùng")
    again = chair.post(f"/api/v1/remote/batches/{batch}/sign", json={"pin": DEMO_PIN})
    assert again.status_code == 409  # nothing left to sign: no double signature


@pytest.mark.slow
def test_kyso_doctor_finds_everything_in_order_on_the_signers_pc(setting: Setting) -> None:
    """The official who "cannot sign" runs `kyso doctor` against the running service: the
    token, its certificate (the one registered for him), PIN state, chain, revocation,
    clock and service all check out; with another token the mismatch is named."""
    def doctor(conf: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KYSO, "doctor", "--data-dir", str(setting.service.data.root), "--module",
             setting.softhsm_module, "--service", setting.service.url, "--user",
             "phochutichduc", "--json"], capture_output=True, text=True, timeout=120,
            env={**os.environ, "SOFTHSM2_CONF": str(conf),
                 "KYSO_PASSWORD": "phochutichduc-demo"})

    import json

    good = doctor(setting.pc)
    assert good.returncode == 0, good.stdout + good.stderr
    checks = {c["name"]: c for c in json.loads(good.stdout)["checks"]}
    assert all(c["ok"] for c in checks.values()), checks
    assert {"module", "token", "certificate", "chain", "service", "clock",
            "registered"} <= set(checks)
    wrong = doctor(setting.other_pc)
    assert wrong.returncode == 2
    failed = {c["name"]: c for c in json.loads(wrong.stdout)["checks"] if c["ok"] is False}
    assert "certificate" in failed and failed["certificate"]["next_step_vi"]
