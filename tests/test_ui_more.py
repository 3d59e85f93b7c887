"""The web pages' other paths in a real browser (Debian's chromium, Playwright) against a
real `kyso serve`: a batch signed by `kyso agent` on the vice-chair's PC while the page
follows it, a batch signed by a CSC v2 remote-signing service with the PIN typed in the
page, a return with a reason and a corrected draft, the clerk's attachment and SAO Y copy,
the administrator's signing authority, account and deactivation, and the public
verification page. Screenshots for docs/user-guide."""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.demo.demo import DEMO_PIN
from certs import DemoPki

from .conftest import TESTS_DATA
from .helpers import KYSO, verify
from .service_support import Service, keys_elsewhere, upload, wait_for
from .ui_support import (
    PHONE,
    browser,
    expect,
    login,
    new_page,
    require_browser,
    screenshot,
    upload_and_route,
)

DRAFT_DUC = TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf"  # signed by Lê Minh Đức
DRAFT_HUNG = TESTS_DATA / "drafts" / "a_quyet_dinh_1trang.pdf"  # by Nguyễn Văn Hùng
ANNEX = TESTS_DATA / "drafts" / "e_bao_cao_bang.pdf"
DUC = "Phó Chủ tịch Lê Minh Đức"
HUNG = "Chủ tịch Nguyễn Văn Hùng"
SUBJECT = "Về việc hỗ trợ hộ gia đình khó khăn"
SLOW = 120_000  # ms: workers sign with a timestamp on a busy 2-core machine


@dataclass
class Setting:
    service: Service
    body_id: int
    pc: Path  # SOFTHSM2_CONF of the vice-chair's own PC: only his token is there
    module: str
    pki: DemoPki
    #: What earlier tests made for later ones (document ids), in file order.
    made: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    require_browser()
    with keys_elsewhere(tmp_path_factory.mktemp("ui-more")) as keys:  # his token, his PC
        yield Setting(keys.service, keys.body_id, keys.pc("pho-chu-tich-duc"),
                      keys.commune.hsm.module, keys.commune.pki)


@pytest.fixture(scope="module")
def chromium(setting: Setting) -> Iterator[Any]:
    with browser() as launched:
        yield launched


def _page(chromium: Any, setting: Setting, username: str, **options: Any) -> Any:
    page = new_page(chromium, setting.service.url, **options)
    login(page, username)
    return page


def _signed(setting: Setting) -> str:
    """A document signed on a server-side token (Trần Thị Thu Hà's), made over the API: what
    the clerk's test starts from when the agent's test did not run before it."""
    staff = setting.service.login("chuyenvien")
    created = upload(staff, setting.body_id, TESTS_DATA / "drafts" / "b_cong_van_vhxh_1trang.pdf",
                     "cong-van")
    assert created.status_code == 201, created.text
    document_id: str = created.json()["id"]
    signers = {s["full_name"]: s["person_id"] for s in
               staff.get(f"/api/v1/bodies/{setting.body_id}/signers").json()}
    staff.post(f"/api/v1/documents/{document_id}/route",
               json={"signer_person_ids": [signers["Trần Thị Thu Hà"]]})
    vice_chair = setting.service.login("phochutich")
    request_id = next(r["id"] for r in vice_chair.get("/api/v1/queue").json()
                      if r["document_id"] == document_id)
    assert vice_chair.post(f"/api/v1/requests/{request_id}/approve").status_code == 202
    wait_for(vice_chair, document_id, "SIGNED", seconds=SLOW / 1000)
    return document_id


def _issued(setting: Setting) -> str:
    """A document issued over the API, for the public page's test run on its own."""
    document_id = _signed(setting)
    clerk = setting.service.login("vanthu")
    assert clerk.post(f"/api/v1/documents/{document_id}/issue",
                      json={"recipients": "Như trên; Lưu: VT."}).status_code == 202
    wait_for(clerk, document_id, "ISSUED", seconds=SLOW / 1000)
    return document_id


def _valid(setting: Setting, document_id: str, kind: str, signatures: int) -> None:
    """The stored ``kind`` version validates with pyHanko: intact, valid, trusted."""
    pdf = setting.service.login("kiemtra").get(
        f"/api/v1/documents/{document_id}/versions/{kind}").content
    with ThreadPoolExecutor(1) as pool:  # Playwright's event loop runs in this thread
        report = pool.submit(verify, setting.service.data, pdf).result()
    assert str(report.verdict) == "valid", report
    assert len(report.signatures) == signatures
    assert all(s.intact and s.valid and s.trusted for s in report.signatures)


def _run_agent(setting: Setting, pin: str = DEMO_PIN) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOFTHSM2_CONF": str(setting.pc),
           "KYSO_PASSWORD": "phochutichduc-demo", "COLUMNS": "120"}
    return subprocess.run(
        [KYSO, "agent", "--service", setting.service.url, "--user", "phochutichduc",
         "--module", setting.module, "--once", "--yes", "--wait", "20"],
        input=f"{pin}\n", env=env, capture_output=True, text=True, timeout=300)


def _pick_and_approve(page: Any, document_ids: list[str]) -> None:
    for document_id in document_ids:
        page.locator(f"article[data-document='{document_id}'] input[type=checkbox]").check()
    page.get_by_role("button", name="Phê duyệt và ký các văn bản đã chọn").click()
    page.locator("#jobs").wait_for(timeout=SLOW)


@pytest.mark.slow
def test_a_batch_approved_in_the_browser_is_signed_by_the_agent_on_his_pc(
        setting: Setting, chromium: Any) -> None:
    drafter = _page(chromium, setting, "chuyenvien")
    ids = [upload_and_route(drafter, DRAFT_DUC, f"{SUBJECT} (đợt {n})", DUC) for n in (1, 2, 3)]

    signer = _page(chromium, setting, "phochutichduc")
    assert signer.locator("#channel").get_attribute("data-channel") == "AGENT"
    assert "Kyso Agent" in signer.inner_text("#channel")  # the page says who will sign
    phone = _page(chromium, setting, "phochutichduc", viewport=PHONE)
    phone.locator(f"article[data-document='{ids[0]}']").wait_for()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the queue is {width}px wide on a 390px phone"
    screenshot(phone, "lanh-dao-dien-thoai")
    phone.context.close()

    _pick_and_approve(signer, ids)
    jobs = signer.locator("#jobs")
    assert jobs.get_attribute("data-finished") == "no"
    assert "0/3" in jobs.inner_text() and "kyso agent" in jobs.inner_text()
    screenshot(signer, "lanh-dao-ky-lo")

    done = _run_agent(setting)  # the vice-chair's PC: PIN once on stdin, signs the digests
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Đã ký 3/3" in done.stdout
    assert DEMO_PIN not in done.stdout + done.stderr
    signer.locator("#jobs[data-finished='yes']").wait_for(timeout=SLOW)
    assert "Lô đã xong: 3/3" in signer.inner_text("#jobs")
    assert signer.locator("#jobs .badge.DONE").count() == 3
    for document_id in ids:
        assert signer.locator(f"#queue article[data-document='{document_id}']").count() == 0
    drafter.goto("/chuyen-vien")
    for document_id in ids:
        assert drafter.locator(f"#doc-{document_id}").get_attribute("data-status") == "SIGNED"
        _valid(setting, document_id, "approved", 1)
    setting.made["signed"] = ids


@pytest.mark.slow
def test_a_remote_signer_types_the_pin_in_the_page(setting: Setting, chromium: Any) -> None:
    drafter = _page(chromium, setting, "chuyenvien")
    ids = [upload_and_route(drafter, DRAFT_HUNG, f"{SUBJECT} (ký từ xa {n})", HUNG) for n in (1, 2)]

    chair = _page(chromium, setting, "chutich")
    assert chair.locator("#channel").get_attribute("data-channel") == "REMOTE"
    _pick_and_approve(chair, ids)
    assert "2" in chair.inner_text("#jobs")
    chair.fill("#remote-pin", "000000")
    # the first PIN takes the certificate from the service, the worker prepares the jobs'
    # digests (up to 120 s on a loaded machine), then the service refuses the PIN
    with chair.expect_response(lambda r: "/lanh-dao/ky-tu-xa/" in r.url, timeout=2 * SLOW):
        chair.get_by_role("button", name="Ký cả lô").click()
    error = chair.locator("#remote-pin ~ #remote-error .alert-error")  # next to the PIN field
    expect(error).to_contain_text("PIN")
    expect(error).to_contain_text("Lỗi")
    assert chair.locator("#jobs").get_attribute("data-finished") == "no"
    # the batch's status refreshes under the form: prepared, waiting for the PIN; the
    # form is not replaced, the typed PIN stays
    expect(chair.locator("#jobs-status .badge.READY")).to_have_count(2, timeout=SLOW)
    assert chair.input_value("#remote-pin") == "000000"
    screenshot(chair, "lanh-dao-sai-pin")

    chair.fill("#remote-pin", DEMO_PIN)
    chair.get_by_role("button", name="Ký cả lô").click()
    chair.locator("#jobs[data-finished='yes']").wait_for(timeout=2 * SLOW)
    assert "Lô đã xong: 2/2" in chair.inner_text("#jobs")
    screenshot(chair, "lanh-dao-ky-tu-xa")
    for document_id in ids:
        wait_for(setting.service.login("vanthu"), document_id, "SIGNED", seconds=SLOW / 1000)
        _valid(setting, document_id, "approved", 1)
    log = (setting.service.data.root.parent / "serve.log").read_text()
    assert DEMO_PIN not in log


def _corrected(pdf: bytes) -> bytes:
    """The draft as its author saves it again after the correction (another file)."""
    import pikepdf

    buffer = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.docinfo["/Title"] = "Dự thảo đã sửa theo ý kiến lãnh đạo"
        doc.save(buffer)
    return buffer.getvalue()


@pytest.mark.slow
def test_a_returned_draft_is_corrected_and_routed_again(setting: Setting, chromium: Any,
                                                        tmp_path: Path) -> None:
    drafter = _page(chromium, setting, "chuyenvien")
    with drafter.expect_download() as download:  # the demo's sample draft, for the guide
        drafter.get_by_role("link", name="Tải Quyết định mẫu").click()
    sample = tmp_path / "du-thao-mau.pdf"
    download.value.save_as(str(sample))
    assert sample.read_bytes().startswith(b"%PDF")
    document_id = upload_and_route(drafter, sample, f"{SUBJECT} (cần sửa)", DUC)

    signer = _page(chromium, setting, "phochutichduc")
    item = signer.locator(f"article[data-document='{document_id}']")
    item.locator("summary", has_text="Trả lại").click()
    reason = "Thiếu danh sách hộ kèm theo; đề nghị bổ sung Điều 2."
    item.get_by_label("Lý do trả lại").fill(reason)
    item.get_by_role("button", name="Trả lại cho người soạn").click()
    signer.locator("#sign-progress .alert-ok").wait_for()
    assert "Đã trả lại" in signer.inner_text("#sign-progress")
    signer.locator(f"#queue article[data-document='{document_id}']").wait_for(state="detached")

    drafter.goto("/chuyen-vien")
    returned = drafter.locator(f"#doc-{document_id}")
    assert returned.get_attribute("data-status") == "RETURNED"
    assert reason in returned.locator(".returned-reason").inner_text()
    assert "Lê Minh Đức" in returned.locator(".returned-reason").inner_text()
    screenshot(drafter, "chuyen-vien-tra-lai")
    corrected = tmp_path / "du-thao-da-sua.pdf"
    corrected.write_bytes(_corrected(sample.read_bytes()))
    returned.locator(f"#fix-{document_id}-file").set_input_files(str(corrected))
    # the signer it went to is chosen already: sending the corrected draft routes it again
    expect(returned.locator(f"#fix-{document_id}-1 option:checked")).to_have_text(DUC)
    returned.get_by_role("button", name="Gửi dự thảo đã sửa").click()
    drafter.locator(f"#doc-{document_id}[data-status='AWAITING_SIGNATURE']").wait_for(
        timeout=SLOW)
    versions = drafter.locator(f"#doc-{document_id} a[target=_blank]").all_inner_texts()
    assert "Dự thảo đã sửa lần 1" in versions and "Dự thảo" in versions, versions
    assert drafter.locator(f"#doc-{document_id} .returned-reason").count() == 0
    signer.reload()
    assert signer.locator(f"article[data-document='{document_id}']").count() == 1
    api = setting.service.login("chuyenvien")
    kinds = [v["kind"] for v in api.get(f"/api/v1/documents/{document_id}").json()["versions"]]
    assert kinds.count("DRAFT") == 2  # the first draft is kept, never overwritten


@pytest.mark.slow
def test_the_clerk_issues_then_adds_an_attachment_and_a_sao_y_copy(
        setting: Setting, chromium: Any) -> None:
    document_id = setting.made["signed"][0] if "signed" in setting.made else _signed(setting)
    clerk = _page(chromium, setting, "vanthu")
    clerk.locator(f"#wait-{document_id}").get_by_role("button",
                                                      name="Cấp số và đóng dấu").click()
    clerk.locator("#task-area .task[data-state='SUCCESS']").wait_for(timeout=SLOW)
    number = clerk.locator(".issued-number").inner_text()
    issued = clerk.locator(f"#issued-{document_id}")
    issued.wait_for()
    _valid(setting, document_id, "issued", 2)

    issued.locator("summary", has_text="Phụ lục và bản sao").click()
    issued.get_by_label("Phụ lục (PDF) để ký số").set_input_files(str(ANNEX))
    issued.get_by_role("button", name="Ký số phụ lục").click()
    clerk.locator("#task-area .task", has_text="Ký số phụ lục").wait_for()  # its progress
    clerk.locator("#task-area .task[data-state='SUCCESS']",
                  has_text="Ký số phụ lục").wait_for(timeout=SLOW)
    assert "Ký số phụ lục: xong" in clerk.inner_text("#task-area")
    assert f"Đã ký số phụ lục của quyết định số {number}" in clerk.inner_text("#task-area")
    issued.locator("a", has_text="Phụ lục").wait_for()
    _valid(setting, document_id, "attachment", 1)

    before = set(clerk.locator("#clerk-lists article[id^='issued-']").evaluate_all(
        "a => a.map(i => i.id)"))
    issued.locator("summary", has_text="Phụ lục và bản sao").click()
    issued.get_by_label("Hình thức sao").select_option("SAO_Y")
    issued.get_by_role("button", name="Tạo bản sao điện tử").click()
    clerk.locator("#task-area .task", has_text="Sao văn bản").wait_for()
    clerk.locator("#task-area .task[data-state='SUCCESS']",
                  has_text="Sao văn bản").wait_for(timeout=SLOW)
    clerk.locator(f"#issued-{document_id} a", has_text="Phụ lục").wait_for()
    clerk.wait_for_function(
        f"document.querySelectorAll(\"#clerk-lists article[id^='issued-']\").length > "
        f"{len(before)}")
    after = set(clerk.locator("#clerk-lists article[id^='issued-']").evaluate_all(
        "a => a.map(i => i.id)"))
    (copy_item,) = after - before
    copy_id = copy_item.removeprefix("issued-")
    assert "/SY" in clerk.locator(f"#{copy_item} .number").inner_text()  # the copies' book
    assert number in clerk.locator(f"#issued-{document_id}").inner_text()
    copy_link = clerk.locator(f"#{copy_item} a", has_text="Bản sao điện tử")
    assert copy_link.get_attribute("href") == f"/van-ban/{copy_id}/copy.pdf"
    made = clerk.locator("#task-area .task[data-state='SUCCESS']", has_text="Sao văn bản")
    copy_number = clerk.locator(f"#{copy_item} .number").inner_text()
    assert copy_number in made.inner_text()  # the message names the copy's number
    assert made.locator("a.made-file").get_attribute("href") == f"/van-ban/{copy_id}/copy.pdf"
    screenshot(clerk, "van-thu-phu-luc", at="#issued-title")
    _valid(setting, copy_id, "copy", 3)  # approval, organisation, then the copy's signature
    setting.made["issued"] = document_id


@pytest.mark.slow
def test_the_administrator_adds_an_authority_and_an_account_then_locks_it(
        setting: Setting, chromium: Any, tmp_path: Path) -> None:
    admin = _page(chromium, setting, "quantri")
    admin.fill("#p-name", "Đặng Văn Mới")
    admin.fill("#p-position", "Phó Trưởng phòng Kinh tế")
    admin.select_option("#p-unit", "KT")
    admin.locator("#person-add").get_by_role("button", name="Thêm").click()
    admin.locator("#admin-result .alert-ok").wait_for()
    admin.locator("#people-table td", has_text="Đặng Văn Mới").wait_for()

    certificate = tmp_path / "dang-van-moi.cer"  # DER, as a CA hands it out
    certificate.write_bytes(setting.pki.cert("het-han").dump())
    admin.select_option("#a-person", label="Đặng Văn Mới — Phó Trưởng phòng Kinh tế")
    admin.fill("#a-token", "agent")
    admin.set_input_files("#a-cert", str(certificate))
    admin.get_by_role("button", name="Giao thẩm quyền").click()
    admin.locator("#admin-result .alert-ok", has_text="Đã giao thẩm quyền").wait_for()
    row = admin.locator("#auth-title ~ .table-wrap tr", has_text="Đặng Văn Mới")
    row.wait_for()
    assert "đã hết hạn" in row.inner_text()  # the expired certificate is flagged

    admin.fill("#u-name", "dangvanmoi")
    admin.fill("#u-display", "Đặng Văn Mới")
    admin.fill("#u-password", "dang-van-moi-mat-khau")
    admin.select_option("#u-person", label="Đặng Văn Mới")
    admin.locator("#user-add input[name=roles][value=SIGNER]").check()
    admin.get_by_role("button", name="Tạo", exact=True).click()
    admin.locator("#admin-result .alert-ok", has_text="dangvanmoi").wait_for()
    setting.service.login_as("dangvanmoi", "dang-van-moi-mat-khau")  # the account works
    screenshot(admin, "quan-tri-tham-quyen", at="#auth-title")

    account = admin.locator("tr", has=admin.locator("code", has_text="dangvanmoi"))
    account.get_by_role("button", name="Khóa").click()
    asked = admin.locator("dialog#kyso-confirm[open]")  # locking asks first, in Vietnamese
    assert "Khóa tài khoản dangvanmoi?" in asked.inner_text()
    asked.get_by_role("button", name="Đồng ý").click()
    admin.locator("#admin-result .alert-ok", has_text="Đã khóa").wait_for()
    locked = admin.locator("tr", has=admin.locator("code", has_text="dangvanmoi"))
    locked.locator(".badge", has_text="đã khóa").wait_for()
    assert "Lãnh đạo" in locked.locator(".locked-roles").inner_text()  # its role still shown
    refused = httpx.post(f"{setting.service.url}/api/v1/auth/login",
                         json={"username": "dangvanmoi", "password": "dang-van-moi-mat-khau"})
    assert refused.status_code == 401, refused.text


@pytest.mark.slow
def test_anyone_checks_the_issued_file_on_the_public_page(setting: Setting, chromium: Any,
                                                          tmp_path: Path) -> None:
    document_id = setting.made.get("issued") or _issued(setting)
    clerk = _page(chromium, setting, "vanthu")
    link = clerk.locator(f"#issued-{document_id} a.verify-link")
    path = link.get_attribute("href")
    assert path and path.startswith("/v/")
    assert link.inner_text() == setting.service.url + path  # the address to send out
    clerk.context.close()
    api = setting.service.login("kiemtra")
    issued = tmp_path / "van-ban-nhan-duoc.pdf"
    issued.write_bytes(api.get(f"/api/v1/documents/{document_id}/versions/issued").content)
    approved = tmp_path / "ban-chua-ban-hanh.pdf"
    approved.write_bytes(api.get(f"/api/v1/documents/{document_id}/versions/approved").content)
    number = api.get(f"/api/v1/documents/{document_id}").json()["number"]

    visitor = new_page(chromium, setting.service.url)  # nobody signed in
    visitor.goto(path)
    assert number in visitor.inner_text("body")
    visitor.set_input_files("input[type=file]", str(approved))
    visitor.get_by_role("button", name="Kiểm tra tệp").click()
    visitor.wait_for_load_state()
    assert "KHÔNG phải bản đã ban hành" in visitor.inner_text("body")
    visitor.goto(path)
    visitor.set_input_files("input[type=file]", str(issued))
    visitor.get_by_role("button", name="Kiểm tra tệp").click()
    visitor.wait_for_load_state()
    assert "đúng là bản đã ban hành" in visitor.inner_text("body")
    screenshot(visitor, "kiem-tra-cong-khai")
