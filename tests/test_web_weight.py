"""Issue 16, points 8 and 9 over the real app in-process: fewer clicks (a corrected draft
keeps its signers, every version has its own label and link, in the lists and the trail)
and weight (gzip, versioned static files cached a year, the drafter's list polling only
while a worker is at one of its documents); and the small gaps: a refusal in Vietnamese
alone, the 404 page with the site's navigation, the administrator's keys in words.

One app per module (a fresh ``world``): the polling test runs first, on a list that only
holds what it made. The form cleared after an upload is checked in the browser by
``tests/test_ui.py`` (it needs a worker preparing the draft)."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from documents import (
    Document,
    DocumentStatus,
    DocumentVersion,
    Organisation,
    Person,
    RequestStatus,
    SigningRequest,
    VersionKind,
    create_user,
    new_draft,
    prepare,
)
from documents.issuance import replace_draft
from documents.queue import return_request, route

from .inprocess_support import DRAFT, World, served
from .test_web_pages import visible
from .ui_support import browser, login, new_page, require_browser, swapped
from .web_pages_support import htmx_as

IMMUTABLE = "public, max-age=31536000, immutable"


#: The drafter's list when no worker is at one of its documents: it comes again on a change
#: made in the page and when the drafter comes back to the browser tab.
IDLE = ("documents-changed from:body, "
        "visibilitychange[document.visibilityState=='visible'] from:document")


def _list_trigger(world: World) -> str:
    listed = world.client.get("/chuyen-vien/danh-sach", headers={"HX-Request": "true"})
    assert listed.status_code == 200, listed.text
    found = re.search(r'<div id="documents"[^>]*hx-trigger="([^"]*)"', listed.text)
    assert found, listed.text[:300]
    return found.group(1)


# --- 9. weight ---------------------------------------------------------------------------

def test_the_drafters_list_polls_only_while_a_worker_is_at_a_document(world: World) -> None:
    htmx_as(world, "chuyenvien")
    routed = world.routed_draft(subject="Về việc chờ lãnh đạo duyệt")
    # waiting for the vice-chair's decision (a person, maybe for days): no polling, the
    # list comes again when the drafter comes back to the tab
    assert _list_trigger(world) == IDLE
    page = world.client.get("/chuyen-vien").text
    assert "every" not in re.search(r'<div id="documents"[^>]*>', page).group(0)  # type: ignore[union-attr]
    # approved (every step): the worker is signing it: the list follows it
    with world.sessions() as session, session.begin():
        request = session.scalars(select(SigningRequest).where(
            SigningRequest.document_id == routed)).one()
        request.status = RequestStatus.APPROVED
    assert _list_trigger(world) == IDLE + ", every 3s"
    with world.sessions() as session, session.begin():
        session.scalars(select(SigningRequest).where(
            SigningRequest.document_id == routed)).one().status = RequestStatus.WAITING
    assert "every" not in _list_trigger(world)
    # a draft just uploaded, being prepared: polling until it is prepared
    with world.sessions() as session, session.begin():
        body = session.scalars(select(Organisation)).first()
        assert body is not None
        fresh = new_draft(session, world.store, body, "quyet-dinh", "Về việc đang chuẩn bị",
                          DRAFT.read_bytes())
        fresh_id = fresh.id
    assert _list_trigger(world).endswith(", every 3s")
    with world.sessions() as session, session.begin():
        prepare(session, world.store, session.get_one(Document, fresh_id))
    assert "every" not in _list_trigger(world)  # prepared: it waits for the drafter


def test_pages_and_htmx_are_gzipped_and_static_files_have_versioned_names(
        world: World) -> None:
    htmx_as(world, "chuyenvien")
    page = world.client.get("/chuyen-vien", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200
    assert page.headers["content-encoding"] == "gzip"
    assert int(page.headers["content-length"]) < len(page.content) / 2
    assert page.headers["cache-control"] == "no-cache"  # pages always name the current files
    assert "accept-encoding" in page.headers["vary"].lower()
    urls = re.findall(r'(?:src|href)="(/static/ui/[^"]+)"', page.text)
    assert len(urls) == 3, urls  # the style sheet, htmx, kyso.js
    for url in urls:
        assert re.fullmatch(r"/static/ui/[a-z.]+\.[0-9a-f]{12}\.(js|css)", url), url
    (htmx,) = [u for u in urls if "/htmx.min." in u]
    script = world.client.get(htmx, headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200
    assert script.headers["content-encoding"] == "gzip"
    assert script.headers["cache-control"] == IMMUTABLE
    assert hashlib.sha256(script.content).hexdigest()[:12] in htmx  # the name is its content
    assert int(script.headers["content-length"]) < len(script.content) / 2
    # the plain name still answers (an old page), revalidated every time
    plain = world.client.get("/static/ui/htmx.min.js")
    assert plain.content == script.content and plain.headers["cache-control"] == "no-cache"
    assert world.client.get("/static/ui/htmx.min.000000000000.js").status_code == 404
    # without Accept-Encoding: as it is
    identity = world.client.get(htmx, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in identity.headers
    assert int(identity.headers["content-length"]) == len(script.content)
    # an htmx fragment is compressed too; a PDF is sent as stored
    fragment = world.client.get("/chuyen-vien/danh-sach",
                                headers={"HX-Request": "true", "Accept-Encoding": "gzip"})
    assert fragment.headers["content-encoding"] == "gzip"
    document_id = world.routed_draft()
    pdf = world.client.get(f"/van-ban/{document_id}/prepared.pdf",
                           headers={"Accept-Encoding": "gzip"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "content-encoding" not in pdf.headers


def test_a_cold_load_of_the_drafters_page_weighs_a_third_once_compressed(
        world: World) -> None:
    """What a cold load of /chuyen-vien transfers (page + css + js), raw and gzipped."""
    htmx_as(world, "chuyenvien")
    page = world.client.get("/chuyen-vien", headers={"Accept-Encoding": "gzip"})
    raw = len(page.content)
    sent = int(page.headers["content-length"])
    for url in re.findall(r'(?:src|href)="(/static/ui/[^"]+)"', page.text):
        answer = world.client.get(url, headers={"Accept-Encoding": "gzip"})
        raw += len(answer.content)
        sent += int(answer.headers["content-length"])
    print(f"cold load of /chuyen-vien: {raw} bytes raw, {sent} bytes sent gzipped")
    assert sent < raw / 3


# --- 8. fewer clicks ---------------------------------------------------------------------

def _corrected(pdf: bytes, time: int) -> bytes:
    """The draft saved again by its author, the ``time``-th time (another hash)."""
    import io

    import pikepdf

    buffer = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.docinfo["/Title"] = f"Dự thảo đã sửa lần {time}"
        doc.save(buffer)
    return buffer.getvalue()


def _selected(html: str, form: str) -> list[str]:
    found = re.search(rf'<form id="{form}".*?</form>', html, re.S)
    assert found, f"no form {form}"
    return re.findall(r'<option value="(\d+)" selected>', found.group(0))


def test_a_corrected_draft_keeps_its_signers_and_each_version_its_own_label(
        world: World) -> None:
    htmx_as(world, "chuyenvien")
    document_id = world.routed_draft(subject="Về việc cần sửa theo ý kiến lãnh đạo")
    first = DRAFT.read_bytes()
    with world.sessions() as session, session.begin():
        duc = session.scalars(select(Person.id).where(Person.full_name == "Lê Minh Đức")).one()
        request = session.scalars(select(SigningRequest).where(
            SigningRequest.document_id == document_id)).one()
        return_request(session, request, "Sai tên đơn vị", actor="phochutichduc")
    listed = world.client.get("/chuyen-vien/danh-sach", headers={"HX-Request": "true"}).text
    # the corrected draft's form names the signer it went to: one click sends it back
    assert _selected(listed, f"fix-{document_id}") == [str(duc)]
    second, third = _corrected(first, 1), _corrected(first, 2)
    for data in (second, third):  # corrected, routed and returned again, corrected again
        with world.sessions() as session, session.begin():
            document = session.get_one(Document, document_id)
            if document.status is not DocumentStatus.RETURNED:
                route(session, document, [session.get_one(Person, duc)], actor="chuyenvien")
                return_request(session, session.scalars(select(SigningRequest).where(
                    SigningRequest.document_id == document_id,
                    SigningRequest.status == RequestStatus.WAITING)).one(),
                    "Còn sai Điều 2", actor="phochutichduc")
            replace_draft(session, world.store, document, data, actor="chuyenvien",
                          file_name="du-thao-da-sua.pdf")
            prepare(session, world.store, document, actor="chuyenvien")
    listed = world.client.get("/chuyen-vien/danh-sach", headers={"HX-Request": "true"}).text
    # prepared again (e.g. the worker took longer than the page waited): still preselected
    assert _selected(listed, f"route-{document_id}") == [str(duc)]
    item = re.search(rf'<article class="queue-item" id="doc-{document_id}".*?</article>',
                     listed, re.S)
    assert item
    links = dict((text, href) for href, text in re.findall(
        r'<a href="([^"]+)" target="_blank" rel="noopener">([^<]+)</a>', item.group(0)))
    assert list(links) == ["Dự thảo", "Đã chuẩn bị", "Dự thảo đã sửa lần 1",
                           "Đã chuẩn bị (bản sửa lần 1)", "Dự thảo đã sửa lần 2",
                           "Đã chuẩn bị (bản sửa lần 2)"], list(links)
    # the JSON API names the versions as the page does
    answer = world.client.get(f"/api/v1/documents/{document_id}")
    assert answer.status_code == 200, answer.text
    assert [v["label"] for v in answer.json()["versions"]] == list(links)
    # each link opens its own version
    with world.sessions() as session:
        drafts = session.scalars(select(DocumentVersion.sha256).where(
            DocumentVersion.document_id == document_id,
            DocumentVersion.kind == VersionKind.DRAFT).order_by(DocumentVersion.id)).all()
    assert len(set(drafts)) == 3
    for label, sha256 in zip(("Dự thảo", "Dự thảo đã sửa lần 1", "Dự thảo đã sửa lần 2"),
                             drafts, strict=True):
        shown = world.client.get(links[label].replace("&amp;", "&"))
        assert shown.status_code == 200, label
        assert hashlib.sha256(shown.content).hexdigest() == sha256, label
    assert hashlib.sha256(second).hexdigest() == drafts[1]  # as the drafter uploaded it
    assert links["Dự thảo đã sửa lần 1"].endswith("/draft.pdf?lan=2")
    assert links["Dự thảo"].endswith("/draft.pdf?lan=1")
    assert world.client.get(f"/van-ban/{document_id}/draft.pdf?lan=9").status_code == 404
    # the audit trail names them the same way
    htmx_as(world, "kiemtra")
    trail = visible(world.client.get(f"/kiem-tra/nhat-ky?object_id={document_id}",
                                     headers={"HX-Request": "true"}).text)
    assert "tải lên dự thảo đã sửa lần 1 của" in trail
    assert "tải lên dự thảo đã sửa lần 2 của" in trail
    assert "(bản dự thảo đã sửa lần 1)" in trail  # the drafter opened it above


# --- 10. what made the browser tests flaky was also a person's trouble ------------------

def test_the_queues_refresh_keeps_the_ticked_boxes_and_a_reason_being_typed(
        world: World) -> None:
    """The signer's queue refreshes every 15 s: what the person ticked or is typing stays
    (before, a refresh between ticking and "Phê duyệt và ký" sent an empty batch)."""
    require_browser()
    first = world.routed_draft(subject="Về việc đánh dấu để ký cả lô")
    second = world.routed_draft(subject="Về việc cần góp ý thêm")
    with served(world) as url, browser() as chromium:
        page = new_page(chromium, url)
        login(page, "phochutichduc")
        page.goto("/lanh-dao")
        page.locator(f"#queue [data-document='{first}'] input[name=request_ids]").check()
        item = page.locator(f"#queue [data-document='{second}']")
        item.locator("summary", has_text="Trả lại").click()
        item.get_by_label("Lý do trả lại", exact=True).fill("Thiếu căn cứ")
        with swapped(page, "/lanh-dao/hang-cho"):  # what "every 15s" does, now
            page.evaluate("document.body.dispatchEvent(new Event('queue-changed'))")
        assert page.locator(
            f"#queue [data-document='{first}'] input[name=request_ids]").is_checked()
        assert item.locator("details").evaluate("d => d.open") is True
        assert item.get_by_label("Lý do trả lại", exact=True).input_value() == "Thiếu căn cứ"
        page.context.close()


# --- small gaps: a refusal in Vietnamese alone, the 404 page's menu, keys in words ------

def test_an_account_of_no_body_is_refused_in_vietnamese_alone(world: World) -> None:
    with world.sessions() as session, session.begin():
        create_user(session, "nguoimoi", "nguoimoi-demo-2026", "Người mới")
    signed_in = world.client.post("/api/v1/auth/login", json={
        "username": "nguoimoi", "password": "nguoimoi-demo-2026"})
    assert signed_in.status_code == 200, signed_in.text
    page = world.client.get("/chuyen-vien")
    assert page.status_code == 403
    text = visible(page.text)
    assert "tài khoản “nguoimoi” chưa thuộc cơ quan nào" in text
    assert "cần vai trò Chuyên viên tại một cơ quan" in text and "nhờ quản trị" in text
    for english in ("account", "body", "role", "drafter", "needs", " any "):
        assert english not in text, english
    fragment = world.client.get("/chuyen-vien/danh-sach", headers={"HX-Request": "true"})
    assert fragment.status_code == 403
    assert "chưa thuộc cơ quan nào" in fragment.text and "clerk" not in fragment.text


def test_the_administrator_reads_where_each_key_is_in_words(world: World) -> None:
    from api.web.pages.admin import key_words

    assert key_words("agent").startswith("USB token trên máy tính của người ký")
    assert key_words("remote:vnpt").startswith("Dịch vụ ký số từ xa “vnpt”")
    assert key_words("pho-chu-tich").startswith("Thiết bị ký đặt tại máy chủ Kyso")
    htmx_as(world, "quantri")
    html = world.client.get("/quan-tri/noi-dung").text
    section = re.search(r'(?s)<section[^>]*aria-labelledby="auth-title".*?</section>', html)
    assert section
    cells = re.findall(r'(?s)<td[^>]*class="key-place"[^>]*>(.*?)</td>', section.group(0))
    assert cells
    with world.sessions() as session:
        from documents import SigningAuthority

        names = set(session.scalars(select(SigningAuthority.token_name)))
    for cell in cells:
        folded = re.search(r'(?s)<details class="tech"><summary>Tên kỹ thuật</summary>'
                           r"<code>([^<]+)</code></details>", cell)
        assert folded and folded.group(1) in names, cell  # the technical name, folded away
        words = visible(cell.replace(folded.group(0), ""))
        assert words == key_words(folded.group(1)) and folded.group(1) not in words


def test_the_404_page_has_the_menu_when_signed_in_and_a_way_in_otherwise(
        world: World) -> None:
    htmx_as(world, "vanthu")
    page = world.client.get("/khong-co-trang-nay")
    assert page.status_code == 404 and "Không có trang nào ở địa chỉ này" in visible(page.text)
    nav = re.search(r'(?s)<nav aria-label="Chức năng">.*?</nav>', page.text)
    assert nav and 'href="/van-thu"' in nav.group(0)
    assert "Đăng xuất" in visible(page.text) and "Về trang chính" in visible(page.text)
    world.client.cookies.clear()
    outside = world.client.get("/khong-co-trang-nay")
    assert outside.status_code == 404 and "<nav" not in outside.text
    assert '<a href="/dang-nhap">Đăng nhập vào Kyso</a>' in outside.text
    assert world.client.get("/api/v1/khong-co").json() == {"detail": "Not Found"}
