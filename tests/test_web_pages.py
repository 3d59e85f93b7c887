"""The web pages as a commune official meets them (issue 16), over the real app in-process:
failures that name what to do and never strand the work, what the auditor learns of a
file, Vietnamese words and dates, the audit trail as sentences, administration without
contradictions, the clerk's page. htmx calls through the TestClient; the pages' own script
in Debian's chromium against the same app served by uvicorn."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from api.datadir import DataDir
from api.demo.art import appendix_pdf
from api.demo.demo import DEMO_PIN, DemoCommune
from documents import Document, IssueDetails, Signing, VersionKind, make_copy, sign_attachment
from signer import CopyKind

from .inprocess_support import World, in_process_service, served
from .test_matching import Flow, issue_with_qr
from .ui_support import browser, login, new_page, require_browser
from .web_pages_support import htmx_as

NOT_A_PDF = b"Day la ghi chu, khong phai tep PDF.\n"


@pytest.fixture(scope="module")
def world(commune: DemoCommune, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with in_process_service(commune, tmp_path_factory.mktemp("web-pages")) as world:
        yield world


@pytest.fixture(scope="module")
def flow(world: World, data: DataDir, commune: DemoCommune) -> Flow:
    """One document issued (with its QR code), every stored PDF at hand."""
    return issue_with_qr(world.sessions, world.store, data,
                         Signing(tsa_url=commune.pki.tsa_url), qr_url="http://kyso.test")


def visible(html: str) -> str:
    """The text a person reads: no tags, scripts or attributes."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)srcdoc=\"[^\"]*\"", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"(?s)<[^>]+>", " ", html)).strip()


# --- 1. failures that strand work -------------------------------------------------------

def test_the_auditors_batch_verifies_the_good_files_and_names_the_bad_one(
        world: World, flow: Flow) -> None:
    headers = htmx_as(world, "kiemtra")
    files: list[tuple[str, tuple[str, bytes, str]]] = [
        ("files", ("ban-hanh.pdf", flow.files[VersionKind.ISSUED], "application/pdf")),
        ("files", ("ghi-chu.pdf", NOT_A_PDF, "application/pdf")),
        ("files", ("phe-duyet.pdf", flow.files[VersionKind.APPROVED], "application/pdf")),
        ("files", ("du-thao.pdf", flow.files[VersionKind.PREPARED], "application/pdf")),
    ]
    answer = world.client.post("/kiem-tra/xac-minh", files=files,
                               headers={**headers, "HX-Trigger": "verify"})
    assert answer.status_code == 200, answer.text
    assert "HX-Retarget" not in answer.headers  # the answer replaces the old reports
    text = visible(answer.text)
    assert "Đã xác minh 3/4 tệp; không xác minh được: ghi-chu.pdf" in text
    assert answer.text.count('class="report"') == 3
    assert "Tệp “ghi-chu.pdf” không xác minh được" in text
    verdicts = re.findall(r'data-verdict="([a-z]+)"', answer.text)
    assert verdicts[0] == "valid" and verdicts[1] == "error" and len(verdicts) == 4


def test_the_signers_empty_batch_says_what_to_do(world: World) -> None:
    headers = htmx_as(world, "phochutichduc")
    answer = world.client.post("/lanh-dao/phe-duyet-lo", data={},
                               headers={**headers, "HX-Trigger": "batch"})
    assert answer.status_code == 422
    assert answer.headers["HX-Retarget"] == "#batch-error"
    assert "chưa chọn văn bản nào" in answer.text and "đánh dấu ô" in answer.text
    assert "thiếu hoặc sai thông tin" not in answer.text


def test_old_errors_and_a_stale_preview_are_cleared_in_the_browser(world: World) -> None:
    require_browser()
    document_id = world.routed_draft()
    with served(world) as url, browser() as chromium:
        page = new_page(chromium, url)
        login(page, "phochutichduc")
        page.goto("/lanh-dao")
        item = page.locator(f"#queue [data-document='{document_id}']")
        item.get_by_role("link", name="Xem").click()
        page.wait_for_function(
            "id => document.getElementById('preview').dataset.document === id",
            arg=document_id)
        page.get_by_role("button", name="Phê duyệt và ký các văn bản đã chọn").click()
        page.locator("#batch-error .alert-error").wait_for()
        assert "chưa chọn văn bản nào" in page.inner_text("#batch-error")
        # a later act (returning the document) clears the old error, and the preview of
        # the document that left the queue
        item.locator("summary").click()
        item.get_by_label("Lý do trả lại").fill("Sai tên đơn vị ở trích yếu.")
        item.get_by_role("button", name="Trả lại cho người soạn").click()
        page.locator(f"#queue [data-document='{document_id}']").wait_for(state="detached")
        page.wait_for_function("() => !document.getElementById('preview').dataset.document")
        assert page.inner_text("#batch-error").strip() == ""
        assert page.eval_on_selector("#preview", "f => f.getAttribute('src')") == "about:blank"
        assert "đã rời hàng chờ" in page.inner_text("#preview-note")
        page.context.close()
    with world.sessions() as session:
        assert session.get_one(Document, document_id).status.name == "RETURNED"


def test_a_new_verification_clears_the_old_reports_in_the_browser(
        world: World, flow: Flow, tmp_path: Any) -> None:
    require_browser()
    good = tmp_path / "ban-hanh.pdf"
    good.write_bytes(flow.files[VersionKind.ISSUED])
    with served(world) as url, browser() as chromium:
        page = new_page(chromium, url)
        login(page, "kiemtra")
        page.goto("/kiem-tra")
        # the file input wears a Vietnamese face, not the browser's "Choose Files"
        face = page.locator("#verify-files").locator("xpath=preceding-sibling::*[1]")
        assert " ".join(face.inner_text().split()) == "Chọn các tệp Chưa chọn tệp nào"
        assert page.eval_on_selector("#verify-files", "i => getComputedStyle(i).opacity") == "0"
        page.set_input_files("#verify-files", str(good))
        assert "ban-hanh.pdf" in face.inner_text()
        page.screenshot(path=str(tmp_path / "kiem-tra.png"))
        page.get_by_role("button", name="Xác minh", exact=True).click()
        page.locator("#reports .report-item[data-verdict='valid']").wait_for()
        # the second run is refused as a whole (the session's token is stale): the old
        # "HỢP LỆ" report does not stay under the new error
        page.evaluate("document.body.setAttribute('hx-headers', "
                      "'{\"X-CSRF-Token\": \"cu\"}')")
        page.get_by_role("button", name="Xác minh", exact=True).click()
        page.locator("#verify-error .alert-error").wait_for()
        assert page.locator("#reports .report-item").count() == 0
        page.context.close()



# --- 2. the auditor sees what the public page sees --------------------------------------

@pytest.fixture(scope="module")
def attachment_and_copy(world: World, data: DataDir, flow: Flow,
                        commune: DemoCommune) -> tuple[bytes, bytes, str, str]:
    """An attachment signed for the issued document and its SAO Y copy (with its number)."""
    signing = Signing(tsa_url=commune.pki.tsa_url)
    with data.token("ubnd").signer(DEMO_PIN) as body_signer, world.sessions() as session, \
            session.begin():
        document = session.get_one(Document, flow.document_id)
        attachment = sign_attachment(session, world.store, document, body_signer,
                                     appendix_pdf("Phụ lục kèm theo"), signing,
                                     file_name="phu-luc.pdf")
        assert document.register_entry is not None
        details = IssueDetails(issued_date=document.register_entry.issued_date,
                               signer_full_name="UBND xã Tiên Lữ", signer_position="Văn thư",
                               registered_by="Văn thư")
        copy_doc, entry, copy_pdf = make_copy(session, world.store, document, body_signer,
                                              CopyKind.SAO_Y, details, signing)
        return attachment, copy_pdf, entry.number_symbol, copy_doc.id


def test_the_auditor_reads_what_the_register_says_of_each_file(
        world: World, flow: Flow, attachment_and_copy: tuple[bytes, bytes, str, str]) -> None:
    attachment, copy_pdf, copy_number, _ = attachment_and_copy
    headers = htmx_as(world, "kiemtra")
    names = ["ban-hanh.pdf", "phe-duyet.pdf", "phu-luc.pdf", "ban-sao.pdf"]
    pdfs = [flow.files[VersionKind.ISSUED], flow.files[VersionKind.APPROVED], attachment,
            copy_pdf]
    answer = world.client.post("/kiem-tra/xac-minh", headers=headers, files=[
        ("files", (name, pdf, "application/pdf")) for name, pdf in zip(names, pdfs,
                                                                        strict=True)])
    assert answer.status_code == 200, answer.text
    items = answer.text.split('class="queue-item report-item"')[1:]
    assert len(items) == 4
    issued, approved, appendix, copy = (visible(i) for i in items)
    assert 'data-relation="ISSUED"' in items[0]
    assert "Tệp này đúng là bản đã ban hành." in issued
    assert f"Số, ký hiệu {flow.number_symbol}" in issued and "Nơi nhận Như Điều 3" in issued
    assert "KHÔNG phải bản đã ban hành: đây là phiên bản trước khi ban hành" in approved
    assert flow.number_symbol in approved  # its document's register entry
    assert "KHÔNG phải bản đã ban hành: đây là phụ lục đã ký kèm văn bản" in appendix
    assert flow.number_symbol in appendix
    assert "KHÔNG phải bản đã ban hành: đây là bản sao điện tử" in copy
    assert f"Số, ký hiệu {copy_number}" in copy
    assert f"Sao từ văn bản Số, ký hiệu {flow.number_symbol}" in copy
    stranger = world.client.post("/kiem-tra/xac-minh", headers=headers, files=[
        ("files", ("la.pdf", appendix_pdf("Một tệp Kyso chưa từng lưu"), "application/pdf"))])
    assert "không trùng với văn bản nào trong sổ đăng ký" in visible(stranger.text)


# --- 3. Vietnamese everywhere, in the user's terms --------------------------------------

def test_a_file_that_is_no_pdf_is_said_so_in_vietnamese_alone(world: World) -> None:
    from signer import NotAPdf, PdfTruncated, PdfUnreadable, verify_pdf

    for junk in (NOT_A_PDF, NOT_A_PDF[:10], b""):  # a truncated non-PDF is not "cut short"
        with pytest.raises(PdfUnreadable) as err:
            verify_pdf(junk, lambda: None)
        assert isinstance(err.value, NotAPdf) and not isinstance(err.value, PdfTruncated)
        assert "không phải tệp PDF" in err.value.vi and "cắt cụt" not in err.value.vi
        assert "/" not in err.value.vi and "not a PDF" in err.value.en
    headers = htmx_as(world, "kiemtra")
    answer = world.client.post("/kiem-tra/xac-minh", headers=headers, files=[
        ("files", ("ghi-chu.txt", NOT_A_PDF[:12], "text/plain"))])
    text = visible(answer.text)
    assert "tệp này không phải tệp PDF" in text
    assert "not a PDF" not in text and "cắt cụt" not in text and "cut short" not in text


def test_web_messages_have_no_english_halves(world: World) -> None:
    from documents import NotFound

    missing = NotFound("văn bản X / document X")
    assert (missing.vi, missing.en) == ("không tìm thấy văn bản X", "document X not found")
    htmx_as(world, "chuyenvien")
    page = world.client.get("/van-ban/khong-co/prepared.pdf")
    assert page.status_code == 404
    assert "không tìm thấy văn bản khong-co" in visible(page.text)
    assert "document" not in visible(page.text)
    document_id = world.routed_draft()
    with world.sessions() as session, session.begin():
        session.get_one(Document, document_id).problem = (
            "ký số không thành công: thiết bị ký không trả lời / signing failed: the token "
            "did not answer")
    listed = visible(world.client.get("/chuyen-vien/danh-sach").text)
    assert "Vấn đề: ký số không thành công: thiết bị ký không trả lời" in listed
    assert "signing failed" not in listed


def test_the_report_says_fields_changes_and_names_in_words(flow: Flow, data: DataDir) -> None:
    import html

    from signer import render_html

    from .helpers import verify

    report = verify(data, flow.files[VersionKind.ISSUED])
    text = visible(html.unescape(render_html(report, "vi")))
    for code in ("KySo_", "form_filling", "Common Name:", "Organization:", " filled"):
        assert code not in text, code
    assert "ô số văn bản được điền “01”" in text
    assert "điền biểu mẫu — ô năm ban hành được điền" in text
    assert "ô chữ ký số của cơ quan (đóng dấu)" in text and "Tên: Lê Minh Đức" in text
    english = visible(html.unescape(render_html(report, "en")))
    assert "field 'KySo_So' filled: '01'" in english and "Common Name: Lê Minh Đức" in english


def test_an_unknown_address_answers_a_vietnamese_page_and_the_api_json(world: World) -> None:
    htmx_as(world, "kiemtra")
    page = world.client.get("/khong-co-trang-nay")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Không có trang nào ở địa chỉ này" in visible(page.text)
    assert "Not Found" not in page.text and '<html lang="vi">' in page.text
    wrong = world.client.get("/kiem-tra/xac-minh")  # a form's address typed in
    assert wrong.status_code == 405 and "Không mở được theo cách này" in visible(wrong.text)
    api = world.client.get("/api/v1/khong-co")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


def test_dates_are_typed_and_shown_as_day_month_year(world: World, flow: Flow) -> None:
    headers = htmx_as(world, "vanthu")
    page = world.client.get("/so-van-ban", params={"year": 2025})
    assert 'type="date"' not in page.text
    assert page.text.count('placeholder="ngày/tháng/năm"') == 2
    found = world.client.get("/so-van-ban", headers=headers, params={
        "year": 2025, "date_from": "01/11/2025", "date_to": "5/11/2025"})
    assert found.status_code == 200 and flow.number_symbol in found.text
    assert "05/11/2025" in visible(found.text)
    none = world.client.get("/so-van-ban", headers=headers, params={
        "year": 2025, "date_from": "06/11/2025"})
    assert flow.number_symbol not in none.text
    again = world.client.get("/so-van-ban", params={"year": 2025, "date_from": "2025-11-01"})
    assert 'value="01/11/2025"' in again.text  # an old ISO link is shown day first
    bad = world.client.get("/so-van-ban", headers={**headers, "HX-Trigger": "register-search"},
                           params={"year": 2025, "date_from": "31/02/2025"})
    assert bad.status_code == 422 and bad.headers["HX-Retarget"] == "#register-search-error"
    assert "“31/02/2025” ở ô “Từ ngày” không phải ngày hợp lệ" in bad.text
    assert "/ " not in visible(bad.text).replace("ngày/tháng/năm", "")


def test_the_administrators_page_says_times_scopes_and_names_in_vietnamese(
        world: World) -> None:
    from datetime import UTC, datetime

    from documents import User

    with world.sessions() as session, session.begin():
        user = session.scalars(select(User).where(User.username == "vanthu")).one()
        user.last_login_at = datetime(2026, 3, 5, 20, 30, tzinfo=UTC)
    htmx_as(world, "quantri")
    text = visible(world.client.get("/quan-tri").text)
    assert "06/03/2026 03:30" in text and "2026-03-05" not in text  # Vietnam time
    for code in (" BODY ", " COPIES ", "Common Name:", "Organization:"):
        assert code not in f" {text} ", code
    assert "Chung của cơ quan ban hành" in text and "Bản sao" in text
    assert "Tên: RootCA chuyên dùng Chính phủ G2, Tổ chức: Ban Cơ yếu Chính phủ" in text


def test_kyso_verify_says_its_report_in_both_languages(
        data: DataDir, flow: Flow, tmp_path: Any) -> None:
    from .helpers import run_kyso

    issued = tmp_path / "ban-hanh.pdf"
    issued.write_bytes(flow.files[VersionKind.ISSUED])
    result = run_kyso(data, "verify", str(issued))
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "Họ và tên / Name: Lê Minh Đức" in out
    assert "Toàn vẹn / Intact" in out and "trust_anchor_origin" not in out
    assert "chỉ điền biểu mẫu, ký thêm / form filling and signatures only" in out


def test_the_browsers_own_english_messages_are_replaced_by_kysos(world: World) -> None:
    require_browser()
    with served(world) as url, browser() as chromium:
        page = new_page(chromium, url, locale="en-US")
        page.goto("/dang-nhap")
        page.get_by_role("button", name="Đăng nhập").click()
        page.locator("form + .field-error .alert-error").first.wait_for()
        text = page.inner_text("main")
        assert "Hãy điền “Tên đăng nhập”." in text and "Hãy điền “Mật khẩu”." in text
        assert page.evaluate("document.activeElement.id") == "username"
        assert page.url.endswith("/dang-nhap")  # nothing was sent
        login(page, "vanthu")
        page.goto("/so-van-ban")
        page.fill("#r-from", "2025-11-01")
        page.get_by_role("button", name="Tìm").click()
        page.locator("#register-search-error .alert-error").wait_for()
        assert "“Từ ngày”: Gõ ngày theo dạng ngày/tháng/năm" in page.inner_text(
            "#register-search-error")
        page.context.close()


# --- 4. the audit trail a person can read -----------------------------------------------

def test_the_audit_trail_reads_as_sentences_and_finds_a_person_by_any_name(
        world: World, flow: Flow, attachment_and_copy: tuple[bytes, bytes, str, str]) -> None:
    signer = htmx_as(world, "phochutichduc")
    document_id = world.routed_draft()
    queue = world.client.get("/lanh-dao/hang-cho").text
    request_id = re.search(rf'id="req-(\d+)" data-document="{document_id}"', queue)
    assert request_id, queue
    returned = world.client.post(f"/lanh-dao/{request_id.group(1)}/tra-lai", headers=signer,
                                 data={"reason": "Thiếu căn cứ pháp lý."})
    assert returned.status_code == 200, returned.text

    htmx_as(world, "kiemtra")
    page = world.client.get("/kiem-tra")
    assert '<option value="phochutichduc">Lê Minh Đức (phochutichduc)</option>' in page.text
    # the return was recorded under the login, the signature under the full name: both found
    trail = world.client.get("/kiem-tra/nhat-ky", params={"actor": "phochutichduc",
                                                          "limit": 100})
    sentences = re.findall(r'<p class="trail-sentence">(.*?)</p>', trail.text, re.S)
    text = [visible(s) for s in sentences]
    assert any(t.endswith("— Lê Minh Đức (phochutichduc) trả lại dự thảo quyết định "
                          "“Về việc thử nghiệm”, lý do: “Thiếu căn cứ pháp lý.”.") for t in text)
    assert any(t.endswith("— Lê Minh Đức (phochutichduc) ký số phê duyệt Quyết định số "
                          f"{flow.number_symbol}.") for t in text), text
    assert all(re.match(r"^\d\d:\d\d ngày \d\d/\d\d/\d{4} — ", t) for t in text)
    for t in text:
        assert not re.search(r"[0-9a-f]{32}", t), t  # no hashes or ids in the sentence
    assert trail.text.count('<details class="trail-details">') == len(sentences)
    by_name = world.client.get("/kiem-tra/nhat-ky", params={"actor": "Lê Minh Đức",
                                                            "limit": 100})
    assert by_name.text.count("trail-sentence") == trail.text.count("trail-sentence")
    copies = visible(world.client.get("/kiem-tra/nhat-ky", params={"action": "COPY"}).text)
    assert f"— Văn thư tạo bản sao y số {attachment_and_copy[2]}." in copies, copies
    numbered = world.client.get("/kiem-tra/nhat-ky", params={"object_id": flow.document_id,
                                                             "action": "NUMBER"})
    assert f"cấp số {flow.number_symbol} cho Quyết định số {flow.number_symbol}." in \
        visible(numbered.text)


# --- 5. administration without contradictions -------------------------------------------

def test_administration_says_one_thing_and_asks_before_what_cannot_be_undone(
        world: World) -> None:
    admin = htmx_as(world, "quantri")
    page = world.client.get("/quan-tri").text
    assert "chưa có chứng thư" not in visible(page)  # every demo signer's is registered
    assert "đã đăng ký (SHA-256), chưa rõ ngày hết hạn" in visible(page)
    for form in ("person-off-", "user-off-", "book-close-"):
        tags = re.findall(rf'<form id="{form}\d+"[^>]*>', page)
        assert tags and all('hx-confirm="' in t for t in tags), form
    made = world.client.post("/quan-tri/tai-khoan", headers=admin, data={
        "username": "thukho", "password": "mat-khau-du-dai-2026", "display_name": "Thủ kho",
        "roles": ["CLERK", "AUDITOR"]})
    assert made.status_code == 200, made.text
    user_id = re.search(r'id="user-off-(\d+)"[^>]*Khóa tài khoản thukho',
                        world.client.get("/quan-tri/noi-dung").text)
    assert user_id, "no lock form for thukho"
    locked = world.client.post(f"/quan-tri/tai-khoan/{user_id.group(1)}/ngung", headers=admin)
    assert locked.status_code == 200, locked.text
    row = re.search(r"<tr><td[^>]*><code>thukho</code>.*?</tr>",
                    world.client.get("/quan-tri/noi-dung").text, re.S)
    assert row and "đã khóa" in row.group(0)
    assert "Văn thư, Kiểm tra" in visible(row.group(0))  # the roles it keeps
    assert f'hx-post="/quan-tri/tai-khoan/{user_id.group(1)}/mo-khoa"' in row.group(0)
    opened = world.client.post(f"/quan-tri/tai-khoan/{user_id.group(1)}/mo-khoa",
                               headers=admin)
    assert opened.status_code == 200 and "Đã mở khóa" in opened.text
    row = re.search(r"<tr><td[^>]*><code>thukho</code>.*?</tr>",
                    world.client.get("/quan-tri/noi-dung").text, re.S)
    assert row and "đã khóa" not in row.group(0)
    assert row.group(0).count("checked") == 2


def test_closing_a_book_asks_first_and_a_refusal_changes_nothing(world: World) -> None:
    require_browser()
    with served(world) as url, browser() as chromium:
        page = new_page(chromium, url, locale="en-US")
        login(page, "quantri")
        page.goto("/quan-tri")
        native: list[str] = []

        def refuse(dialog: Any) -> None:
            native.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", refuse)
        page.locator("form[id^='book-close-']").first.get_by_role(
            "button", name="Khóa sổ").click()
        dialog = page.locator("dialog#kyso-confirm[open]")
        dialog.wait_for()
        assert "không hoàn tác được" in dialog.inner_text()
        assert page.evaluate("document.activeElement.textContent") == "Hủy"
        dialog.get_by_role("button", name="Hủy").click()
        dialog.wait_for(state="hidden")
        assert not native  # no browser confirm() with its English buttons
        assert page.inner_text("#admin-result").strip() == ""
        assert page.locator("form[id^='book-close-']").count() == 2  # both books still open
        page.context.close()


# --- 6. the clerk's page ----------------------------------------------------------------

def _approved_draft(world: World, data: DataDir, commune: DemoCommune, subject: str) -> str:
    """A draft of the demo's sample (its "Nơi nhận" list printed) approved by the
    vice-chair: waiting for the clerk."""
    from api.demo.art import handwritten_signature
    from documents import Organisation, Person, approve, new_draft, prepare

    from .inprocess_support import DRAFT, SIGNER

    with world.sessions() as session, session.begin():
        body = session.scalars(select(Organisation)).first()
        assert body is not None
        document = new_draft(session, world.store, body, "quyet-dinh", subject,
                             DRAFT.read_bytes(), actor="chuyenvien")
        prepare(session, world.store, document, actor="chuyenvien")
        document_id = document.id
    with data.token("pho-chu-tich-duc").signer(DEMO_PIN) as hand, world.sessions() as session, \
            session.begin():
        person = session.scalars(select(Person).where(Person.full_name == SIGNER)).one()
        approve(session, world.store, session.get_one(Document, document_id), person, hand,
                handwritten_signature(), Signing(tsa_url=commune.pki.tsa_url))
    return document_id


def test_the_clerks_page_previews_honestly_and_issues_with_the_drafts_recipients(
        world: World, data: DataDir, commune: DemoCommune, flow: Flow) -> None:
    from api.demo.art import handwritten_signature, seal
    from api.worker import tasks
    from documents import RegisterEntry, User

    first = _approved_draft(world, data, commune, "Về việc thứ nhất chờ cấp số")
    second = _approved_draft(world, data, commune, "Về việc thứ hai chờ cấp số")
    htmx_as(world, "vanthu")
    page = world.client.get("/van-thu").text
    numbers = set()
    for document_id in (first, second):
        item = page.split(f'id="wait-{document_id}"')[1].split("</article>")[0]
        text = visible(item)
        found = re.search(r"Số tiếp theo của sổ (\d+/QĐ-UBND)", text)
        assert found, text
        numbers.add(found.group(1))
        assert "nhận số tiếp theo của sổ tại lúc bấm “Cấp số và đóng dấu”" in text
        assert "còn 1 văn bản khác cũng chờ số của sổ này" in text
        assert 'value="Như Điều 3; CT, các PCT UBND xã; Lưu: VT, VHXH."' in item
        assert "Như Điều 3; Lưu: VT." not in item  # no fixed list
    assert len(numbers) == 1  # the same next number: the page says who gets it

    @contextlib.contextmanager
    def signer_for(name: str) -> Iterator[Any]:
        with data.token(name).signer(DEMO_PIN) as signer:
            yield signer

    tasks.configure(tasks.Runtime(
        sessions=world.sessions, store=world.store, signer_for=signer_for,
        signing=Signing(tsa_url=commune.pki.tsa_url), seal_for=lambda d: seal(),
        signature_image_for=lambda p: handwritten_signature()))
    with world.sessions() as session:
        clerk = session.scalars(select(User).where(User.username == "vanthu")).one().id
    tasks.issue_document(first, clerk, "Như Điều 3; CT, các PCT UBND xã; Lưu: VT, VHXH.")
    with world.sessions() as session:
        entry = session.scalars(select(RegisterEntry).where(
            RegisterEntry.document_id == first)).one()
        assert entry.archive_holder == "VT, VHXH"  # column 6, from the "Lưu:" entry
        year = entry.issued_date.year
    rows = world.client.get("/so-van-ban", params={"year": year}).text
    row = rows.split(entry.number_symbol, 1)[1].split("</tr>")[0]
    assert '<td data-label="Đơn vị, người nhận bản lưu">VT, VHXH</td>' in row


def test_after_an_attachment_or_a_copy_the_clerk_reads_its_number_and_opens_it(
        world: World, flow: Flow, attachment_and_copy: tuple[bytes, bytes, str, str]) -> None:
    import hashlib

    attachment, _, copy_number, copy_id = attachment_and_copy
    backend = world.client.app.state.services.celery.backend
    backend.store_result("tac-vu-ban-sao", copy_id, "SUCCESS")
    backend.store_result("tac-vu-phu-luc", hashlib.sha256(attachment).hexdigest(), "SUCCESS")
    htmx_as(world, "vanthu")
    copied = world.client.get("/van-thu/tac-vu/tac-vu-ban-sao", params={
        "what": "Sao văn bản (SAO Y)", "act": "copy", "d": flow.document_id})
    text = visible(copied.text)
    assert f"Đã tạo bản sao y số {copy_number}" in text
    assert f'href="/van-ban/{copy_id}/copy.pdf"' in copied.text
    attached = world.client.get("/van-thu/tac-vu/tac-vu-phu-luc", params={
        "what": "Ký số phụ lục", "act": "attach", "d": flow.document_id})
    text = visible(attached.text)
    assert f"Đã ký số phụ lục của quyết định số {flow.number_symbol}" in text
    assert f'href="/van-ban/{flow.document_id}/attachment.pdf"' in attached.text
    # the register says the copy's type once
    rows = visible(world.client.get("/so-van-ban", params={"year": 2025}).text)
    assert f"Bản sao y {flow.number_symbol}:" in rows and "Bản sao y Sao y" not in rows
