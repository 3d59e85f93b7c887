"""The go-live pages in Vietnamese, driven as htmx drives them: the first-run page of an
empty instance, the seal preview and upload with the check's words next to the form, the
staff list, who holds which key with its XLSX, and "Ready to issue?" with what to do."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.datadir import DataDir
from api.http.csrf import session_token
from api.http.deps import COOKIE
from api.settings import Settings
from documents import upgrade_database

from .support.pictures import blue_signature, red_seal

FORM = {"name": "Ủy ban nhân dân xã Đà Bắc", "abbreviation": "UBND", "place_name": "Đà Bắc",
        "organ_id": "000.21.33.H23", "units": "VP = Văn phòng HĐND và UBND",
        "username": "quantri.xa", "display_name": "Đinh Thị Quản",
        "email": "", "password": "mat-khau-rat-dai-2026",
        "password_again": "mat-khau-rat-dai-2026"}
STAFF_CSV = ("Họ và tên;Chức vụ;Đơn vị;Tên đăng nhập;Vai trò;Email\n"
             "Xa Văn Thành;Chủ tịch;;chutich.dabac;Lãnh đạo;\n")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    from api.http.app import create_app

    root = DataDir(tmp_path / "data").create()
    upgrade_database(root.database_url)
    settings = Settings(data_dir=root.root, database_url=root.database_url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _csrf_field(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_an_empty_instance_is_set_up_and_made_ready_from_the_pages(client: TestClient) -> None:
    page = client.get("/khoi-tao")
    assert page.status_code == 200 and "Khởi tạo Kyso" in page.text
    mismatch = client.post("/khoi-tao", data={**FORM, "password_again": "khac",
                                              "csrf": _csrf_field(page.text)})
    assert mismatch.status_code == 400 and "không giống nhau" in mismatch.text
    bad_code = client.post("/khoi-tao", data={**FORM, "organ_id": "H23",
                                              "csrf": _csrf_field(mismatch.text)})
    assert bad_code.status_code == 400 and "mã định danh" in bad_code.text.lower()
    done = client.post("/khoi-tao", data={**FORM, "csrf": _csrf_field(bad_code.text)})
    assert done.status_code == 200 and "Đã tạo Ủy ban nhân dân xã Đà Bắc" in done.text
    assert client.get("/khoi-tao", follow_redirects=False).status_code == 303

    login = client.post("/api/v1/auth/login", json={"username": FORM["username"],
                                                    "password": FORM["password"]})
    assert login.status_code == 200
    csrf = session_token(Settings().secret_key, client.cookies[COOKIE])
    htmx = {"HX-Request": "true", "X-CSRF-Token": csrf}

    hub = client.get("/quan-tri/dua-vao-su-dung")
    assert hub.status_code == 200 and "Chưa có ảnh con dấu" in hub.text
    wrong = client.post("/quan-tri/dua-vao-su-dung/con-dau/xem-truoc",
                        headers={**htmx, "HX-Trigger": "seal-form"},
                        files={"file": ("dau.png", blue_signature(), "image/png")})
    assert wrong.status_code == 422 and "không tròn" in wrong.text
    assert wrong.headers["HX-Retarget"] == "#seal-form-error"
    preview = client.post("/quan-tri/dua-vao-su-dung/con-dau/xem-truoc", headers=htmx,
                          files={"file": ("dau.png", red_seal(), "image/png")})
    assert preview.status_code == 200 and "data:image/png;base64," in preview.text
    assert "Chưa có ảnh con dấu" in client.get("/quan-tri/dua-vao-su-dung").text
    saved = client.post("/quan-tri/dua-vao-su-dung/con-dau", headers=htmx,
                        files={"file": ("dau.png", red_seal(), "image/png")},
                        data={"diameter_mm": "38"})
    assert saved.status_code == 200 and "Đã lưu ảnh con dấu" in saved.text
    assert saved.headers["HX-Trigger"] == "golive-changed"
    assert "Đang dùng" in client.get("/quan-tri/dua-vao-su-dung/noi-dung").text

    staff = client.post("/quan-tri/dua-vao-su-dung/can-bo", headers=htmx,
                        files={"file": ("can-bo.csv", STAFF_CSV.encode(), "text/csv")})
    assert staff.status_code == 200 and "chutich.dabac" in staff.text
    assert "Xa Văn Thành" in client.get("/quan-tri/dua-vao-su-dung").text

    assert "Chưa có chứng thư số nào" in client.get("/quan-tri/chung-thu-so").text
    workbook = client.get("/quan-tri/chung-thu-so.xlsx")
    assert workbook.status_code == 200 and workbook.content.startswith(b"PK")

    ready = client.get("/quan-tri/san-sang")
    assert ready.status_code == 200 and "Chưa sẵn sàng" in ready.text
    assert "Chứng thư số của cơ quan" in ready.text and "Đạt" in ready.text
