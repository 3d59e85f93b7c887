"""The web pages in a real browser: Debian's chromium driven by Playwright against a real
`kyso serve` (API + Celery worker + demo PKI on 127.0.0.1), each role's main path through
the demo commune, bad uploads, refusals, a batch. Screenshots for docs/user-guide."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from common import vietnam_time

from .conftest import TESTS_DATA
from .helpers import verify
from .service_support import Service, embedded_service, wait_for
from .ui_support import (
    browser,
    expect,
    login,
    new_page,
    require_browser,
    screenshot,
    swapped,
    upload_and_route,
)

DRAFT = TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf"
SUBJECT = "Về việc phê duyệt danh sách hộ gia đình được hỗ trợ"
DUC = "Phó Chủ tịch Lê Minh Đức"
SLOW = 120_000  # ms: a worker signs with a timestamp on a 2-core machine


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    require_browser()
    with embedded_service(tmp_path_factory.mktemp("ui")) as running:
        yield running


@pytest.fixture(scope="module")
def chromium(service: Service) -> Iterator[Any]:
    with browser() as launched:
        yield launched


def _page(chromium: Any, service: Service, username: str) -> Any:
    page = new_page(chromium, service.url)
    login(page, username)
    return page


@pytest.mark.slow
def test_each_role_main_path_in_the_browser(service: Service, chromium: Any,
                                            tmp_path: Path) -> None:
    # the login page, and a drafter who uploads a draft and routes it to the vice-chairman
    page = new_page(chromium, service.url)
    page.goto("/")
    assert page.url.endswith("/dang-nhap")
    assert page.get_attribute("html", "lang") == "vi"
    screenshot(page, "dang-nhap")
    page.get_by_label("Tên đăng nhập").fill("chuyenvien")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    assert "tên đăng nhập hoặc mật khẩu không đúng" in page.inner_text("#login-error")
    page.context.close()

    drafter = _page(chromium, service, "chuyenvien")
    assert drafter.url.endswith("/chuyen-vien")  # the home page sends a drafter to their page
    document_id = upload_and_route(drafter, DRAFT, SUBJECT, DUC, SLOW)
    item = drafter.locator(f"#doc-{document_id}")
    expect(item).to_contain_text("Chờ ký")
    expect(item).to_contain_text("Lê Minh Đức")
    # the upload's form is empty again for the next draft (issue 16, point 8)
    expect(drafter.locator("#upload-subject")).to_have_value("")
    # waiting for a person, the list does not poll; it comes again when the drafter
    # comes back to the tab
    with drafter.expect_response(lambda r: "/chuyen-vien/danh-sach" in r.url,
                                 timeout=SLOW) as listed:
        drafter.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    assert listed.value.ok
    expect(drafter.locator("#upload-signer-1")).to_have_value("")
    assert drafter.eval_on_selector("#upload-file", "i => i.files.length") == 0
    expect(drafter.locator("#upload .file-chosen")).to_have_text("Chưa chọn tệp nào")
    screenshot(drafter, "chuyen-vien")

    # the vice-chairman sees it waiting, opens it, approves: the worker signs on his token
    signer = _page(chromium, service, "phochutichduc")
    assert signer.url.endswith("/lanh-dao")
    request = signer.locator(f"article[data-document='{document_id}']")
    assert SUBJECT in request.inner_text()
    with signer.expect_response(re.compile(r"/prepared\.pdf$")) as shown:
        request.get_by_role("link", name="Xem").click()
    assert shown.value.status == 200
    assert shown.value.header_value("content-type") == "application/pdf"
    screenshot(signer, "lanh-dao")
    request.get_by_role("button", name="Phê duyệt và ký").click()
    signer.locator("#progress[data-finished='yes']").wait_for(timeout=SLOW)
    assert "Đã ký xong 1/1" in signer.inner_text("#progress")
    # the queue's refresh (after the approval) takes it off the list
    signer.locator(f"article[data-document='{document_id}']").wait_for(state="detached")

    # the clerk sees the number and date that will be filled, then numbers and seals
    clerk = _page(chromium, service, "vanthu")
    assert clerk.url.endswith("/van-thu")
    waiting = clerk.locator(f"#wait-{document_id}")
    expected = waiting.locator(".next-number").inner_text()
    assert expected.endswith("/QĐ-UBND")
    assert "Tiên Lữ, ngày" in waiting.inner_text()
    # the date line shown is the one the page will print today
    printed = waiting.locator(".printed-date").inner_text()
    today = vietnam_time().date()
    assert printed.endswith(f"năm {today.year}") and f"ngày {today.day:02d} " in printed
    screenshot(clerk, "van-thu")
    waiting.get_by_role("button", name="Cấp số và đóng dấu").click()
    clerk.locator(".task[data-state='SUCCESS']").wait_for(timeout=SLOW)
    assert clerk.locator(".issued-number").inner_text() == expected
    api = service.login("vanthu")
    issued = wait_for(api, document_id, "ISSUED")
    assert issued["number"] == expected
    pdf = api.get(f"/api/v1/documents/{document_id}/versions/issued").content
    # pyHanko validation of both signatures (in a thread: Playwright's loop runs in this one)
    with ThreadPoolExecutor(1) as pool:
        report = pool.submit(verify, service.data, pdf).result()
    assert str(report.verdict) == "valid"
    assert all(s.intact and s.valid and s.trusted for s in report.signatures)
    assert len(report.signatures) == 2
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-", "-"], input=pdf,
                          capture_output=True, check=True).stdout.decode()
    assert printed in [" ".join(line.split()) for line in text.splitlines()]

    # the register: found by search, exported as PDF with progress, then downloaded
    clerk.goto("/so-van-ban")
    clerk.fill("#r-q", expected)
    with swapped(clerk, "/so-van-ban"):
        clerk.get_by_role("button", name="Tìm").click()
    # the rows the search answered (not the page's first list) hold that number alone
    expect(clerk.locator("#register-rows tbody tr")).to_have_count(1)
    expect(clerk.locator("#register-rows td.number")).to_have_text(expected)
    clerk.get_by_role("button", name="Xuất sổ PDF").click()
    link = clerk.locator("#export-area a.download")
    link.wait_for(timeout=SLOW)
    with clerk.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    screenshot(clerk, "so-van-ban")

    # the auditor drops the issued file, reads the report, then the audit trail
    issued_file = tmp_path / "quyet-dinh-da-ban-hanh.pdf"
    issued_file.write_bytes(pdf)
    auditor = _page(chromium, service, "kiemtra")
    assert auditor.url.endswith("/kiem-tra")
    auditor.set_input_files("#verify-files", str(issued_file))
    auditor.get_by_role("button", name="Xác minh").click()
    result = auditor.locator(".report-item")
    result.wait_for(timeout=SLOW)
    assert result.get_attribute("data-verdict") == "valid"
    assert "Lê Minh Đức" in result.inner_text() and "UBND xã Tiên Lữ" in result.inner_text()
    frame = auditor.frame_locator(".report-item iframe")
    expect(frame.locator("body")).to_contain_text("HỢP LỆ")  # once the frame has loaded
    auditor.fill("#t-object", document_id)
    with swapped(auditor, "/kiem-tra/nhat-ky"):  # the filtered trail, not the first one
        auditor.get_by_role("button", name="Lọc").click()
    actions = auditor.locator("#audit li.trail-event").evaluate_all(
        "rows => rows.map(r => r.dataset.action)")
    assert {"UPLOAD", "ROUTE", "APPROVE", "SIGN", "NUMBER", "SEAL", "ISSUE"} <= set(actions)
    screenshot(auditor, "kiem-tra")

    # the administrator adds a person
    admin = _page(chromium, service, "quantri")
    assert admin.url.endswith("/quan-tri")
    admin.fill("#p-name", "Đặng Thị Thử")
    admin.fill("#p-position", "Chuyên viên Phòng Kinh tế")
    admin.select_option("#p-unit", "KT")
    admin.locator("#person-add").get_by_role("button", name="Thêm").click()
    admin.locator("#admin-result .alert-ok").wait_for()
    admin.locator("#people-table td", has_text="Đặng Thị Thử").wait_for()
    screenshot(admin, "quan-tri")
    body_id = api.get("/api/v1/bodies").json()[0]["id"]
    people = service.login("quantri").get(f"/api/v1/admin/bodies/{body_id}/people").json()
    assert any(p["full_name"] == "Đặng Thị Thử" and p["unit"] == "KT" for p in people)


def _encrypted(pdf: bytes) -> bytes:
    import pikepdf

    buffer = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.save(buffer, encryption=pikepdf.Encryption(owner="chu", user="khach", R=6))
    return buffer.getvalue()


@pytest.mark.slow
def test_a_bad_upload_is_refused_in_vietnamese_next_to_the_file_input(
        service: Service, chromium: Any, tmp_path: Path) -> None:
    page = _page(chromium, service, "chuyenvien")
    locked = tmp_path / "co-mat-khau.pdf"
    locked.write_bytes(_encrypted(DRAFT.read_bytes()))
    not_pdf = tmp_path / "khong-phai-pdf.pdf"
    not_pdf.write_bytes("Đây là văn bản thường, không phải PDF".encode())
    for path, words in ((locked, "mã hóa"), (not_pdf, "không phải tệp PDF")):
        page.goto("/chuyen-vien")
        page.set_input_files("#upload-file", str(path))
        page.fill("#upload-subject", SUBJECT)
        page.get_by_role("button", name="Tải lên và trình ký").click()
        error = page.locator("#upload-file + #upload-error .alert-error")  # next to the input
        error.wait_for()
        assert words in error.inner_text(), error.inner_text()
        assert page.locator("#upload-error").get_attribute("role") == "alert"
        assert page.locator("#upload-result .alert-ok").count() == 0
    screenshot(page, "chuyen-vien-loi-tai-len")


@pytest.mark.slow
def test_a_draft_marked_du_thao_is_refused_then_uploaded_with_the_mark_covered(
        service: Service, chromium: Any, tmp_path: Path) -> None:
    from .test_marks import stamped, top_line

    page = _page(chromium, service, "chuyenvien")
    marked = tmp_path / "con-dau-du-thao.pdf"
    marked.write_bytes(stamped(DRAFT, top_line("DỰ THẢO")))
    page.goto("/chuyen-vien")
    page.set_input_files("#upload-file", str(marked))
    page.fill("#upload-subject", SUBJECT)
    page.get_by_role("button", name="Tải lên và trình ký").click()
    error = page.locator("#upload-error .alert-error")
    error.wait_for(timeout=SLOW)
    assert "dòng “DỰ THẢO” ở đầu trang 1" in error.inner_text(), error.inner_text()
    # the drafter ticks the box and uploads again: prepared, the mark off the page
    page.goto("/chuyen-vien")
    page.set_input_files("#upload-file", str(marked))
    page.fill("#upload-subject", SUBJECT)
    page.check("#upload-cover")
    page.get_by_role("button", name="Tải lên và trình ký").click()
    page.locator("#upload-result .alert-ok").wait_for(timeout=SLOW)


@pytest.mark.slow
def test_pages_refuse_what_a_role_may_not_do(service: Service, chromium: Any) -> None:
    # not signed in: to the login page
    anonymous = httpx.get(f"{service.url}/van-thu", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/dang-nhap"
    # a drafter opening the clerk's and the administrator's pages
    page = _page(chromium, service, "chuyenvien")
    for path in ("/van-thu", "/quan-tri", "/lanh-dao"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 403
        assert page.inner_text("h1") == "Bạn không có quyền xem trang này"
        assert "không có quyền" in page.inner_text("[role=alert] >> nth=1")
    # the menu offers only the drafter's page
    page.goto("/chuyen-vien")
    assert page.locator("header nav a").all_inner_texts() == ["Dự thảo của tôi"]
    # a form post without the session's CSRF token is refused, even with the cookie
    cookie = {c["name"]: c["value"] for c in page.context.cookies()}
    forged = httpx.post(f"{service.url}/chuyen-vien/x/thu-hoi", cookies=cookie,
                        headers={"HX-Request": "true"})
    assert forged.status_code == 403 and "tải lại trang" in forged.text


@pytest.mark.slow
def test_a_signer_approves_a_batch_and_follows_its_progress(service: Service,
                                                            chromium: Any) -> None:
    drafter = _page(chromium, service, "chuyenvien")
    ids = [upload_and_route(drafter, DRAFT, f"{SUBJECT} (đợt {n})", DUC, SLOW) for n in (1, 2)]
    signer = _page(chromium, service, "phochutichduc")
    for document_id in ids:
        signer.locator(f"article[data-document='{document_id}'] input[type=checkbox]").check()
    signer.get_by_role("button", name="Phê duyệt và ký các văn bản đã chọn").click()
    signer.locator("#progress[data-finished='yes']").wait_for(timeout=2 * SLOW)
    assert "Đã ký xong 2/2" in signer.inner_text("#progress")
    api = service.login("phochutichduc")
    for document_id in ids:
        assert api.get(f"/api/v1/documents/{document_id}").json()["status"] == "SIGNED"
