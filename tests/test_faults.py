"""Faults during work, end to end on `kyso serve` (issue 17): the timestamp server goes
away and comes back; the worker is killed in the middle of an organisation signature.
The TSA is the demo PKI's (certomancer) behind a relay that refuses connections or holds
requests (tests/support/outage.py); the worker is really killed (SIGKILL) and really
restarted by `kyso serve`'s supervisor. After recovery every document is consistent, no
number is skipped or given twice, every file validates, and the person waiting was told."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.datadir import DataDir
from api.demo.demo import provision
from certs import free_port
from documents import AuditEvent, create_engine_for, session_factory

from .conftest import TESTS_DATA
from .service_support import Service, embedded_env, routed_drafts, start_service, wait_for
from .support.outage import Relay
from .test_supervision import live_worker, worker_pids

pytestmark = pytest.mark.slow

DRAFT = TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf"  # its block names Lê Minh Đức


def until(condition: Callable[[], Any], seconds: float = 120, what: str = "") -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"not in time: {what}"
        time.sleep(0.2)


@pytest.fixture(params=["embedded", "postgres-redis"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Service, Relay]]:
    """`kyso serve` whose TSA is the relay (up), reconciling every 2 s; a task still running
    8 s after it started counts as lost (the longest here takes ~2 s). On the embedded
    profile (SQLite, SQLite broker) and on PostgreSQL + Redis (Redis's own visibility
    timeout left at its hour: only the reconciliation brings a lost task back)."""
    from .test_service import backing_services

    relay = Relay()
    port = free_port()
    with backing_services(request.param, f"kyso_faults_{os.getpid()}_{port}") as extra:
        env = embedded_env(KYSO_TSA_URL=relay.url, KYSO_RECONCILE_INTERVAL="2",
                           KYSO_TASK_STALE_SECONDS="8", **extra)
        data = DataDir(tmp_path / "data").create()
        # the demo PKI made here, on a free port (this session's conftest): `kyso serve`
        # reuses it, so no other session's demo on the usual 8791 can take its port
        provision(data.softhsm, data.pki)
        running = start_service(data, port, env, tmp_path / "serve.log")
        pki = data.demo_pki()
        assert pki is not None
        relay.target = pki.tsa_url
        relay.up()
        try:
            yield running, relay
        finally:
            relay.up()
            running.stop()
            relay.down()


def database_url(service: Service) -> str:
    return service.env.get("KYSO_DATABASE_URL") or service.data.database_url


def routed(service: Service) -> tuple[str, httpx.Client, int]:
    """A draft routed to Lê Minh Đức once prepared (the upload answers before its
    preparation on a loaded machine): (document id, his client, his request)."""
    staff = service.login("chuyenvien")
    body_id = staff.get("/api/v1/bodies").json()[0]["id"]
    (document_id,) = routed_drafts(staff, body_id, DRAFT, "Lê Minh Đức")
    signer = service.login("phochutichduc")
    request_id = next(r["id"] for r in signer.get("/api/v1/queue").json()
                      if r["document_id"] == document_id)
    return document_id, signer, request_id


def events(service: Service, document_id: str) -> list[dict[str, Any]]:
    engine = create_engine_for(database_url(service))
    try:
        with session_factory(engine)() as session:
            return [{"action": e.action.name, **json.loads(e.details)} for e in session.scalars(
                select(AuditEvent).where(AuditEvent.object_id == document_id)
                .order_by(AuditEvent.seq))]
    finally:
        engine.dispose()


def verdict(service: Service, document_id: str, kind: str) -> dict[str, Any]:
    auditor = service.login("kiemtra")
    pdf = auditor.get(f"/api/v1/documents/{document_id}/versions/{kind}")
    assert pdf.status_code == 200
    (report,) = auditor.post("/api/v1/verify", files=[
        ("files", (f"{kind}.pdf", pdf.content, "application/pdf"))]).json()
    return dict(report)


def test_a_dead_tsa_puts_the_signature_in_waiting_and_it_resumes_when_the_tsa_is_back(
        service: tuple[Service, Relay]) -> None:
    running, relay = service
    document_id, signer, request_id = routed(running)
    relay.down()  # the TSA's port now refuses connections
    assert signer.post(f"/api/v1/requests/{request_id}/approve").status_code == 202

    waiting = until(lambda: (d := signer.get(f"/api/v1/documents/{document_id}").json())
                    ["problem"] and d, 60, "the document says it waits")
    assert waiting["status"] == "AWAITING_SIGNATURE"
    assert waiting["problem"].startswith("Đang chờ dịch vụ")
    assert "resumes by itself" in waiting["problem"]
    page = running.login("chuyenvien").get("/chuyen-vien/danh-sach")  # the drafter's page
    assert page.status_code == 200
    assert '<p class="alert alert-warn waiting-service" role="status">Đang chờ dịch vụ' in page.text
    told = [n for n in signer.get("/api/v1/notifications").json() if n["kind"] == "WORK_DELAYED"]
    assert told and "(tsa)" in told[0]["text"]
    health = until(lambda: (h := httpx.get(f"{running.url}/api/v1/health").json())
                   ["queue"]["waiting_for_service"] and h, 30, "health counts the waiting")
    assert health["status"] == "degraded" and "tsa" in {r["part"] for r in health["reasons"]}

    relay.up()  # the TSA is back: nobody does anything
    signed = wait_for(signer, document_id, "SIGNED", 150)
    assert signed["problem"] is None
    assert [v["kind"] for v in signed["versions"]].count("APPROVED") == 1
    report = verdict(running, document_id, "approved")
    assert report["verdict"] == "valid", report
    trail = [e.get("background") for e in events(running, document_id)]
    assert "waiting_for_service" in trail and "resumed" in trail
    assert [e["action"] for e in events(running, document_id)].count("SIGN") >= 1


def test_a_worker_killed_mid_seal_is_replaced_and_the_issue_done_once(
        service: tuple[Service, Relay]) -> None:
    running, relay = service
    document_id, signer, request_id = routed(running)
    assert signer.post(f"/api/v1/requests/{request_id}/approve").status_code == 202
    wait_for(signer, document_id, "SIGNED", 120)
    clerk = running.login("vanthu")
    # a first document issued normally gives the number the killed one must follow
    first_id, first_signer, first_request = routed(running)
    assert first_signer.post(f"/api/v1/requests/{first_request}/approve").status_code == 202
    wait_for(first_signer, first_id, "SIGNED", 120)
    assert clerk.post(f"/api/v1/documents/{first_id}/issue", json={}).status_code == 202
    first_number = wait_for(clerk, first_id, "ISSUED", 120)["number"]

    relay.hold()  # the organisation signature's timestamp request will wait
    assert clerk.post(f"/api/v1/documents/{document_id}/issue",
                      json={"recipients": "Như Điều 3; Lưu: VT."}).status_code == 202
    assert relay.held.wait(120), "the issue never reached the TSA"
    [killed] = worker_pids(running)
    os.kill(killed, signal.SIGKILL)  # in the middle of the organisation signature
    relay.up()
    until(lambda: live_worker(running, killed), 60, "a new worker")

    issued = wait_for(clerk, document_id, "ISSUED", 150)
    assert int(issued["number"].split("/")[0]) == int(first_number.split("/")[0]) + 1
    assert [v["kind"] for v in issued["versions"]].count("ISSUED") == 1
    report = verdict(running, document_id, "issued")
    assert report["verdict"] == "valid", report
    trail = events(running, document_id)
    resent = [e for e in trail if e.get("background") == "resent"]
    assert resent and resent[0]["why"] == "worker_lost" and resent[0]["task"] == "kyso.issue"
    assert [e["action"] for e in trail].count("NUMBER") == 1
    assert [e["action"] for e in trail if "background" not in e].count("ISSUE") == 1
    body_id = clerk.get("/api/v1/bodies").json()[0]["id"]
    year = issued["versions"][-1]["created_at"][:4]
    numbers = [row["number"] for row in clerk.get(f"/api/v1/register/{body_id}/{year}").json()]
    assert sorted(numbers) == sorted({*numbers}) and issued["number"] in numbers
    drafter = running.login("chuyenvien")  # the demo's clerk is no person: the drafter is told
    told = [n for n in drafter.get("/api/v1/notifications").json()
            if n["kind"] == "WORK_DELAYED" and n["document_id"] == document_id]
    assert told and "không ký hay cấp số hai lần" in told[0]["text"]


def test_an_approval_whose_task_never_was_is_found_from_the_documents_state(
        service: tuple[Service, Relay]) -> None:
    """An approved request with no task anywhere — what an older release left when its
    worker died, or a message lost before the ledger — is found by the reconciliation from
    the document's state alone and signed, once."""
    from datetime import timedelta

    from documents import SigningRequest, approve_request, utc_now

    running, _ = service
    document_id, signer, request_id = routed(running)
    engine = create_engine_for(database_url(running))
    try:
        with session_factory(engine)() as session, session.begin():
            request = session.get_one(SigningRequest, request_id)
            approve_request(session, request, actor="phochutichduc")  # no task sent
            request.decided_at = utc_now() - timedelta(minutes=5)
    finally:
        engine.dispose()
    signed = wait_for(signer, document_id, "SIGNED", 120)
    assert [v["kind"] for v in signed["versions"]].count("APPROVED") == 1
    assert verdict(running, document_id, "approved")["verdict"] == "valid"
    trail = [e.get("background") for e in events(running, document_id)]
    assert trail.count("adopted") == 1 and "resent" in trail
