"""From an empty server to the first real issued document, with no demo code involved.

The commune's CA is a fresh PKI made by this test (not the demo's); its keys are on SoftHSM
tokens made here; `kyso db upgrade` and `kyso init` create the database and the body; the
rest goes through the running service's API: staff list, the body's CA trusted, seal and
signature pictures, the organisation key and the chairman's authority and certificate,
"Ready to issue?" all green (SMTP included), then upload, route, approve, issue. The issued
file carries the commune's seal picture and certificate and validates against the fresh
root alone. The main screens are then checked in the browser.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pikepdf
import pytest
from asn1crypto import pem
from pikepdf import PdfImage
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from api.datadir import DataDir
from certs import free_port
from signer.prepare import ORGANISATION_FIELD
from tokens import SoftHsm

from .conftest import TESTS_DATA
from .helpers import KYSO
from .service_support import embedded_env, start_service, wait_for
from .support.fresh_pki import FreshPki, Holder, build_fresh_pki, serving
from .support.mail import mail_port_fixture  # noqa: F401
from .support.pictures import blue_signature, red_seal
from .ui_support import browser, new_page, require_browser, screenshot

pytestmark = pytest.mark.slow

DRAFT = TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf"  # KT. CHỦ TỊCH, Lê Minh Đức
PIN = "246810"
BODY = "Ủy ban nhân dân xã Đà Bắc"
ADMIN, ADMIN_PASSWORD = "quantri.dabac", "mat-khau-rat-dai-2026"
SEAL_TOKEN, SIGNER_TOKEN = "ubnd-dabac", "pho-chu-tich-dabac"
STAFF_CSV = ("Họ và tên;Chức vụ;Đơn vị;Tên đăng nhập;Vai trò;Email\n"
             "Lê Minh Đức;Phó Chủ tịch;;pct.dabac;Lãnh đạo;pct@dabac.gov.vn\n"
             "Bùi Thị Hoa;Văn thư;VP;vanthu.dabac;Văn thư;\n"
             "Hà Văn Sơn;Chuyên viên;VP;chuyenvien.dabac;Chuyên viên;\n")


def pem_text(der: bytes) -> str:
    return bytes(pem.armor("CERTIFICATE", der)).decode()


def client_for(url: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=120)
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    return client


def test_an_empty_server_issues_its_first_real_document(tmp_path: Path,
                                                         mail_port: int) -> None:
    data = DataDir(tmp_path / "data").create()
    hsm = SoftHsm.at(data.softhsm)
    public_keys = {}
    for label in (SEAL_TOKEN, SIGNER_TOKEN):
        hsm.init_token(label, "12345678", PIN)
        der = hsm.generate_key(label, PIN, label, "01", "rsa")
        public_keys[label] = bytes(pem.armor("PUBLIC KEY", der))
    pki = build_fresh_pki(tmp_path / "pki", [
        Holder(SEAL_TOKEN, "UBND xã Đà Bắc", BODY, "Văn thư", public_keys[SEAL_TOKEN]),
        Holder(SIGNER_TOKEN, "Lê Minh Đức", BODY, "Lãnh đạo", public_keys[SIGNER_TOKEN],
               "Phó Chủ tịch")])
    for label in (SEAL_TOKEN, SIGNER_TOKEN):
        hsm.store_certificate(label, PIN, label, "01", pki.cert(label).dump())
    data.save_token_settings({label: {"backend": "pkcs11", "module": hsm.module,
                                      "token_label": label, "key_label": label}
                              for label in (SEAL_TOKEN, SIGNER_TOKEN)})

    env = {**embedded_env(), "SOFTHSM2_CONF": str(hsm.conf)}
    for step in (["db", "upgrade"],
                 ["init", "--name", BODY, "--abbreviation", "UBND", "--place", "Đà Bắc",
                  "--organ-id", "000.21.33.H23", "--admin", ADMIN, "--admin-name",
                  "Đinh Thị Quản", "--unit", "VP=Văn phòng HĐND và UBND",
                  "--password-stdin"]):
        done = subprocess.run([KYSO, "--data-dir", str(data.root), *step], env=env,
                              input=ADMIN_PASSWORD + "\n", capture_output=True, text=True,
                              timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
    assert ADMIN_PASSWORD not in done.stdout + done.stderr

    with serving(pki):
        service = start_service(data, free_port(), {
            **env, "KYSO_TSA_URL": pki.tsa_url, "KYSO_SMTP_HOST": "127.0.0.1",
            "KYSO_SMTP_PORT": str(mail_port), "KYSO_SMTP_SENDER": "kyso@dabac.gov.vn",
            "KYSO_PIN_UBND_DABAC": PIN, "KYSO_PIN_PHO_CHU_TICH_DABAC": PIN},
            tmp_path / "serve.log", args=("--no-demo",))
        try:
            go_live_and_issue(service.url, pki, tmp_path)
        finally:
            service.stop()
    assert not data.pki.exists() and set(data.token_settings()) == {SEAL_TOKEN, SIGNER_TOKEN}


def go_live_and_issue(url: str, pki: FreshPki, tmp_path: Path) -> None:
    admin = client_for(url, ADMIN, ADMIN_PASSWORD)
    body_id = admin.get("/api/v1/bodies").json()[0]["id"]
    base = f"/api/v1/admin/bodies/{body_id}"
    staff = admin.post(f"{base}/staff", files={"file": ("can-bo.csv", STAFF_CSV.encode(),
                                                         "text/csv")})
    assert staff.status_code == 201, staff.text
    passwords = {a["username"]: a["temporary_password"] for a in staff.json()["accounts"]}
    vice_chair = next(p for p in staff.json()["people"] if p["full_name"] == "Lê Minh Đức")

    before = {c["name_vi"]: c for c in admin.get(f"{base}/readiness").json()["checks"]}
    assert not before["Ảnh con dấu"]["ok"] and before["Ảnh con dấu"]["todo_vi"]

    assert admin.post("/api/v1/admin/trust-anchors", data={"body_id": str(body_id)}, files={
        "file": ("ca-hoa-binh.pem", pki.root_pem, "application/x-pem-file")}
        ).status_code == 201
    seal_cert, signer_cert = pki.cert(SEAL_TOKEN), pki.cert(SIGNER_TOKEN)
    key = admin.post(f"{base}/organisation-certificate", json={
        "token_name": SEAL_TOKEN, "certificate_pem": pem_text(seal_cert.dump())})
    assert key.status_code == 201, key.text
    authority = admin.post(f"{base}/authorities", json={
        "person_id": vice_chair["id"], "token_name": SIGNER_TOKEN, "designation": "KT",
        "on_behalf_of": "Chủ tịch",
        "certificate_sha256": hashlib.sha256(signer_cert.dump()).hexdigest()})
    assert authority.status_code == 201, authority.text
    enrolled = admin.post(f"{base}/people/{vice_chair['id']}/certificate",
                          json={"certificate_pem": pem_text(signer_cert.dump())})
    assert enrolled.status_code == 201, enrolled.text
    assert admin.post(f"{base}/people/{vice_chair['id']}/signature", files={
        "file": ("chu-ky.png", blue_signature(), "image/png")}).status_code == 201

    # approved, but no seal picture yet: the issue is refused and says what to do
    drafter = client_for(url, "chuyenvien.dabac", passwords["chuyenvien.dabac"])
    with DRAFT.open("rb") as handle:
        document = drafter.post("/api/v1/documents", data={
            "body_id": str(body_id), "doc_type": "quyet-dinh",
            "subject": "Về việc thành lập Tổ công tác chuyển đổi số"},
            files={"file": (DRAFT.name, handle, "application/pdf")})
    assert document.status_code in (200, 201, 202), document.text
    document_id = document.json()["id"]
    assert drafter.post(f"/api/v1/documents/{document_id}/route", json={
        "signer_person_ids": [vice_chair["id"]]}).status_code == 200
    signer = client_for(url, "pct.dabac", passwords["pct.dabac"])
    request_id = next(r["id"] for r in signer.get("/api/v1/queue").json()
                      if r["document_id"] == document_id)
    approved = signer.post(f"/api/v1/requests/{request_id}/approve")
    assert approved.status_code == 202, approved.text
    wait_for(signer, document_id, "SIGNED")
    clerk = client_for(url, "vanthu.dabac", passwords["vanthu.dabac"])
    refused = clerk.post(f"/api/v1/documents/{document_id}/issue",
                         json={"recipients": "Như Điều 3; Lưu: VT."})
    assert refused.status_code == 409, refused.text
    assert "chưa có ảnh con dấu" in refused.json()["error"]["vi"]

    seal = admin.post(f"{base}/seal", files={"file": ("con-dau.png", red_seal(), "image/png")},
                      data={"diameter_mm": "36"})
    assert seal.status_code == 201, seal.text
    ready = admin.get(f"{base}/readiness").json()
    assert ready["ready"], [c for c in ready["checks"] if not c["ok"]]

    assert clerk.post(f"/api/v1/documents/{document_id}/issue",
                      json={"recipients": "Như Điều 3; Lưu: VT."}).status_code == 202
    wait_for(clerk, document_id, "ISSUED", seconds=180)
    issued = clerk.get(f"/api/v1/documents/{document_id}/versions/issued").content
    check_issued(issued, pki, seal=(seal.json()["width_px"], seal.json()["height_px"]))
    (report,) = clerk.post("/api/v1/verify", files=[
        ("files", ("issued.pdf", issued, "application/pdf"))]).json()
    assert report["verdict"] == "valid", report
    keys = admin.get(f"{base}/keys").json()
    assert {k["holder"] for k in keys} >= {"Lê Minh Đức"}
    assert all(k["last_used"] for k in keys if k["holder"] == "Lê Minh Đức")
    (tmp_path / "issued.pdf").write_bytes(issued)
    browse_main_screens(url)


def stamped_images(pdf: bytes, field: str) -> list[Image.Image]:
    """The pictures ``field``'s appearance draws, at any depth."""
    found = []
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        pending = [w.AP.N for w in doc.Root.AcroForm.Fields
                   if str(w.get("/T")) == field and "/AP" in w]
        while pending:
            form = pending.pop()
            resources: Any = form.get("/Resources")
            for xobject in (resources.get("/XObject") or {}).values() if resources else []:
                if xobject.get("/Subtype") == "/Form":
                    pending.append(xobject)
                else:
                    found.append(PdfImage(xobject).as_pil_image())
    return found


def check_issued(issued: bytes, pki: FreshPki, *, seal: tuple[int, int]) -> None:
    """Two signatures (the vice-chair's, then the commune's seal) with the fresh PKI's
    certificates, both valid against its root alone; the uploaded seal picture stamped
    by the organisation signature."""
    signatures = PdfFileReader(io.BytesIO(issued)).embedded_signatures
    assert [s.signer_cert.dump() for s in signatures] == [pki.cert(SIGNER_TOKEN).dump(),
                                                          pki.cert(SEAL_TOKEN).dump()]
    for signature in signatures:
        status = validate_pdf_signature(signature, ValidationContext(
            trust_roots=[pki.root], allow_fetching=True))
        assert status.bottom_line, status.pretty_print_details()
    (picture,) = stamped_images(issued, ORGANISATION_FIELD)
    assert picture.size == seal
    rgb = picture.convert("RGB")
    pixels: list[tuple[int, int, int]] = list(rgb.getdata())
    inked = [p for p in pixels if p != (255, 255, 255) and max(p) - min(p) > 60]
    assert inked and all(r > g and r > b for r, g, b in inked), "the seal is not red"


def browse_main_screens(url: str) -> None:
    """The administrator's go-live screens in chromium: the hub with its versions, the
    preview of a new seal before it is kept, who holds which key, Ready to issue?"""
    require_browser()
    with browser() as launched:
        page = new_page(launched, url)
        page.goto(f"{url}/dang-nhap")
        page.fill("#username", ADMIN)
        page.fill("#password", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{url}/quan-tri/dua-vao-su-dung")
        assert page.locator("#seal-versions tbody tr").count() == 1
        upload = page.locator("#seal-file")
        upload.set_input_files(files=[{"name": "con-dau.png", "mimeType": "image/png",
                                       "buffer": red_seal()}])
        page.click("#seal-form button:not(.primary)")
        page.wait_for_selector("#seal-preview img")
        screenshot(page, "quan-tri-xem-truoc-con-dau")
        page.goto(f"{url}/quan-tri/chung-thu-so")
        assert "Lê Minh Đức" in page.inner_text("#keys")
        screenshot(page, "quan-tri-chung-thu-so")
        page.goto(f"{url}/quan-tri/san-sang")
        assert "Mọi điều kiện đã đạt" in page.inner_text("#ready-verdict")
        screenshot(page, "quan-tri-san-sang")
