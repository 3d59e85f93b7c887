"""The public verification page over HTTP with the real app (in-process, its own SQLite
database, trusting the session's demo PKI): a document issued with its QR code on the
session's SoftHSM tokens is shown without a login; uploads are verified and compared with
the register; the authenticated JSON report gains a ``register`` block."""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.database import open_database
from api.datadir import DataDir
from api.demo.accounts import seed_demo_accounts
from api.demo.commune import demo_people, seed
from api.demo.demo import DemoCommune
from api.http.routes.public import PUBLIC_ACTOR, UploadLimiter
from api.settings import Settings
from api.worker import tasks as document_tasks
from documents import (
    Document,
    DocumentStatus,
    FileStore,
    Organisation,
    Signing,
    VersionKind,
    latest_version,
    new_draft,
)
from documents.audit import AuditAction, AuditEvent
from signer.qr import qr_links

from .helpers import sign_as
from .tamper import change_page_content
from .test_matching import BASE, DRAFT, SIGNER, WHEN, Flow, issue_with_qr

MAX_MB = 1


@dataclasses.dataclass
class Site:
    client: TestClient
    app: FastAPI
    sessions: sessionmaker[Session]
    store: FileStore
    flow: Flow
    subject: str
    body_name: str


@pytest.fixture(scope="module")
def site(data: DataDir, commune: DemoCommune,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from api.http.app import create_app

    service = DataDir(tmp_path_factory.mktemp("public") / "data").create()
    shutil.copytree(data.pki, service.pki)
    sessions = open_database(service)
    with sessions() as session, session.begin():
        body = seed(session, commune.pki)
        seed_demo_accounts(session, body, demo_people(session, body))
        body_name = body.name
    store = FileStore(service.files)
    subject = "Về việc <kiểm tra> & đối chiếu văn bản"
    flow = issue_with_qr(sessions, store, data, Signing(tsa_url=commune.pki.tsa_url),
                         subject=subject)
    app = create_app(Settings(data_dir=service.root, database_url=service.database_url,
                              max_upload_mb=MAX_MB, public_verify_limit=100))
    with TestClient(app) as client:
        yield Site(client, app, sessions, store, flow, subject, body_name)


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _upload(site: Site, pdf: bytes, name: str = "van-ban.pdf") -> Any:
    return site.client.post(f"/v/{site.flow.code}",
                            files={"file": (name, pdf, "application/pdf")})


def _public_events(site: Site) -> list[AuditEvent]:
    with site.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == AuditAction.VERIFY, AuditEvent.actor == PUBLIC_ACTOR)
            .order_by(AuditEvent.seq)))


def test_the_page_shows_the_register_entry_without_a_login(site: Site) -> None:
    flow = site.flow
    for code in (flow.code, flow.code.upper()):
        page = site.client.get(f"/v/{code}")
        assert page.status_code == 200 and "authorization" not in site.client.headers
        text = _text(page.text)
        for shown in (flow.number_symbol, WHEN.strftime("%d/%m/%Y"), site.subject, SIGNER,
                      "Phó Chủ tịch", site.body_name, "Đã ban hành", "Kiểm tra văn bản"):
            assert shown in text, shown
    assert "<kiểm tra>" not in page.text  # the subject is escaped
    assert 'enctype="multipart/form-data"' in page.text and f"tối đa {MAX_MB} MB" in text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "noindex" in page.headers["x-robots-tag"]


def test_an_unknown_code_is_404_in_vietnamese(site: Site) -> None:
    for code in ("a" * 12, "abc", site.flow.code[:-1] + "9"):
        page = site.client.get(f"/v/{code}")
        assert page.status_code == 404
        assert "Không tìm thấy văn bản" in _text(page.text)
    upload = site.client.post("/v/" + "b" * 12, files={"file": ("x.pdf", b"%PDF-", "x")})
    assert upload.status_code == 404


def test_the_issued_file_is_the_issued_version(site: Site) -> None:
    before = len(_public_events(site))
    answer = _upload(site, site.flow.files[VersionKind.ISSUED], "qd.pdf")
    assert answer.status_code == 200
    text = _text(answer.text)
    assert "Tệp này đúng là bản đã ban hành." in text and "KẾT LUẬN: HỢP LỆ" in text
    assert site.flow.number_symbol in text and "KHÔNG phải" not in text
    events = _public_events(site)
    assert len(events) == before + 1
    event = events[-1]
    assert (event.object_type, event.object_id) == ("document", site.flow.document_id)
    assert '"genuine":true' in event.details and '"relation":"ISSUED"' in event.details
    assert "qd.pdf" in event.details


def test_an_altered_copy_is_not_the_issued_version(site: Site) -> None:
    before = len(_public_events(site))
    altered = change_page_content(site.flow.files[VersionKind.ISSUED])
    answer = _upload(site, altered)
    assert answer.status_code == 200
    text = _text(answer.text)
    assert "Tệp này KHÔNG phải bản đã ban hành" in text and "KẾT LUẬN: KHÔNG HỢP LỆ" in text
    assert "đúng là bản đã ban hành" not in text
    approved = _text(_upload(site, site.flow.files[VersionKind.APPROVED]).text)
    assert "KHÔNG phải bản đã ban hành" in approved and "trước khi ban hành" in approved
    events = _public_events(site)[before:]
    assert len(events) == 2 and all('"genuine":false' in e.details for e in events)


def test_refusals_too_large_and_not_a_pdf(site: Site) -> None:
    before = len(_public_events(site))
    big = _upload(site, b"%PDF-1.7\n" + b"0" * (MAX_MB * 1024 * 1024 + 10))
    assert big.status_code == 413 and f"lớn hơn giới hạn {MAX_MB} MB" in _text(big.text)
    junk = _upload(site, b"this is not a PDF")
    assert junk.status_code == 422 and "Không kiểm tra được tệp" in _text(junk.text)
    empty = site.client.post(f"/v/{site.flow.code}", data={"x": "1"})
    assert empty.status_code == 400 and "Chưa chọn tệp" in _text(empty.text)
    assert len(_public_events(site)) == before  # nothing was verified


def test_uploads_are_rate_limited_per_client(site: Site) -> None:
    site.app.state.public_limiter = UploadLimiter(2, 600.0)
    try:
        issued = site.flow.files[VersionKind.ISSUED]
        assert [_upload(site, issued).status_code for _ in range(2)] == [200, 200]
        refused = _upload(site, issued)
        assert refused.status_code == 429
        assert "quá nhiều tệp" in _text(refused.text)
        assert 0 < int(refused.headers["retry-after"]) <= 600
        assert site.client.get(f"/v/{site.flow.code}").status_code == 200  # reading is free
    finally:
        site.app.state.public_limiter = None


def test_the_limiter_window_slides() -> None:
    now = [1000.0]
    limiter = UploadLimiter(2, 60.0, clock=lambda: now[0])
    assert limiter.take("a") is None and limiter.take("a") is None
    assert limiter.take("a") == pytest.approx(60.0)
    assert limiter.take("b") is None  # another client has its own count
    now[0] += 30
    assert limiter.take("a") == pytest.approx(30.0)
    now[0] += 30.5
    assert limiter.take("a") is None


def test_the_authenticated_report_has_a_register_block(site: Site, data: DataDir,
                                                       commune: DemoCommune,
                                                       sample_pdf: bytes) -> None:
    login = site.client.post("/api/v1/auth/login",
                             json={"username": "kiemtra", "password": "kiemtra-demo"})
    assert login.status_code == 200, login.text
    auth = {"Authorization": f"Bearer {login.json()['token']}"}
    issued = site.flow.files[VersionKind.ISSUED]
    other = sign_as(data, commune.pki, "chu-tich", sample_pdf)
    altered = change_page_content(issued)
    files = [("files", (name, pdf, "application/pdf"))
             for name, pdf in (("a.pdf", issued), ("b.pdf", altered), ("c.pdf", other))]
    a, b, c = site.client.post("/api/v1/verify", files=files, headers=auth).json()
    assert a["verdict"] == "valid" and a["register"]["exact"] is True
    assert a["register"]["relation"] == "ISSUED"
    assert a["register"]["document_id"] == site.flow.document_id
    assert a["register"]["entry"]["number_symbol"] == site.flow.number_symbol
    assert a["register"]["entry"]["recipients"]
    assert b["verdict"] == "invalid" and b["register"]["relation"] == "CLAIMED"
    assert b["register"]["exact"] is False
    assert b["register"]["document_id"] == site.flow.document_id
    assert c["register"] is None


def test_settings_for_qr_codes() -> None:
    assert Settings(verify_qr=False).qr_url is None
    assert Settings(verify_qr=True, port=8123).qr_url == "http://127.0.0.1:8123"
    assert Settings(verify_qr=True, public_url="https://kyso.x.vn/").qr_url == \
        "https://kyso.x.vn"
    with pytest.raises(ValueError, match="KYSO_PUBLIC_URL"):
        Settings(public_url="kyso.x.vn")
    with pytest.raises(ValueError, match="KYSO_PUBLIC_URL"):
        Settings(verify_qr=True, profile="scale-out", secret_key="s" * 40)


def test_the_prepare_task_prints_the_qr_code_when_the_service_does(site: Site) -> None:
    saved = list(document_tasks._runtime)

    def unused(*_: Any) -> Any:
        raise AssertionError("preparing signs nothing")

    document_tasks.configure(document_tasks.Runtime(
        sessions=site.sessions, store=site.store, signer_for=unused, signing=Signing(),
        seal_for=unused, signature_image_for=unused, public_url=BASE))
    try:
        links = {}
        for qr in (None, False):
            with site.sessions() as session, session.begin():
                body = session.scalars(select(Organisation)).one()
                doc_id = new_draft(session, site.store, body, "quyet-dinh", "Chuẩn bị",
                                   DRAFT.read_bytes()).id
            assert document_tasks.prepare_document(doc_id, "Văn thư", qr) == {
                "status": "PREPARED"}
            with site.sessions() as session:
                document = session.get_one(Document, doc_id)
                assert document.status is DocumentStatus.PREPARED
                prepared = latest_version(session, document, VersionKind.PREPARED)
                assert prepared is not None
                links[qr] = qr_links(site.store.get(prepared.sha256))
    finally:
        document_tasks._runtime[:] = saved
    (printed,) = links[None]
    assert printed.startswith(BASE + "/v/") and links[False] == []
