"""Going live over the JSON API of a fresh instance with no demo: the first run, the staff
list, the seal and signature pictures with their checks, versions and preview, a person's
certificate checked against what the body trusts (a fresh PKI of the test's own), who
holds which key and "Ready to issue?"."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import pem
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from PIL import Image

from api.datadir import DataDir
from api.settings import Settings
from documents import AuditEvent, upgrade_database
from documents.db import create_engine_for, session_factory

from .support.fresh_pki import FreshPki, Holder, build_fresh_pki, serving
from .support.pictures import blue_signature, grey_signature, red_seal

ADMIN = {"username": "quantri.xa", "password": "mat-khau-rat-dai-2026",
         "display_name": "Đinh Thị Quản"}
FIRST_RUN = {"name": "Ủy ban nhân dân xã Đà Bắc", "abbreviation": "UBND",
             "place_name": "Đà Bắc", "organ_id": "000.21.33.H23",
             "units": [{"name": "Văn phòng HĐND và UBND", "abbreviation": "VP"}],
             "admin": ADMIN}
STAFF_CSV = ("Họ và tên;Chức vụ;Đơn vị;Tên đăng nhập;Vai trò;Email\n"
             "Xa Văn Thành;Chủ tịch;;chutich.dabac;Lãnh đạo;\n"
             "Bùi Thị Hoa;Văn thư;VP;vanthu.dabac;Văn thư;\n")


def pem_of(cert: Any) -> str:
    return bytes(pem.armor("CERTIFICATE", cert.dump())).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshPki]:
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    built = build_fresh_pki(tmp_path_factory.mktemp("fresh-pki"), [
        Holder("chu-tich", "Xa Văn Thành", "UBND xã Đà Bắc", "Lãnh đạo", key, "Chủ tịch")])
    with serving(built) as served:
        yield served


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    from api.http.app import create_app

    root = DataDir(tmp_path / "data").create()
    upgrade_database(root.database_url)
    app = create_app(Settings(data_dir=root.root, database_url=root.database_url))
    with TestClient(app) as test_client:
        yield test_client


def logged_in(client: TestClient, username: str, password: str) -> None:
    answer = client.post("/api/v1/auth/login",
                         json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    client.cookies.clear()


def test_a_commune_goes_live_over_the_api(client: TestClient, pki: FreshPki,
                                          tmp_path: Path) -> None:
    assert client.get("/api/v1/setup").json() == {"empty": True}
    made = client.post("/api/v1/setup", json=FIRST_RUN)
    assert made.status_code == 201, made.text
    body_id = made.json()["body_id"]
    assert client.get("/api/v1/setup").json() == {"empty": False}
    again = client.post("/api/v1/setup", json={**FIRST_RUN, "name": "UBND xã Khác"})
    assert again.status_code == 409 and "đã được khởi tạo" in again.json()["error"]["vi"]

    logged_in(client, ADMIN["username"], ADMIN["password"])
    staff = client.post(f"/api/v1/admin/bodies/{body_id}/staff",
                        files={"file": ("can-bo.csv", STAFF_CSV.encode(), "text/csv")})
    assert staff.status_code == 201, staff.text
    accounts = {a["username"]: a["temporary_password"] for a in staff.json()["accounts"]}
    assert set(accounts) == {"chutich.dabac", "vanthu.dabac"}
    chairman = next(p for p in staff.json()["people"] if p["position"] == "Chủ tịch")

    # the seal: refused with the check's words when wrong, each good upload a version
    wrong = client.post(f"/api/v1/admin/bodies/{body_id}/seal",
                        files={"file": ("dau.png", blue_signature(), "image/png")})
    assert wrong.status_code == 422 and "tròn" in wrong.json()["error"]["vi"], wrong.text
    for diameter in ("36", "38"):
        seal = client.post(f"/api/v1/admin/bodies/{body_id}/seal",
                           files={"file": ("dau.png", red_seal(), "image/png")},
                           data={"diameter_mm": diameter})
        assert seal.status_code == 201, seal.text
    versions = client.get(f"/api/v1/admin/bodies/{body_id}/seal").json()
    assert [v["width_mm"] for v in versions] == [38.0, 36.0]
    assert [v["current"] for v in versions] == [True, False]

    signature_url = f"/api/v1/admin/bodies/{body_id}/people/{chairman['id']}/signature"
    grey = client.post(signature_url,
                       files={"file": ("ky.png", grey_signature(), "image/png")})
    assert grey.status_code == 422 and "xanh" in grey.json()["error"]["vi"]
    # the preview before use: the block with the new signature and the current seal
    preview = client.post(f"/api/v1/admin/bodies/{body_id}/preview.png",
                          data={"kind": "signature", "person_id": str(chairman["id"])},
                          files={"file": ("ky.png", blue_signature(), "image/png")})
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
    shown = Image.open(io.BytesIO(preview.content)).convert("RGB")
    colours: set[tuple[int, int, int]] = set(shown.getdata())
    assert any(r > 150 and g < 80 and b < 80 for r, g, b in colours), "no red seal"
    assert any(b > 150 and r < 80 for r, g, b in colours), "no blue signature"
    assert client.get(signature_url).json() == []  # a preview keeps nothing
    assert client.post(signature_url, files={
        "file": ("ky.png", blue_signature(), "image/png")}).status_code == 201

    # the chairman's certificate: not trusted until the body trusts its CA
    cert = pki.cert("chu-tich")
    authority = client.post(f"/api/v1/admin/bodies/{body_id}/authorities", json={
        "person_id": chairman["id"], "token_name": "chu-tich-dabac",
        "designation": "TM", "on_behalf_of": "Ủy ban nhân dân",
        "certificate_sha256": hashlib.sha256(cert.dump()).hexdigest()})
    assert authority.status_code == 201, authority.text
    enrol_url = f"/api/v1/admin/bodies/{body_id}/people/{chairman['id']}/certificate"
    untrusted = client.post(enrol_url, json={"certificate_pem": pem_of(cert)})
    assert untrusted.status_code >= 400 and untrusted.json()["error"]["vi"]
    anchor = client.post("/api/v1/admin/trust-anchors", data={"body_id": str(body_id)},
                         files={"file": ("ca.pem", pki.root_pem, "application/x-pem-file")})
    assert anchor.status_code == 201, anchor.text
    enrolled = client.post(enrol_url, json={"certificate_pem": pem_of(cert)})
    assert enrolled.status_code == 201, enrolled.text
    assert "Xa Văn Thành" in enrolled.json()["subject"]

    keys = client.get(f"/api/v1/admin/bodies/{body_id}/keys").json()
    assert [(k["holder"], k["serial"]) for k in keys] == [
        ("Xa Văn Thành", format(cert.serial_number, "X"))]
    workbook = client.get(f"/api/v1/admin/bodies/{body_id}/keys.xlsx")
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    assert any("Xa Văn Thành" in str(cell.value) for row in sheet.iter_rows()
               for cell in row)

    ready = client.get(f"/api/v1/admin/bodies/{body_id}/readiness").json()
    checks = {c["name_vi"]: c for c in ready["checks"]}
    assert not ready["ready"]
    assert checks["Ảnh con dấu"]["ok"]
    assert not checks["Chứng thư số của cơ quan"]["ok"]
    assert checks["Chứng thư số của cơ quan"]["todo_vi"]

    # another body's administrator, or a clerk, may not touch these
    logged_in(client, "vanthu.dabac", accounts["vanthu.dabac"])
    refused = client.post(f"/api/v1/admin/bodies/{body_id}/seal",
                          files={"file": ("dau.png", red_seal(), "image/png")})
    assert refused.status_code == 403

    engine = create_engine_for(f"sqlite:///{tmp_path / 'data' / 'kyso.db'}")
    with session_factory(engine)() as session:
        kinds = [e.details_dict.get("kind") for e in session.query(AuditEvent)
                 if e.object_type == "picture"]
    engine.dispose()
    assert kinds == ["seal", "seal", "signature"]
