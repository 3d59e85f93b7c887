"""The hostile-PDF corpus (tests/support/hostile.py) against a running `kyso serve`, over
HTTP: every file is uploaded as a draft and sent for verification while another thread
polls health and login; each case must be refused with its reason class in bounded time,
the service must answer throughout, and it must still stop on SIGTERM.

The issue's findings: a 57 KB draft whose form field is its own kid froze the service
(endless loop holding SQLite's write lock, SIGTERM ignored); a 59 KB double-Flate draft
took the worker to 4.8 GB; /GoToR, /URI open actions and XFA scripts were prepared.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from .conftest import TESTS_DATA
from .service_support import Service, embedded_service
from .support import hostile
from .support.hostile import HostileCase

DRAFT = (TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf").read_bytes()
#: the most one refused upload or verification may take on a loaded 2-core machine
BOUND = 30.0
#: the longest health or login answer allowed while the corpus is sent
ANSWER = 10.0

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    # a preparation that takes more than 5 s is refused (the slow-content case)
    with embedded_service(tmp_path_factory.mktemp("hostile"), KYSO_PDF_PREPARE_SECONDS="5",
                          KYSO_PREPARE_WAIT="40") as running:
        yield running


@dataclass
class Watch:
    """Polls health and login from another thread; records every failure and the
    slowest answer."""

    url: str
    failures: list[str] = field(default_factory=list)
    slowest: float = 0.0
    polls: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=ANSWER) as client:
            while not self.stop.is_set():
                for method, path, body in (
                        ("GET", "/api/v1/health", None),
                        ("POST", "/api/v1/auth/login",
                         {"username": "chuyenvien", "password": "chuyenvien-demo"})):
                    started = time.perf_counter()
                    try:
                        answer = client.request(method, path, json=body)
                        if answer.status_code != 200:
                            self.failures.append(f"{path}: {answer.status_code}")
                    except httpx.HTTPError as exc:
                        self.failures.append(f"{path}: {type(exc).__name__}")
                    self.slowest = max(self.slowest, time.perf_counter() - started)
                    self.polls += 1
                self.stop.wait(0.2)


@pytest.fixture()
def watch(service: Service) -> Iterator[Watch]:
    watcher = Watch(service.url)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    yield watcher
    watcher.stop.set()
    thread.join(30)
    assert watcher.polls > 0
    assert not watcher.failures, watcher.failures
    assert watcher.slowest < ANSWER


def _corpus(bomb: bytes) -> list[tuple[HostileCase, bytes]]:
    cases = [*hostile.LOOPS, *hostile.NESTING, *hostile.SMALL_BOMBS, *hostile.ACTIVE,
             HostileCase("double_flate_1_5_gb", hostile.double_flate_bomb(bomb), "bomb"),
             HostileCase("pages_100000", lambda _: hostile.many_pages(100_000), "pages")]
    return [(case, case.build(DRAFT)) for case in cases]


@pytest.fixture(scope="module")
def corpus() -> list[tuple[HostileCase, bytes]]:
    return _corpus(hostile.double_flate())


def _upload(client: httpx.Client, body_id: int, name: str, data: bytes) -> httpx.Response:
    return client.post("/api/v1/documents", data={
        "body_id": str(body_id), "doc_type": "quyet-dinh", "subject": f"Thử tệp {name}"},
        files={"file": (f"{name}.pdf", data, "application/pdf")})


def test_every_hostile_upload_is_refused_while_the_service_answers(
        service: Service, watch: Watch, corpus: list[tuple[HostileCase, bytes]]) -> None:
    staff = service.login("chuyenvien")
    body_id = staff.get("/api/v1/bodies").json()[0]["id"]
    before = len(staff.get("/api/v1/documents").json())
    timings = {}
    for case, data in corpus:
        started = time.perf_counter()
        answer = _upload(staff, body_id, case.name, data)
        timings[case.name] = time.perf_counter() - started
        assert answer.status_code == 422, (case.name, answer.text)
        error = answer.json()["error"]
        assert error["type"] in ("PdfHostile", "PdfTooCostly"), (case.name, error)
        assert error["code"] == case.code, (case.name, error)
        assert error["vi"] and error["en"]
        assert timings[case.name] < BOUND, (case.name, timings[case.name])
    # nothing of them was kept, and a good draft is still prepared at once
    assert len(staff.get("/api/v1/documents").json()) == before
    good = _upload(staff, body_id, "tot", DRAFT)
    assert good.status_code == 201 and good.json()["status"] == "PREPARED", good.text
    print("\nslowest refusals:", sorted(timings.items(), key=lambda kv: -kv[1])[:3],
          f"slowest health/login answer {watch.slowest:.2f} s over {watch.polls} polls")


def test_every_hostile_file_sent_for_verification_is_refused(
        service: Service, watch: Watch, corpus: list[tuple[HostileCase, bytes]]) -> None:
    auditor = service.login("kiemtra")
    for case, data in corpus:
        if case.code == "active":
            continue  # verification reports the signatures of such a file; not refused
        started = time.perf_counter()
        answer = auditor.post("/api/v1/verify",
                              files=[("files", (f"{case.name}.pdf", data, "application/pdf"))])
        assert answer.status_code == 200, (case.name, answer.text)
        report = answer.json()[0]
        assert report["verdict"] == "invalid", (case.name, report)
        assert [r["code"] for r in report["reasons"]] == [f"refused_{case.code}"], case.name
        assert time.perf_counter() - started < BOUND


def test_a_draft_whose_preparation_runs_too_long_stays_a_draft_with_the_reason(
        service: Service, watch: Watch) -> None:
    staff = service.login("chuyenvien")
    body_id = staff.get("/api/v1/bodies").json()[0]["id"]
    started = time.perf_counter()
    answer = _upload(staff, body_id, "cham", hostile.slow_content(DRAFT))
    assert time.perf_counter() - started < BOUND
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["type"] == "DraftNotPrepared" and error["code"] == "time", error
    assert "quá thời gian cho phép (5 s)" in error["vi"]
    document_id = error["en"].split()[1]
    kept = staff.get(f"/api/v1/documents/{document_id}").json()
    assert kept["status"] == "DRAFT" and "5 s" in kept["problem"]
    with sqlite3.connect(service.data.root / "kyso.db") as db:
        rows = db.execute("SELECT details FROM audit_event WHERE action = 'PREPARE' "
                          "AND object_id = ?", (document_id,)).fetchall()
    details = [json.loads(r[0]) for r in rows]
    assert details and details[-1]["failed"] and details[-1]["code"] == "time", details


def test_the_service_still_stops_on_sigterm(service: Service,
                                            corpus: list[tuple[HostileCase, bytes]]) -> None:
    staff = service.login("chuyenvien")
    body_id = staff.get("/api/v1/bodies").json()[0]["id"]
    freezer = next(data for case, data in corpus if case.name == "acroform_self_kid")
    assert _upload(staff, body_id, "dong-bang", freezer).status_code == 422
    service.process.terminate()
    service.process.wait(timeout=60)  # raises if SIGTERM is ignored
