"""The service over HTTP, as its users drive it: `kyso serve` (API + Celery worker + demo PKI)
started as a real process on 127.0.0.1, then each role's steps through the API."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from asn1crypto import pem
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from api.datadir import DataDir
from certs import free_port

from .conftest import TESTS_DATA
from .helpers import KYSO
from .service_support import Service, start_service, upload, wait_for

PROFILES = ["embedded", "postgres-redis", "postgres-rabbitmq"]


def smtp_server(inbox: list[tuple[list[str], str]]) -> Any:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) keeping (recipients, message) it receives."""
    from aiosmtpd.controller import Controller

    class Inbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            inbox.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    controller = Controller(Inbox(), hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


@contextlib.contextmanager
def backing_services(profile: str, name: str) -> Iterator[dict[str, str]]:
    """The environment of a profile: nothing for the embedded default; a fresh PostgreSQL
    database and a Redis database or RabbitMQ virtual host for the scale-out ones."""
    if profile == "embedded":
        yield {}
        return
    redis_url = os.environ.get("KYSO_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
    broker = urlsplit(redis_url if profile == "postgres-redis" else "amqp://127.0.0.1:5672")
    host, port = broker.hostname or "127.0.0.1", broker.port or 0
    with socket.socket() as probe:
        probe.settimeout(2)
        if probe.connect_ex((host, port)) != 0:
            if os.environ.get("CI") == "true":
                raise AssertionError(f"the broker for {profile} is not at {host}:{port}")
            pytest.skip(f"{profile}: nothing listens on {host}:{port}")
    admin_url = os.environ.get("KYSO_TEST_POSTGRES_URL",
                               "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL not reachable at {admin_url}: {exc}")
    env = {"KYSO_DATABASE_URL": admin_url.rsplit("/", 1)[0] + f"/{name}"}
    vhost = None
    if profile == "postgres-redis":
        env["KYSO_BROKER_URL"] = env["KYSO_RESULT_BACKEND"] = redis_url
        subprocess.run(["redis-cli", "-u", redis_url, "FLUSHDB"], capture_output=True,
                       check=False)
    else:
        vhost = name
        subprocess.run(["rabbitmqctl", "add_vhost", vhost], capture_output=True, check=True)
        subprocess.run(["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*",
                        ".*"], capture_output=True, check=True)
        env["KYSO_BROKER_URL"] = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
        env["KYSO_RESULT_BACKEND"] = "db+" + env["KYSO_DATABASE_URL"].replace(
            "postgresql+psycopg", "postgresql+psycopg")
    try:
        yield env
    finally:
        if vhost:
            subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True,
                           check=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module", params=PROFILES)
def service(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("service")
    data = DataDir(root / "data").create()
    port = free_port()
    name = f"kyso_e2e_{os.getpid()}_{port}"
    inbox: list[tuple[list[str], str]] = []
    mail = smtp_server(inbox)
    with backing_services(request.param, name) as extra:
        env = {k: v for k, v in os.environ.items()
               if k not in ("SOFTHSM2_CONF", "KYSO_DATABASE_URL", "KYSO_BROKER_URL",
                            "KYSO_RESULT_BACKEND")}
        env.update(extra, KYSO_SMTP_HOST="127.0.0.1", KYSO_SMTP_PORT=str(mail.port),
                   KYSO_MAIL_INTERVAL="1")
        service = start_service(data, port, env, root / "serve.log", inbox)
        try:
            yield service
        finally:
            mail.stop()
            service.stop()


@pytest.mark.slow
def test_whole_flow_over_http(service: Service) -> None:
    staff = service.login("chuyenvien")
    body_id = staff.get("/api/v1/bodies").json()[0]["id"]
    created = upload(staff, body_id, TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf")
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["status"] == "PREPARED"

    signers = {s["full_name"]: s["person_id"]
               for s in staff.get(f"/api/v1/bodies/{body_id}/signers").json()}
    routed = staff.post(f"/api/v1/documents/{document['id']}/route",
                        json={"signer_person_ids": [signers["Lê Minh Đức"]]})
    assert routed.status_code == 200, routed.text
    assert routed.json()["status"] == "AWAITING_SIGNATURE"

    vice_chair = service.login("phochutichduc")
    waiting = vice_chair.get("/api/v1/queue").json()
    assert [w["document_id"] for w in waiting] == [document["id"]]
    deadline = time.monotonic() + 60  # Celery beat e-mails the notification
    while time.monotonic() < deadline and not any(
            "phochutichduc@tien-lu.example" in to for to, _ in service.inbox):
        time.sleep(0.5)
    assert any("phochutichduc@tien-lu.example" in to for to, _ in service.inbox)
    preview = vice_chair.get(waiting[0]["preview"])
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")
    approved = vice_chair.post(f"/api/v1/requests/{waiting[0]['id']}/approve")
    assert approved.status_code == 202, approved.text
    assert approved.json()["task_id"]
    wait_for(vice_chair, document["id"], "SIGNED")  # signed by the worker on its SoftHSM token

    clerk = service.login("vanthu")
    queued = clerk.post(f"/api/v1/documents/{document['id']}/issue",
                        json={"recipients": "Như Điều 3; Lưu: VT."})
    assert queued.status_code == 202, queued.text
    issued = wait_for(clerk, document["id"], "ISSUED")
    assert issued["number"].endswith("/QĐ-UBND")

    auditor = service.login("kiemtra")
    pdf = auditor.get(f"/api/v1/documents/{document['id']}/versions/issued")
    assert pdf.status_code == 200
    (report,) = auditor.post("/api/v1/verify",
                             files=[("files", ("issued.pdf", pdf.content, "application/pdf"))]
                             ).json()
    assert report["verdict"] == "valid"
    assert [s["signer"] for s in report["signatures"]] == ["Lê Minh Đức", "UBND xã Tiên Lữ"]
    register = auditor.get(f"/api/v1/register/{body_id}/{issued['versions'][-1]['created_at'][:4]}")
    assert issued["number"] in [row["number"] for row in register.json()]

    # the clerk signs an attachment and makes a SAO Y copy, both on the organisation token
    from api.demo.art import appendix_pdf

    appendix = appendix_pdf(f"Quyết định số {issued['number']}")
    queued = clerk.post(f"/api/v1/documents/{document['id']}/attachments",
                        files={"file": ("phu-luc.pdf", appendix, "application/pdf")})
    assert queued.status_code == 202, queued.text
    assert clerk.post(f"/api/v1/documents/{document['id']}/copies",
                      json={"kind": "SAO_Y"}).status_code == 202
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        kinds = [v["kind"] for v in clerk.get(f"/api/v1/documents/{document['id']}").json()[
            "versions"]]
        copies = [d for d in clerk.get("/api/v1/documents").json() if d["type"] == "ban-sao-y"]
        if "ATTACHMENT" in kinds and copies and copies[0]["status"] == "ISSUED":
            break
        time.sleep(0.5)
    assert "ATTACHMENT" in kinds and copies and copies[0]["number"].endswith("/SY-UBND")
    attachment = clerk.get(f"/api/v1/documents/{document['id']}/versions/attachment")
    (attached,) = auditor.post("/api/v1/verify", files=[
        ("files", ("phu-luc.pdf", attachment.content, "application/pdf"))]).json()
    assert attached["verdict"] == "valid"

    check = subprocess.run([KYSO, "--data-dir", str(service.data.root), "audit", "verify"],
                           capture_output=True, text=True, timeout=60, env=service.env)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.slow
def test_a_signer_returns_a_draft_with_a_reason_and_it_leaves_the_queue(
        service: Service) -> None:
    staff = service.login("chuyenvien")
    body_id = staff.get("/api/v1/bodies").json()[0]["id"]
    document = upload(staff, body_id, TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf").json()
    signers = {s["full_name"]: s["person_id"]
               for s in staff.get(f"/api/v1/bodies/{body_id}/signers").json()}
    staff.post(f"/api/v1/documents/{document['id']}/route",
               json={"signer_person_ids": [signers["Lê Minh Đức"]]})
    vice_chair = service.login("phochutichduc")
    told = vice_chair.get("/api/v1/notifications").json()
    assert any(n["document_id"] == document["id"] and n["kind"] == "WAITING" for n in told)
    request_id = next(r["id"] for r in vice_chair.get("/api/v1/queue").json()
                      if r["document_id"] == document["id"])
    answer = vice_chair.post(f"/api/v1/requests/{request_id}/return",
                             json={"reason": "Sửa lại danh sách hộ gia đình ở Điều 1"})
    assert answer.status_code == 200, answer.text
    assert staff.get(f"/api/v1/documents/{document['id']}").json()["status"] == "RETURNED"
    assert all(r["document_id"] != document["id"]
               for r in vice_chair.get("/api/v1/queue").json())
    returned = [n for n in staff.get("/api/v1/notifications").json()
                if n["document_id"] == document["id"] and n["kind"] == "RETURNED"]
    assert len(returned) == 1 and "Sửa lại danh sách hộ gia đình" in returned[0]["text"]
    # the drafter sends the corrected draft: prepared again, routed again, waiting again
    corrected = (TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf").read_bytes() + b"\n%sua\n"
    again = staff.post(f"/api/v1/documents/{document['id']}/draft",
                       files={"file": ("sua.pdf", corrected, "application/pdf")})
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "PREPARED"
    assert [v["kind"] for v in again.json()["versions"]].count("DRAFT") == 2  # both kept
    assert staff.post(f"/api/v1/documents/{document['id']}/route", json={
        "signer_person_ids": [signers["Lê Minh Đức"]]}).status_code == 200
    assert document["id"] in [r["document_id"] for r in vice_chair.get("/api/v1/queue").json()]


@pytest.mark.slow
def test_a_draft_without_a_signature_block_is_kept_with_the_reason(service: Service) -> None:
    staff = service.login("chuyenvien")
    body_id = staff.get("/api/v1/bodies").json()[0]["id"]
    whole_appendix = TESTS_DATA / "drafts" / "official_nd30_phuluc3_from_docx.pdf"
    refused = upload(staff, body_id, whole_appendix)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["type"] == "DraftNotPrepared" and "chữ ký" in error["vi"]
    document_id = error["en"].split()[1]
    kept = staff.get(f"/api/v1/documents/{document_id}").json()
    assert kept["status"] == "DRAFT" and kept["problem"]
    assert [v["kind"] for v in kept["versions"]] == ["DRAFT"]
    # the corrected draft is prepared and the problem is gone
    fixed = staff.post(f"/api/v1/documents/{document_id}/draft", files={"file": (
        "sua.pdf", (TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf").read_bytes(),
        "application/pdf")})
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["status"] == "PREPARED" and fixed.json()["problem"] is None


@pytest.mark.slow
def test_a_draft_marked_du_thao_is_refused_then_covered_on_request(service: Service,
                                                                  tmp_path: Path) -> None:
    """Over HTTP, through the worker: the refusal names the mark; the drafter's
    ``cover_draft_mark=true`` on the new upload prepares it with the mark taken off."""
    from .test_marks import stamped, top_line

    staff = service.login("chuyenvien")
    body_id = staff.get("/api/v1/bodies").json()[0]["id"]
    marked = tmp_path / "du-thao.pdf"
    marked.write_bytes(stamped(TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf",
                               top_line("DỰ THẢO")))
    refused = upload(staff, body_id, marked)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["type"] == "DraftNotPrepared"
    assert "dòng “DỰ THẢO” ở đầu trang 1" in error["vi"] and "top of page 1" in error["en"]
    document_id = error["en"].split()[1]
    covered = staff.post(f"/api/v1/documents/{document_id}/draft",
                         data={"cover_draft_mark": "true"},
                         files={"file": ("du-thao.pdf", marked.read_bytes(), "application/pdf")})
    assert covered.status_code == 200, covered.text
    assert covered.json()["status"] == "PREPARED" and covered.json()["problem"] is None
    prepared = staff.get(f"/api/v1/documents/{document_id}/versions/prepared")
    assert prepared.status_code == 200
    text = subprocess.run(["pdftotext", "-", "-"], input=prepared.content,
                          capture_output=True, check=True).stdout.decode()
    assert "THẢO" not in text.upper() and "QUYẾT ĐỊNH" in text


@pytest.mark.slow
def test_each_role_is_refused_what_it_may_not_do(service: Service) -> None:
    staff = service.login("chuyenvien")
    body_id = staff.get("/api/v1/bodies").json()[0]["id"]
    document = upload(staff, body_id, TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf").json()
    # a drafter cannot issue; a signer cannot upload; nobody without login sees anything
    assert staff.post(f"/api/v1/documents/{document['id']}/issue", json={}).status_code == 403
    vice_chair = service.login("phochutichduc")
    refused = upload(vice_chair, body_id, TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf")
    assert refused.status_code == 403
    assert "Chuyên viên" in refused.json()["error"]["vi"]
    assert httpx.get(f"{service.url}/api/v1/documents").status_code == 401
    # another signer has nothing to approve, and cannot approve someone else's request
    staff.post(f"/api/v1/documents/{document['id']}/route",
               json={"signer_person_ids": [
                   {s["full_name"]: s["person_id"] for s in
                    staff.get(f"/api/v1/bodies/{body_id}/signers").json()}["Lê Minh Đức"]]})
    request_id = vice_chair.get("/api/v1/queue").json()[0]["id"]
    chair = service.login("chutich")
    assert chair.get("/api/v1/queue").json() == []
    assert chair.post(f"/api/v1/requests/{request_id}/approve").status_code == 404
    # wrong passwords get one answer whoever asks, then the name is throttled
    answers = [httpx.post(f"{service.url}/api/v1/auth/login",
                          json={"username": "nguoi-la", "password": "sai-mat-khau-1"})
               for _ in range(5)]
    assert {a.status_code for a in answers} == {401}
    assert len({a.json()["error"]["en"] for a in answers}) == 1
    throttled = httpx.post(f"{service.url}/api/v1/auth/login",
                           json={"username": "nguoi-la", "password": "sai-mat-khau-1"})
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers


class HeldTsa:
    """A real HTTP hop in front of the demo TSA that can hold requests: lets a test catch a
    signing task in the middle of its signature."""

    def __init__(self, target: Callable[[], str]) -> None:
        import http.server
        import threading
        import urllib.request

        self.hold = threading.Event()
        self.seen = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.seen.set()
                while outer.hold.is_set():
                    time.sleep(0.05)
                forwarded = urllib.request.Request(target(), data=body, headers={
                    "Content-Type": self.headers["Content-Type"]})
                with urllib.request.urlopen(forwarded, timeout=30) as answer:
                    reply = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsa"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.hold.clear()
        self.server.shutdown()


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["postgres-rabbitmq", "postgres-redis"])
def test_a_worker_killed_mid_signature_leaves_nothing_and_the_redelivered_task_signs_once(
        tmp_path: Path, profile: str) -> None:
    from api.cli.serve import start_worker
    from api.demo.demo import DEMO_PIN
    from certs import DemoPki

    data = DataDir(tmp_path / "data").create()
    tsa = HeldTsa(lambda: DemoPki(data.pki).tsa_url)
    port = free_port()
    with backing_services(profile, f"kyso_kill_{os.getpid()}_{port}") as extra:
        # Redis hands an unacknowledged task to another worker after the visibility
        # timeout (RabbitMQ at once, when the dead worker's connection closes)
        extra["KYSO_VISIBILITY_TIMEOUT"] = "8"
        # and should the redelivery itself be lost (kombu's restore lock held by the
        # killed worker lasts five minutes), the reconciliation sends the task again
        extra.update(KYSO_RECONCILE_INTERVAL="5", KYSO_TASK_STALE_SECONDS="45")
        env = {k: v for k, v in os.environ.items()
               if k not in ("SOFTHSM2_CONF", "KYSO_DATABASE_URL", "KYSO_BROKER_URL",
                            "KYSO_RESULT_BACKEND")}
        env.update(extra, KYSO_TSA_URL=tsa.url)
        log = (tmp_path / "serve.log").open("wb")
        serve = subprocess.Popen([KYSO, "serve", "--data-dir", str(data.root), "--port",
                                  str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        replacement: subprocess.Popen[bytes] | None = None
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(360):
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                        break
                time.sleep(0.5)
            service = Service(url, data, serve, env)
            staff = service.login("chuyenvien")
            body_id = staff.get("/api/v1/bodies").json()[0]["id"]
            document = upload(staff, body_id,
                              TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf").json()
            signers = {s["full_name"]: s["person_id"]
                       for s in staff.get(f"/api/v1/bodies/{body_id}/signers").json()}
            staff.post(f"/api/v1/documents/{document['id']}/route",
                       json={"signer_person_ids": [signers["Lê Minh Đức"]]})
            vice_chair = service.login("phochutichduc")
            request_id = vice_chair.get("/api/v1/queue").json()[0]["id"]

            tsa.hold.set()
            assert vice_chair.post(f"/api/v1/requests/{request_id}/approve").status_code == 202
            assert tsa.seen.wait(60), "the signing task never reached the TSA"
            workers = subprocess.run(["pgrep", "-P", str(serve.pid), "-f", "celery"],
                                     capture_output=True, text=True).stdout.split()
            assert len(workers) == 1
            beat = subprocess.run(["pgrep", "-P", workers[0]], capture_output=True,
                                  text=True).stdout.split()  # its embedded Celery beat
            os.kill(int(workers[0]), 9)  # SIGKILL, in the middle of the signature
            for child in beat:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(child), 9)
            time.sleep(1)
            tsa.hold.clear()
            state = vice_chair.get(f"/api/v1/documents/{document['id']}").json()
            assert state["status"] == "AWAITING_SIGNATURE"
            assert "APPROVED" not in [v["kind"] for v in state["versions"]]

            # a new worker gets the unacknowledged task again and completes it, once
            replacement = start_worker(data, ["pho-chu-tich-duc", "ubnd"],
                                       {"pho-chu-tich-duc": DEMO_PIN, "ubnd": DEMO_PIN},
                                       extra_env={**extra, "KYSO_TSA_URL": tsa.url,
                                                  "SOFTHSM2_CONF": str(data.softhsm /
                                                                       "softhsm2.conf")})
            signed = wait_for(vice_chair, document["id"], "SIGNED", seconds=240)
            assert [v["kind"] for v in signed["versions"]].count("APPROVED") == 1
            events = subprocess.run(
                [KYSO, "--data-dir", str(data.root), "audit", "list", "-n", "50",
                 "--object", document["id"]], capture_output=True, text=True, env=env,
                timeout=60).stdout
            # signed once, by the redelivered task (the reconciliation's own events about
            # the task it found and sent again carry "background")
            signatures = [line for line in events.splitlines() if line.startswith("#")
                          and line.split()[3] == "sign" and '"background"' not in line]
            assert len(signatures) == 1, events
            pdf = vice_chair.get(f"/api/v1/documents/{document['id']}/versions/approved")
            (report,) = vice_chair.post("/api/v1/verify", files=[
                ("files", ("a.pdf", pdf.content, "application/pdf"))]).json()
            assert report["verdict"] == "valid" and len(report["signatures"]) == 1
        finally:
            for process in (replacement, serve):
                if process is not None:
                    process.terminate()
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(timeout=20)
                    if process.poll() is None:
                        process.kill()
            tsa.close()


@pytest.mark.slow
def test_one_commune_cannot_see_another_communes_documents(service: Service) -> None:
    from documents import Organisation, OrganisationKind, create_engine_for, session_factory
    from documents.accounts import Role, create_user, grant

    staff = service.login("chuyenvien")
    body_id = staff.get("/api/v1/bodies").json()[0]["id"]
    document = upload(staff, body_id, TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf").json()

    url = service.env.get("KYSO_DATABASE_URL") or service.data.database_url
    engine = create_engine_for(url)
    with session_factory(engine)() as session, session.begin():
        other = Organisation(kind=OrganisationKind.PEOPLE_COMMITTEE, name="UBND xã Hưng Đạo",
                             abbreviation="UBND", place_name="Hưng Đạo")
        session.add(other)
        session.flush()
        neighbour = create_user(session, "canbo-hungdao", "mat-khau-hung-dao",
                                "Cán bộ xã Hưng Đạo")
        grant(session, neighbour, other, Role.DRAFTER)
        grant(session, neighbour, other, Role.AUDITOR)
    engine.dispose()

    client = httpx.Client(base_url=service.url, timeout=60)
    token = client.post("/api/v1/auth/login", json={
        "username": "canbo-hungdao", "password": "mat-khau-hung-dao"}).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"
    assert [b["name"] for b in client.get("/api/v1/bodies").json()] == ["UBND xã Hưng Đạo"]
    assert client.get("/api/v1/documents").json() == []
    assert client.get(f"/api/v1/documents/{document['id']}").status_code == 404
    assert client.get(f"/api/v1/documents/{document['id']}/versions/draft").status_code == 404
    assert client.get(f"/api/v1/bodies/{body_id}/signers").status_code == 404
    assert client.get(f"/api/v1/register/{body_id}/2026").status_code == 404
    sneaky = upload(client, body_id, TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf")
    assert sneaky.status_code == 404


@pytest.mark.slow
def test_an_administrator_adds_a_signer_with_authority_and_an_account(service: Service) -> None:
    import datetime as dt

    from cryptography import x509 as pyca
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    admin = service.login("quantri")
    body_id = admin.get("/api/v1/bodies").json()[0]["id"]
    person = admin.post(f"/api/v1/admin/bodies/{body_id}/people", json={
        "full_name": "Phạm Thị Ngọc", "position": "Phó Chủ tịch"})
    assert person.status_code == 201, person.text
    person_id = person.json()["person_id"]
    granted = admin.post(f"/api/v1/admin/bodies/{body_id}/authorities", json={
        "person_id": person_id, "token_name": "pho-chu-tich-ngoc", "designation": "KT",
        "certificate_sha256": "ab" * 32})
    assert granted.status_code == 201, granted.text
    account = admin.post(f"/api/v1/admin/bodies/{body_id}/users", json={
        "username": "phochutichngoc", "password": "ngoc-mat-khau-dai", "person_id": person_id,
        "display_name": "Phạm Thị Ngọc", "roles": ["SIGNER"]})
    assert account.status_code == 201, account.text
    assert "Phạm Thị Ngọc" in [s["full_name"] for s in
                               admin.get(f"/api/v1/bodies/{body_id}/signers").json()]
    newcomer = httpx.post(f"{service.url}/api/v1/auth/login", json={
        "username": "phochutichngoc", "password": "ngoc-mat-khau-dai"})
    assert newcomer.status_code == 200 and newcomer.json()["person_id"] == person_id

    staff = service.login("chuyenvien")
    assert staff.post(f"/api/v1/admin/bodies/{body_id}/people", json={
        "full_name": "X", "position": "Y"}).status_code == 403

    key = ec.generate_private_key(ec.SECP256R1())
    name = pyca.Name([pyca.NameAttribute(NameOID.COMMON_NAME, "CA thử nghiệm của tỉnh")])
    now = dt.datetime.now(dt.UTC)
    ca = (pyca.CertificateBuilder().subject_name(name).issuer_name(name)
          .public_key(key.public_key()).serial_number(7).not_valid_before(now)
          .not_valid_after(now + dt.timedelta(days=365))
          .add_extension(pyca.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(key, hashes.SHA256()))
    pem = ca.public_bytes(serialization.Encoding.PEM)
    added = admin.post("/api/v1/admin/trust-anchors",
                       files={"file": ("ca.pem", pem, "application/x-pem-file")})
    assert added.status_code == 201, added.text
    (entry,) = added.json()["added"]
    # kept in the database (every API process and worker sees it), for this body only
    assert entry["scope"] == "body" and entry["body_id"] == body_id
    anchors = admin.get("/api/v1/admin/trust-anchors").json()
    assert {"sha256": entry["sha256"], "origin": "admin", "scope": "body"}.items() <= next(
        a for a in anchors if a["sha256"] == entry["sha256"]).items()


@pytest.mark.slow
def test_an_administrator_lists_edits_and_deactivates(service: Service) -> None:
    admin = service.login("quantri")
    body_id = admin.get("/api/v1/bodies").json()[0]["id"]
    base = f"/api/v1/admin/bodies/{body_id}"
    people = {p["full_name"]: p for p in admin.get(f"{base}/people").json()}
    assert {"Lê Minh Đức", "Bùi Thị Lan"} <= set(people)
    users = {u["username"]: u for u in admin.get(f"{base}/users").json()}
    assert users["chuyenvien"]["person_id"] == people["Bùi Thị Lan"]["id"]
    assert users["vanthu"]["roles"] == ["CLERK"]

    # a temporary account: roles changed, then deactivated — its session dies with it
    temp = admin.post(f"{base}/users", json={
        "username": "tamthoi", "password": "tam-thoi-mat-khau", "display_name": "Tạm thời",
        "roles": ["DRAFTER"]}).json()
    session = service.login_as("tamthoi", "tam-thoi-mat-khau")
    assert session.get("/api/v1/documents").status_code == 200
    changed = admin.patch(f"{base}/users/{temp['user_id']}",
                          json={"roles": ["AUDITOR"], "display_name": "Kiểm tra tạm"})
    assert changed.status_code == 200 and changed.json()["roles"] == ["AUDITOR"]
    assert admin.patch(f"{base}/users/{temp['user_id']}",
                       json={"active": False}).status_code == 200
    assert session.get("/api/v1/documents").status_code == 401
    assert httpx.post(f"{service.url}/api/v1/auth/login", json={
        "username": "tamthoi", "password": "tam-thoi-mat-khau"}).status_code == 401

    # an authority ended yesterday: the person is no longer offered as a signer
    import datetime as dt

    authorities = admin.get(f"{base}/authorities").json()
    duc = next(a for a in authorities if a["person"] == "Lê Minh Đức")
    staff = service.login("chuyenvien")
    signers = [s["full_name"] for s in staff.get(f"/api/v1/bodies/{body_id}/signers").json()]
    assert "Lê Minh Đức" in signers
    yesterday = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    assert admin.patch(f"{base}/authorities/{duc['id']}",
                       json={"valid_until": yesterday}).status_code == 200
    signers = [s["full_name"] for s in staff.get(f"/api/v1/bodies/{body_id}/signers").json()]
    assert "Lê Minh Đức" not in signers
    assert admin.patch(f"{base}/authorities/{duc['id']}",
                       json={"valid_until": None}).status_code == 200

    books = admin.get(f"{base}/number-books").json()
    assert {b["code"] for b in books} >= {"chung", "ban-sao"}
    # a drafter may not list or change anything here, and every change is audited
    assert staff.get(f"{base}/users").status_code == 403
    assert staff.patch(f"{base}/people/{people['Lê Minh Đức']['id']}",
                       json={"active": False}).status_code == 403
    events = subprocess.run([KYSO, "--data-dir", str(service.data.root), "audit", "list",
                             "-n", "200"], capture_output=True, text=True, env=service.env,
                            timeout=60).stdout
    assert events.count("admin_change") >= 4


@pytest.mark.slow
def test_the_register_exports_in_a_worker_limited_to_one_book(service: Service) -> None:
    clerk = service.login("vanthu")
    body_id = clerk.get("/api/v1/bodies").json()[0]["id"]
    year = time.gmtime().tm_year
    started = clerk.post(f"/api/v1/register/{body_id}/{year}/exports",
                         json={"format": "xlsx", "book": "ban-sao"})
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fetched = clerk.get(started.json()["url"])
        if fetched.headers["content-type"].startswith("application/vnd.openxml"):
            break
        assert fetched.json().get("status") in ("PENDING", "STARTED", "RETRY"), fetched.text
        time.sleep(0.3)
    assert fetched.content.startswith(b"PK")  # an XLSX is a zip
    assert "so-van-ban-di-" in fetched.headers["content-disposition"]
    assert "-ban-sao.xlsx" in fetched.headers["content-disposition"]
    assert clerk.get(f"/api/v1/register/{body_id}/{year}?book=khong-co").status_code == 404
    assert service.login("chuyenvien").get(started.json()["url"]).status_code == 403


@pytest.mark.slow
def test_routing_to_a_signer_the_block_does_not_print_is_refused(
        service: Service) -> None:
    from sqlalchemy import select

    from documents import AuditEvent, create_engine_for, session_factory

    staff = service.login("chuyenvien")
    body_id = staff.get("/api/v1/bodies").json()[0]["id"]
    # the block of this công văn prints "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / Trần Thị Thu Hà"
    document = upload(staff, body_id, TESTS_DATA / "drafts" / "b_cong_van_vhxh_1trang.pdf",
                      "cong-van").json()
    signers = {s["full_name"]: s["person_id"]
               for s in staff.get(f"/api/v1/bodies/{body_id}/signers").json()}
    refused = staff.post(f"/api/v1/documents/{document['id']}/route",
                         json={"signer_person_ids": [signers["Lê Minh Đức"]]})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["type"] == "BlockMismatch"
    assert "Trần Thị Thu Hà" in error["vi"] and "Lê Minh Đức" in error["vi"]
    assert staff.get(f"/api/v1/documents/{document['id']}").json()["status"] == "PREPARED"
    assert not [r for r in service.login("phochutichduc").get("/api/v1/queue").json()
                if r["document_id"] == document["id"]]

    # another person's name is never sent on a reason: the signature would sit under it
    reason = "Đồng chí Hà đi công tác, Đồng chí Đức ký thay theo phân công"
    still = staff.post(f"/api/v1/documents/{document['id']}/route", json={
        "signer_person_ids": [signers["Lê Minh Đức"]], "block_override": reason})
    assert still.status_code == 422 and still.json()["error"]["type"] == "BlockMismatch"
    # the right signer goes through, and the route is in the audit trail
    routed = staff.post(f"/api/v1/documents/{document['id']}/route", json={
        "signer_person_ids": [signers["Trần Thị Thu Hà"]]})
    assert routed.status_code == 200, routed.text
    url = service.env.get("KYSO_DATABASE_URL") or service.data.database_url
    engine = create_engine_for(url)
    with session_factory(engine)() as session:
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.object_id == document["id"], AuditEvent.action == "ROUTE")).all()
    engine.dispose()
    assert len(events) == 1


@pytest.mark.slow
def test_a_signature_that_fails_for_good_goes_back_to_the_queue_with_its_reason(
        service: Service) -> None:
    """The signer's certificate is revoked. Known to Kyso, it is refused before the PIN and
    the request stays in the queue. Not known yet (the certificate only the token holds),
    the worker's signature fails, and the request waits for the signer again, the document
    says why, both people are told, and the failure is in the audit trail — nothing is
    half-signed."""
    from sqlalchemy import delete, select

    from documents import AuditEvent, SignerCertificate, create_engine_for, session_factory

    admin = service.login("quantri")
    body_id = admin.get("/api/v1/bodies").json()[0]["id"]
    authorities = admin.get(f"/api/v1/admin/bodies/{body_id}/authorities").json()
    ha = next(a for a in authorities if a["person"] == "Trần Thị Thu Hà")
    revoked_pem = (service.data.pki / "certs" / "thu-hoi.cert.pem").read_text()
    moved = admin.patch(f"/api/v1/admin/bodies/{body_id}/authorities/{ha['id']}",
                        json={"token_name": "thu-hoi", "certificate_pem": revoked_pem})
    assert moved.status_code == 200, moved.text
    try:
        staff = service.login("chuyenvien")
        document = upload(staff, body_id, TESTS_DATA / "drafts" / "b_cong_van_vhxh_1trang.pdf",
                          "cong-van").json()
        signers = {s["full_name"]: s["person_id"]
                   for s in staff.get(f"/api/v1/bodies/{body_id}/signers").json()}
        assert staff.post(f"/api/v1/documents/{document['id']}/route", json={
            "signer_person_ids": [signers["Trần Thị Thu Hà"]]}).status_code == 200
        vice_chair = service.login("phochutich")
        request_id = next(r["id"] for r in vice_chair.get("/api/v1/queue").json()
                          if r["document_id"] == document["id"])
        refused = vice_chair.post(f"/api/v1/requests/{request_id}/approve")
        assert refused.status_code == 422, refused.text
        assert "thu hồi" in refused.json()["error"]["vi"]
        assert any(r["id"] == request_id for r in vice_chair.get("/api/v1/queue").json())
        url = service.env.get("KYSO_DATABASE_URL") or service.data.database_url
        engine = create_engine_for(url)
        with session_factory(engine)() as session, session.begin():  # Kyso forgets it
            session.execute(delete(SignerCertificate).where(
                SignerCertificate.sha256 == hashlib.sha256(
                    pem.unarmor(revoked_pem.encode())[2]).hexdigest()))
        engine.dispose()
        approved = vice_chair.post(f"/api/v1/requests/{request_id}/approve")
        assert approved.status_code == 202, approved.text

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            back = [r for r in vice_chair.get("/api/v1/queue").json()
                    if r["document_id"] == document["id"]]
            if back:
                break
            time.sleep(0.3)
        assert back, "the request did not come back to the signer's queue"
        now = staff.get(f"/api/v1/documents/{document['id']}").json()
        assert now["status"] == "AWAITING_SIGNATURE"
        assert "thu hồi" in now["problem"] and "revoked" in now["problem"]
        assert [v["kind"] for v in now["versions"]] == ["DRAFT", "PREPARED"]
        told = [n["text"] for n in vice_chair.get("/api/v1/notifications").json()]
        assert any("không thành công" in t and "thu hồi" in t for t in told), told
        engine = create_engine_for(url)
        with session_factory(engine)() as session:
            failed = [details for e in session.scalars(select(AuditEvent).where(
                AuditEvent.object_id == document["id"], AuditEvent.action == "SIGN"))
                if (details := json.loads(e.details)).get("failed")]
        engine.dispose()
        assert len(failed) == 1 and failed[0]["error"] == "CertificateRevoked"
    finally:
        original = (service.data.pki / "certs" / "pho-chu-tich.cert.pem").read_text()
        assert admin.patch(f"/api/v1/admin/bodies/{body_id}/authorities/{ha['id']}", json={
            "token_name": "pho-chu-tich", "certificate_pem": original}).status_code == 200
