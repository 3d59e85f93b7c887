"""Throughput of the signing queue: N documents through `kyso serve`, on each profile.

    .venv/bin/python bench/queue_bench.py [--documents 200] [--profiles embedded,postgres-redis]
        [--workers 1,2]

For each profile it starts `kyso serve` on a fresh data directory (and a fresh PostgreSQL
database, Redis database or RabbitMQ virtual host for the scale-out profiles), then over
HTTP: uploads N drafts, routes them to the Phó Chủ tịch, who approves them as one batch
(server-side SoftHSM token, PAdES B-T with the demo TSA), then the clerk issues them all
(number, register, organisation seal). It prints a table of documents per minute for
each phase and for the whole life (upload to issued), with the ratio to the embedded
default. One worker process (solo pool), as `kyso serve` runs it; ``--workers 1,2`` runs
each scale-out profile again with a second worker (as ``kyso-worker@.service``, without
beat) and adds the ratio of two workers to one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KYSO = str(ROOT / ".venv" / "bin" / "kyso")
DRAFT = ROOT / "tests" / "data" / "drafts" / "t1_mau12_quyet_dinh.pdf"


def login(url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=120)
    token = client.post("/api/v1/auth/login", json={
        "username": username, "password": f"{username}-demo"}).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def wait_all(client: httpx.Client, ids: list[str], status: str, limit: float) -> None:
    from bench.listing import at_status  # after ROOT is on sys.path (run as a script)

    deadline = time.monotonic() + limit
    pending = set(ids)
    while pending and time.monotonic() < deadline:
        pending -= at_status(client, status)
        time.sleep(1)
    if pending:
        raise SystemExit(f"{len(pending)} documents never reached {status}")


def wait_workers(url: str, count: int, limit: float) -> None:
    """Until the health report counts ``count`` live workers (their heartbeats)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            alive = httpx.get(f"{url}/api/v1/health", timeout=5).json()["worker"]["alive"]
        except (httpx.HTTPError, KeyError, ValueError):
            alive = 0
        if alive >= count:
            return
        time.sleep(1)
    raise SystemExit(f"{count} workers never reported alive")


def run(profile: str, documents: int, workers: int = 1) -> dict[str, float]:
    from bench.load import scale_out_env, second_worker
    from certs import free_port
    from tests.test_service import backing_services  # the same set-up the tests use

    root = Path(tempfile.mkdtemp(prefix=f"kyso-bench-{profile}-"))
    port = free_port()
    with backing_services(profile, f"kyso_bench_{os.getpid()}_{port}") as extra:
        env = {k: v for k, v in os.environ.items()
               if k not in ("SOFTHSM2_CONF", "KYSO_DATABASE_URL", "KYSO_BROKER_URL",
                            "KYSO_RESULT_BACKEND")}
        env.update(extra)
        log = (root / "serve.log").open("wb")
        serve = subprocess.Popen([KYSO, "serve", "--data-dir", str(root / "data"), "--port",
                                  str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        more: list[subprocess.Popen[bytes]] = []
        try:
            for _ in range(400):
                try:
                    if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
            if workers == 2:
                more.append(second_worker(scale_out_env(env, root / "data"),
                                          root / "worker-2.log"))
                wait_workers(url, 2, 300)
            staff = login(url, "chuyenvien")
            body_id = staff.get("/api/v1/bodies").json()[0]["id"]
            signer = {s["full_name"]: s["person_id"] for s in
                      staff.get(f"/api/v1/bodies/{body_id}/signers").json()}["Lê Minh Đức"]
            started = time.monotonic()
            ids = []
            for _ in range(documents):
                with DRAFT.open("rb") as handle:
                    made: Any = staff.post("/api/v1/documents", data={
                        "body_id": str(body_id), "doc_type": "quyet-dinh",
                        "subject": "Về việc thử tải"},
                        files={"file": (DRAFT.name, handle, "application/pdf")}).json()
                staff.post(f"/api/v1/documents/{made['id']}/route",
                           json={"signer_person_ids": [signer]})
                ids.append(made["id"])
            upload_s = time.monotonic() - started

            vice_chair = login(url, "phochutichduc")
            started = time.monotonic()
            waiting = [r["id"] for r in vice_chair.get("/api/v1/queue").json()]
            vice_chair.post("/api/v1/requests/approve-batch", json={"request_ids": waiting})
            wait_all(vice_chair, ids, "SIGNED", 3600)
            sign_s = time.monotonic() - started

            clerk = login(url, "vanthu")
            started = time.monotonic()
            for document_id in ids:
                clerk.post(f"/api/v1/documents/{document_id}/issue", json={})
            wait_all(clerk, ids, "ISSUED", 3600)
            issue_s = time.monotonic() - started
        finally:
            for process in (*more, serve):
                process.terminate()
            for process in (*more, serve):
                try:
                    process.wait(timeout=120)
                except subprocess.TimeoutExpired:  # a loaded machine: stop it all the same
                    process.kill()
                    process.wait()
    return {"upload+route": documents / upload_s * 60, "approve+sign": documents / sign_s * 60,
            "issue": documents / issue_s * 60,
            "whole life": documents / (upload_s + sign_s + issue_s) * 60}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--profiles", default="embedded,postgres-redis,postgres-rabbitmq")
    parser.add_argument("--workers", default="1",
                        help="1, or 1,2: scale-out profiles again with two workers")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    results: dict[tuple[str, int], dict[str, float]] = {}
    for profile in args.profiles.split(","):
        for workers in counts:
            if workers == 1 or profile != "embedded":  # the embedded broker has one worker
                results[profile, workers] = run(profile, args.documents, workers)
    base = results.get(("embedded", 1)) or next(iter(results.values()))
    print(f"{args.documents} documents through the queue (documents per minute; ratio to the "
          "embedded default, and of two workers to one)")
    print(f"{'profile':20} {'workers':>7} {'phase':14} {'docs/min':>9} {'ratio':>6} {'2w/1w':>6}")
    for (profile, workers), phases in results.items():
        one = results.get((profile, 1))
        for phase, rate in phases.items():
            scaling = f"{rate / one[phase]:6.2f}" if workers == 2 and one else ""
            print(f"{profile:20} {workers:7} {phase:14} {rate:9.1f} {rate / base[phase]:6.2f} "
                  f"{scaling:>6}")


if __name__ == "__main__":
    main()
