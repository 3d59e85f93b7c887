"""The service's smaller holes of issue 11, each closed with a test over HTTP against the
real app (FastAPI's in-process client on a seeded demo commune, or a real ``kyso serve``
where only the real process shows the hole: file modes, forwarded addresses, reading
an upload)."""

from __future__ import annotations

import dataclasses
import io
import select as io_select
import shutil
import socket
import stat
import time
from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.database import open_database
from api.datadir import DataDir
from api.demo.accounts import demo_password, seed_demo_accounts
from api.demo.commune import demo_people, seed
from api.demo.demo import DemoCommune
from api.settings import Settings
from documents import Document, Organisation, OrganisationKind, Person
from documents.accounts import Role, create_user, grant

from .conftest import TESTS_DATA
from .service_support import Service, embedded_service, upload, wait_for

MAX_MB = 1
NEIGHBOUR = "canbo-hungdao"
NEIGHBOUR_PASSWORD = "mat-khau-hung-dao"
EVIL = {"Origin": "https://evil.example"}


@dataclasses.dataclass
class Site:
    app: FastAPI
    root: DataDir
    sessions: sessionmaker[Session]
    body_id: int
    other_body_id: int
    other_person_id: int
    clients: list[TestClient] = dataclasses.field(default_factory=list)

    def client(self, base_url: str = "http://testserver", app: FastAPI | None = None,
               peer: str = "testclient") -> TestClient:
        client = TestClient(app or self.app, base_url=base_url, client=(peer, 50000))
        client.__enter__()
        self.clients.append(client)
        return client

    def login(self, username: str, password: str | None = None, *,
              client: TestClient | None = None) -> TestClient:
        """A client holding the session cookie of ``username`` (no bearer header)."""
        client = client or self.client()
        answer = client.post("/api/v1/auth/login", json={
            "username": username, "password": password or demo_password(username)})
        assert answer.status_code == 200, answer.text
        return client

    def bearer(self, username: str, password: str | None = None) -> TestClient:
        """A client with a bearer token and no cookie (the agent, scripts)."""
        client = self.client()
        token = client.post("/api/v1/auth/login", json={
            "username": username,
            "password": password or demo_password(username)}).json()["token"]
        client.cookies.clear()
        client.headers["Authorization"] = f"Bearer {token}"
        return client


def make_app(root: DataDir, **settings: Any) -> FastAPI:
    from api.http.app import create_app

    return create_app(Settings(data_dir=root.root, database_url=root.database_url,
                               max_upload_mb=MAX_MB, prepare_wait=0.2, **settings))


@pytest.fixture(scope="module")
def site(data: DataDir, commune: DemoCommune,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = DataDir(tmp_path_factory.mktemp("hardening") / "data").create()
    shutil.copytree(data.pki, root.pki)
    sessions = open_database(root)
    with sessions() as session, session.begin():
        body = seed(session, commune.pki)
        seed_demo_accounts(session, body, demo_people(session, body))
        other = Organisation(kind=OrganisationKind.PEOPLE_COMMITTEE, name="UBND xã Hưng Đạo",
                             abbreviation="UBND", place_name="Hưng Đạo")
        session.add(other)
        session.flush()
        stranger = Person(body=other, full_name="Trần Văn Khách", position="Chủ tịch")
        session.add(stranger)
        neighbour = create_user(session, NEIGHBOUR, NEIGHBOUR_PASSWORD, "Cán bộ xã Hưng Đạo")
        for role in (Role.DRAFTER, Role.ADMIN):
            grant(session, neighbour, other, role)
        session.flush()
        ids = body.id, other.id, stranger.id
    found = Site(make_app(root), root, sessions, *ids)
    try:
        yield found
    finally:
        for client in found.clients:
            client.__exit__(None, None, None)


def _error(answer: Any) -> dict[str, str]:
    error: dict[str, str] = answer.json()["error"]
    assert error["vi"] and error["en"] and error["vi"] != error["en"]
    return error


def _draft() -> bytes:
    return (TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf").read_bytes()


def _documents(site: Site) -> int:
    with site.sessions() as session:
        return len(session.scalars(select(Document.id)).all())


# --- CSRF ----------------------------------------------------------------------------------

def test_a_cookie_call_from_another_site_is_refused_without_the_csrf_token(site: Site) -> None:
    clerk = site.login("vanthu")
    before = _documents(site)
    # a page elsewhere posting with the clerk's cookie: upload, recall, mark read
    forged = clerk.post("/api/v1/documents", headers=EVIL, files={
        "file": ("du-thao.pdf", _draft(), "application/pdf")},
        data={"body_id": str(site.body_id), "doc_type": "quyet-dinh", "subject": "Giả mạo"})
    assert forged.status_code == 403, forged.text
    assert _error(forged)["type"] == "CsrfRefused"
    assert _documents(site) == before  # nothing stored
    for path in ("/api/v1/notifications/read", "/api/v1/documents/x/recall",
                 "/api/v1/requests/1/approve"):
        answer = clerk.post(path, json={}, headers=EVIL)
        assert answer.status_code == 403 and _error(answer)["type"] == "CsrfRefused", path
        # no Origin and no Referer at all: refused too
        assert clerk.post(path, json={}).status_code == 403, path


def test_the_session_token_or_this_sites_origin_lets_a_cookie_call_through(site: Site) -> None:
    from api.http.csrf import session_token

    clerk = site.login("vanthu")
    token = session_token(site.app.state.services.settings.secret_key,
                          clerk.cookies["kyso_session"])
    with_token = clerk.post("/api/v1/notifications/read", json={},
                            headers={**EVIL, "X-CSRF-Token": token})
    assert with_token.status_code == 200, with_token.text
    wrong = clerk.post("/api/v1/notifications/read", json={},
                       headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    for header in ({"Origin": "http://testserver"},
                   {"Referer": "http://testserver/docs"}):
        assert clerk.post("/api/v1/notifications/read", json={},
                          headers=header).status_code == 200, header
    # reading needs no token
    assert clerk.get("/api/v1/documents", headers=EVIL).status_code == 200


def test_bearer_token_clients_need_no_csrf_token(site: Site) -> None:
    script = site.bearer("vanthu")
    answer = script.post("/api/v1/notifications/read", json={}, headers=EVIL)
    assert answer.status_code == 200, answer.text
    # a bearer header wins over a cookie the same client may also hold
    script.cookies.set("kyso_session", "kyso_whatever")
    assert script.post("/api/v1/notifications/read", json={}).status_code == 200


# --- the register as a spreadsheet ---------------------------------------------------------

FORMULAS = ("=HYPERLINK(\"https://evil.example\",\"Bấm vào đây\")", "+1+1", "-2+3", "@SUM(A1)")


def test_register_xlsx_cells_are_text_never_formulas(site: Site) -> None:
    import openpyxl

    from documents import IssueDetails, NumberBook, register_issue

    with site.sessions() as session, session.begin():
        book = session.scalars(select(NumberBook).where(NumberBook.body_id == site.body_id,
                                                        NumberBook.code == "chung")).one()
        for n, recipient in enumerate(FORMULAS):
            document = Document(body_id=site.body_id, doc_type_code="quyet-dinh",
                                subject=f"{FORMULAS[0]} số {n}")
            session.add(document)
            session.flush()
            register_issue(session, document, book, IssueDetails(
                issued_date=date(2024, 3, 5 + n), signer_full_name="=1+2",
                signer_position="Phó Chủ tịch",
                recipients=recipient + ("\x07" if n == 0 else ""),
                archive_holder="VP", issued_amount=1))
    clerk = site.bearer("vanthu")
    answer = clerk.get(f"/api/v1/register/{site.body_id}/2024/export.xlsx")
    assert answer.status_code == 200, answer.text
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row
             if isinstance(cell.value, str)}
    assert FORMULAS[0] + "?" in cells  # the bell character XML cannot hold became "?"
    for n, recipient in enumerate(FORMULAS):
        cell = cells[recipient + ("?" if n == 0 else "")]
        assert cell.data_type == "s", (recipient, cell.data_type)
    assert cells["=1+2"].data_type == "s"
    subjects = [c for v, c in cells.items() if v.startswith("Quyết định =HYPERLINK")]
    assert len(subjects) == len(FORMULAS) and {c.data_type for c in subjects} == {"s"}


# --- unknown values and foreign ids ----------------------------------------------------------

def test_an_unknown_document_type_is_a_bilingual_422(site: Site) -> None:
    clerk = site.bearer("vanthu")
    before = _documents(site)
    answer = clerk.post("/api/v1/documents", files={
        "file": ("du-thao.pdf", _draft(), "application/pdf")},
        data={"body_id": str(site.body_id), "doc_type": "khong-co", "subject": "Thử"})
    assert answer.status_code == 422, answer.text
    error = _error(answer)
    assert error["type"] == "UnknownDocumentType" and "khong-co" in error["vi"]
    # a field missing altogether: FastAPI's 422, with the field named in both languages
    missing = clerk.post("/api/v1/documents", files={
        "file": ("du-thao.pdf", _draft(), "application/pdf")},
        data={"body_id": str(site.body_id), "subject": "Thử"})
    assert missing.status_code == 422 and "loại văn bản" in _error(missing)["vi"]
    assert missing.json()["detail"][0]["loc"] == ["body", "doc_type"]
    assert _documents(site) == before


def test_unknown_values_in_request_bodies_are_422_not_500(site: Site) -> None:
    admin = site.bearer("quantri")
    base = f"/api/v1/admin/bodies/{site.body_id}"
    with site.sessions() as session:
        person_id = session.scalars(select(Person.id).where(
            Person.body_id == site.body_id)).first()
    cases = [
        ("post", f"{base}/users", {"username": "moi-mot", "password": "mat-khau-moi-mot",
                                   "display_name": "Mới", "roles": ["KING"]}),
        ("post", f"{base}/authorities", {"person_id": person_id, "token_name": "x",
                                         "designation": "BOSS", "certificate_sha256": "0" * 64}),
        ("post", f"{base}/authorities", {"person_id": person_id, "token_name": "x",
                                         "doc_types": ["khong-co"],
                                         "certificate_sha256": "0" * 64}),
        ("post", f"{base}/number-books", {"code": "moi", "name": "Sổ mới", "scope": "GALAXY"}),
        ("post", f"{base}/number-books", {"code": "moi", "name": "Sổ mới",
                                          "doc_types": ["khong-co"]}),
        ("post", f"/api/v1/register/{site.body_id}/2025/exports", {"format": "docx"}),
    ]
    users = admin.get(f"{base}/users").json()
    cases.append(("patch", f"{base}/users/{users[0]['id']}", {"roles": ["KING"]}))
    for method, path, body in cases:
        answer = admin.request(method.upper(), path, json=body)
        assert answer.status_code == 422, (path, body, answer.status_code, answer.text)
        assert _error(answer)["type"] in ("UnknownValue", "UnknownDocumentType"), answer.text


def test_routing_to_an_unknown_or_foreign_person_is_422_naming_nobody(site: Site) -> None:
    drafter = site.bearer("chuyenvien")
    with site.sessions() as session, session.begin():
        document = Document(body_id=site.body_id, doc_type_code="quyet-dinh", subject="Thử")
        session.add(document)
        session.flush()
        document_id = document.id
    for person_id in (999_999, site.other_person_id):
        answer = drafter.post(f"/api/v1/documents/{document_id}/route",
                              json={"signer_person_ids": [person_id]})
        assert answer.status_code == 422, answer.text
        assert "Khách" not in answer.text  # the neighbour's person is not named
    assert drafter.post(f"/api/v1/documents/{document_id}/route", json={
        "signer_person_ids": [1], "priority": 42}).status_code == 422


def test_everything_outside_the_callers_bodies_is_404(site: Site) -> None:
    """The neighbour commune's staff (drafter and administrator of their own body) asking
    for the demo commune's body, people, authorities, books, users, register, export."""
    neighbour = site.bearer(NEIGHBOUR, NEIGHBOUR_PASSWORD)
    body = site.body_id
    with site.sessions() as session:
        person_id = session.scalars(select(Person.id).where(Person.body_id == body)).first()
    gets = [f"/api/v1/bodies/{body}/signers", f"/api/v1/register/{body}/2025",
            f"/api/v1/register/{body}/2025/export.xlsx",
            f"/api/v1/admin/bodies/{body}/people", f"/api/v1/admin/bodies/{body}/authorities",
            f"/api/v1/admin/bodies/{body}/number-books", f"/api/v1/admin/bodies/{body}/users"]
    for path in gets:
        answer = neighbour.get(path)
        assert answer.status_code == 404, (path, answer.status_code, answer.text)
        assert "Tiên Lữ" not in answer.text, path
    posts = [("POST", f"/api/v1/register/{body}/2025/exports", {"format": "pdf"}),
             ("PATCH", f"/api/v1/admin/bodies/{body}/people/{person_id}", {"active": False}),
             ("POST", f"/api/v1/admin/bodies/{body}/people", {"full_name": "X", "position": "Y"})]
    for method, path, json in posts:
        answer = neighbour.request(method, path, json=json)
        assert answer.status_code == 404, (path, answer.status_code, answer.text)
    upload = neighbour.post("/api/v1/documents", files={
        "file": ("du-thao.pdf", _draft(), "application/pdf")},
        data={"body_id": str(body), "doc_type": "quyet-dinh", "subject": "Thử"})
    assert upload.status_code == 404, upload.text
    # a body that does not exist answers exactly the same
    missing = neighbour.get("/api/v1/register/987654/2025")
    assert missing.status_code == 404
    assert missing.json()["error"]["vi"].replace("987654", str(body)) == neighbour.get(
        f"/api/v1/register/{body}/2025").json()["error"]["vi"]
    # within its own body, a member lacking the role still gets 403
    drafter = site.bearer("chuyenvien")
    assert drafter.get(f"/api/v1/register/{body}/2025").status_code == 403


# --- error texts ---------------------------------------------------------------------------

BROKEN = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_a_broken_pdf_is_described_by_its_name_not_a_python_object(site: Site) -> None:
    clerk = site.bearer("vanthu")
    with site.sessions() as session, session.begin():
        document = Document(body_id=site.body_id, doc_type_code="quyet-dinh", subject="Thử")
        session.add(document)
        session.flush()
        document_id = document.id
    upload = clerk.post("/api/v1/documents", files={
        "file": ("du-thao-hong.pdf", BROKEN, "application/pdf")},
        data={"body_id": str(site.body_id), "doc_type": "quyet-dinh", "subject": "Thử"})
    attachment = clerk.post(f"/api/v1/documents/{document_id}/attachments", files={
        "file": ("phu-luc.pdf", BROKEN, "application/pdf")})
    for answer, names in ((upload, ("du-thao-hong.pdf", "du-thao-hong.pdf")),
                          (attachment, ("tệp tải lên", "uploaded file"))):
        assert answer.status_code == 422, answer.text
        error = _error(answer)
        for text, name in zip((error["vi"], error["en"]), names, strict=True):
            assert "BytesIO" not in text and "object at 0x" not in text, text
            assert name in text, text
            assert "pages tree" in text  # what qpdf found is still said
        assert "uploaded file" not in error["vi"]  # each language alone


# --- password changes end the other sessions -----------------------------------------------

def _new_member(site: Site, username: str, password: str, role: Role = Role.CLERK) -> int:
    with site.sessions() as session, session.begin():
        account = create_user(session, username, password, username)
        grant(session, account, site.body_id, role)
        session.flush()
        return account.id


def test_an_administrators_password_reset_ends_every_session_of_the_account(site: Site) -> None:
    user_id = _new_member(site, "vanthu-hai", "mat-khau-cu-2025")
    browser = site.login("vanthu-hai", "mat-khau-cu-2025")
    agent = site.bearer("vanthu-hai", "mat-khau-cu-2025")
    for client in (browser, agent):
        assert client.get("/api/v1/auth/me").status_code == 200
    admin = site.bearer("quantri")
    reset = admin.patch(f"/api/v1/admin/bodies/{site.body_id}/users/{user_id}",
                        json={"password": "mat-khau-moi-2025"})
    assert reset.status_code == 200, reset.text
    for client in (browser, agent):
        answer = client.get("/api/v1/auth/me")
        assert answer.status_code == 401 and _error(answer)["type"] == "InvalidToken"
    assert admin.get("/api/v1/auth/me").status_code == 200  # the administrator's stays
    site.login("vanthu-hai", "mat-khau-moi-2025")


def test_changing_ones_own_password_ends_the_other_sessions_only(site: Site) -> None:
    from api.http.csrf import session_token

    _new_member(site, "vanthu-ba", "mat-khau-cu-2025")
    here = site.login("vanthu-ba", "mat-khau-cu-2025")
    elsewhere = site.login("vanthu-ba", "mat-khau-cu-2025")
    script = site.bearer("vanthu-ba", "mat-khau-cu-2025")
    token = session_token(site.app.state.services.settings.secret_key,
                          here.cookies["kyso_session"])
    wrong = here.post("/api/v1/auth/password", headers={"X-CSRF-Token": token}, json={
        "current_password": "khong-phai-mat-khau", "new_password": "mat-khau-moi-2025"})
    assert wrong.status_code == 401
    changed = here.post("/api/v1/auth/password", headers={"X-CSRF-Token": token}, json={
        "current_password": "mat-khau-cu-2025", "new_password": "mat-khau-moi-2025"})
    assert changed.status_code == 200 and changed.json()["revoked_tokens"] == 2, changed.text
    assert here.get("/api/v1/auth/me").status_code == 200
    for client in (elsewhere, script):
        assert client.get("/api/v1/auth/me").status_code == 401
    old = site.client().post("/api/v1/auth/login", json={
        "username": "vanthu-ba", "password": "mat-khau-cu-2025"})
    assert old.status_code == 401
    site.login("vanthu-ba", "mat-khau-moi-2025")


# --- the session cookie over HTTPS -----------------------------------------------------------

def _set_cookie(answer: Any, name: str = "kyso_session") -> str:
    found = [h for h in answer.headers.get_list("set-cookie") if h.startswith(name + "=")]
    assert len(found) == 1, answer.headers
    return str(found[0]).lower()


def test_the_session_cookie_is_secure_whenever_the_service_is_reached_over_https(
        site: Site) -> None:
    login = {"username": "kiemtra", "password": demo_password("kiemtra")}
    # a request that came over HTTPS (directly, or a trusted proxy's X-Forwarded-Proto)
    direct = site.client("https://testserver").post("/api/v1/auth/login", json=login)
    assert "; secure" in _set_cookie(direct)
    proxied = make_app(site.root, trusted_proxies="10.0.0.2")
    behind = site.client(app=proxied, peer="10.0.0.2").post(
        "/api/v1/auth/login", json=login, headers={"X-Forwarded-Proto": "https"})
    assert "; secure" in _set_cookie(behind)
    # the public URL is https (a proxy that says nothing)
    public = make_app(site.root, public_url="https://kyso.example.gov.vn")
    answer = site.client(app=public).post("/api/v1/auth/login", json=login)
    assert "; secure" in _set_cookie(answer)
    page = site.client(app=public).get("/dang-nhap")
    assert "; secure" in _set_cookie(page, "kyso_login_csrf")
    # the embedded default on loopback, plain HTTP: a browser must get the cookie back
    plain = site.client().post("/api/v1/auth/login", json=login)
    cookie = _set_cookie(plain)
    assert "; secure" not in cookie and "httponly" in cookie and "samesite=strict" in cookie
    # X-Forwarded-Proto from a peer that is not a trusted proxy changes nothing
    forged = site.client().post("/api/v1/auth/login", json=login,
                                headers={"X-Forwarded-Proto": "https"})
    assert "; secure" not in _set_cookie(forged)


# --- login throttling --------------------------------------------------------------------------

def _attempt(client: TestClient, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_guessing_a_password_elsewhere_does_not_lock_the_owner_out(site: Site) -> None:
    _new_member(site, "vanthu-bon", "mat-khau-dung-2025")
    owner = site.client(peer="10.1.1.1")
    assert _attempt(owner, "vanthu-bon", "mat-khau-dung-2025").status_code == 200
    attacker = site.client(peer="198.51.100.7")
    answers = [_attempt(attacker, "vanthu-bon", f"doan-{i}").status_code for i in range(8)]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}, answers
    throttled = _attempt(attacker, "vanthu-bon", "mat-khau-dung-2025")
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert _error(throttled)["type"] == "LoginThrottled"
    # many addresses each guessing a little: slowed all together
    for i in range(6):
        _attempt(site.client(peer=f"203.0.113.{i}"), "vanthu-bon", f"doan-xa-{i}")
    assert _attempt(site.client(peer="203.0.113.200"), "vanthu-bon",
                    "mat-khau-dung-2025").status_code == 429
    # the owner, from where they work, with the right password: in at once
    again = _attempt(owner, "vanthu-bon", "mat-khau-dung-2025")
    assert again.status_code == 200, again.text
    # and even after their own typos there
    for _ in range(3):
        assert _attempt(owner, "vanthu-bon", "go-nham").status_code == 401
    assert _attempt(owner, "vanthu-bon", "mat-khau-dung-2025").status_code == 200


def test_forwarded_addresses_are_believed_only_from_configured_proxies(site: Site) -> None:
    from documents.accounts import LoginAttempt

    proxied = make_app(site.root, trusted_proxies="10.0.0.0/24")
    for peer, forwarded, seen in (("10.0.0.2", "192.0.2.77", "192.0.2.77"),
                                  ("10.9.0.2", "192.0.2.78", "10.9.0.2"),
                                  ("127.0.0.1", "192.0.2.79", "127.0.0.1")):
        client = site.client(app=proxied, peer=peer)
        name = f"khach-{forwarded.rsplit('.', 1)[1]}"
        answer = client.post("/api/v1/auth/login", json={"username": name, "password": "x" * 12},
                             headers={"X-Forwarded-For": forwarded})
        assert answer.status_code == 401
        with site.sessions() as session:
            recorded = session.scalars(select(LoginAttempt.client).where(
                LoginAttempt.username == name)).all()
        assert recorded == [seen], (peer, recorded)
    # the default trusts no proxy at all
    assert Settings(data_dir=site.root.root).trusted_proxy_list == []
    with pytest.raises(ValueError, match="KYSO_TRUSTED_PROXIES"):
        Settings(data_dir=site.root.root, trusted_proxies="nginx.local")


# --- the upload limit while reading ---------------------------------------------------------

BOUNDARY = "kyso-boundary-7f3a"


def _multipart_head(boundary: str = BOUNDARY) -> bytes:
    """The form's fields, then the file part's headers: what precedes the file's bytes."""
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"body_id\"\r\n\r\n1\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"doc_type\"\r\n\r\n"
            f"quyet-dinh\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"subject\""
            f"\r\n\r\nLớn\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"lon.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()


def _multipart(size: int, boundary: str = BOUNDARY) -> tuple[bytes, str]:
    body = (_multipart_head(boundary) + b"%PDF-1.7\n" + b"0" * (size - 9)
            + f"\r\n--{boundary}--\r\n".encode())
    return body, f"multipart/form-data; boundary={boundary}"


def test_an_upload_over_the_limit_is_refused_413_declared_or_not(site: Site) -> None:
    clerk = site.bearer("vanthu")
    before = _documents(site)
    body, content_type = _multipart(3 * MAX_MB * 1024 * 1024)
    declared = clerk.post("/api/v1/documents", content=body,
                          headers={"Content-Type": content_type})
    assert declared.status_code == 413, declared.text
    error = _error(declared)
    assert error["type"] == "UploadTooLarge" and f"{MAX_MB} MB" in error["vi"]
    # no Content-Length (chunked): counted as it arrives
    chunked = clerk.post("/api/v1/documents", content=iter([body]),
                         headers={"Content-Type": content_type})
    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == 413 and _error(chunked)["type"] == "UploadTooLarge"
    # the web pages answer in HTML, into the page's alert region for htmx
    page = site.login("chuyenvien").post("/chuyen-vien/du-thao", content=body, headers={
        "Content-Type": content_type, "HX-Request": "true", "Origin": "http://testserver"})
    assert page.status_code == 413 and "giới hạn 1 MB" in page.text
    assert page.headers["hx-retarget"] == "#alerts"
    # a file just over the limit, inside the envelope's room: the route refuses it
    small, content_type = _multipart(MAX_MB * 1024 * 1024 + 10)
    answer = clerk.post("/api/v1/documents", content=small,
                        headers={"Content-Type": content_type})
    assert answer.status_code == 413 and _error(answer)["type"] == "UploadTooLarge"
    assert _documents(site) == before


def test_a_multipart_upload_under_the_limit_still_works(site: Site) -> None:
    clerk = site.bearer("vanthu")
    answer = clerk.post("/api/v1/documents", files={
        "file": ("du-thao.pdf", _draft(), "application/pdf")},
        data={"body_id": str(site.body_id), "doc_type": "quyet-dinh", "subject": "Nhỏ"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["versions"][0]["size"] == len(_draft())


# --- the real service: file modes, forwarded addresses, reading an upload --------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """``kyso serve`` (API, worker, demo) on a data directory it makes itself."""
    root = tmp_path_factory.mktemp("served")
    data = DataDir(root / "data")  # not created here: the service makes it
    with embedded_service(root, data, KYSO_MAX_UPLOAD_MB=str(MAX_MB)) as running:
        yield running


@pytest.mark.slow
def test_everything_the_service_writes_in_its_data_directory_is_private(
        served: Service) -> None:
    staff = served.login("chuyenvien")
    body_id = staff.get("/api/v1/bodies").json()[0]["id"]
    document = upload(staff, body_id, TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf")
    assert document.status_code == 201, document.text
    wait_for(staff, document.json()["id"], "PREPARED")  # the worker wrote too
    seen = {"dirs": 0, "files": 0}
    loose = []
    for path in [served.data.root, *served.data.root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            seen["dirs"] += 1
        elif stat.S_ISREG(mode):
            seen["files"] += 1
        if mode & 0o077:
            loose.append(f"{path.relative_to(served.data.root.parent)} {oct(mode & 0o777)}")
    assert not loose, loose
    names = {p.name for p in served.data.root.iterdir()}
    assert {"kyso.db", "tokens.json", "celery-broker.db", "files", "softhsm", "pki"} <= names
    assert seen["files"] > 10 and seen["dirs"] > 3, seen


@pytest.mark.slow
def test_a_local_peer_cannot_choose_the_client_address_with_x_forwarded_for(
        served: Service) -> None:
    from documents import create_engine_for, session_factory
    from documents.accounts import LoginAttempt

    answer = httpx.post(f"{served.url}/api/v1/auth/login",
                        json={"username": "khach-xff", "password": "x" * 12},
                        headers={"X-Forwarded-For": "192.0.2.99"}, timeout=60)
    assert answer.status_code == 401
    engine = create_engine_for(served.data.database_url)
    try:
        with session_factory(engine)() as session:
            recorded = session.scalars(select(LoginAttempt.client).where(
                LoginAttempt.username == "khach-xff")).all()
    finally:
        engine.dispose()
    assert recorded == ["127.0.0.1"]


@pytest.mark.slow
def _complete(answer: bytes) -> bool:
    """Whether ``answer`` holds a whole HTTP response: the head and ``Content-Length``
    bytes of body (they may arrive in separate packets)."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def test_the_service_stops_reading_an_upload_once_it_passes_the_limit(served: Service) -> None:
    """A chunked upload of up to 40 MB against a 1 MB limit: the 413 comes while the client
    is still sending, after about the limit (the rest is never read)."""
    token = served.login("chuyenvien").headers["Authorization"]
    host, port = urlsplit(served.url).hostname, urlsplit(served.url).port
    chunk, total, sent = 256 * 1024, 40 * 1024 * 1024, 0
    with socket.create_connection((host, port), timeout=60) as conn:
        conn.sendall((f"POST /api/v1/documents HTTP/1.1\r\nHost: {host}:{port}\r\n"
                      f"Authorization: {token}\r\nTransfer-Encoding: chunked\r\n"
                      f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n"
                      ).encode())
        head = _multipart_head() + b"%PDF-1.7\n"
        conn.sendall(f"{len(head):x}\r\n".encode() + head + b"\r\n")
        answer = b""
        try:
            while sent < total:
                conn.sendall(f"{chunk:x}\r\n".encode() + b"0" * chunk + b"\r\n")
                sent += chunk
                readable, _, _ = io_select.select([conn], [], [], 0)
                if readable:
                    answer = conn.recv(65536)
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass  # the service closed the connection after answering
        deadline = time.monotonic() + 30
        while not _complete(answer) and time.monotonic() < deadline:
            readable, _, _ = io_select.select([conn], [], [], 1)
            if readable:
                more = conn.recv(65536)
                if not more:
                    break
                answer += more
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert "giới hạn 1 MB".encode() in answer
    assert sent < 12 * 1024 * 1024, sent  # the service did not wait for all 40 MB
