"""Load on the scale-out profile: concurrent users of every role against two API processes
and two workers on PostgreSQL + Redis, over loopback HTTP.

    .venv/bin/python bench/load.py [--users 50] [--minutes 10] [--json bench/load.json]

It starts `kyso serve` on a fresh data directory, PostgreSQL database and Redis database
(the demo commune: API no. 1, worker no. 1 with Celery beat, the demo PKI's TSA/OCSP/CRL),
then a second API process (uvicorn, as ``ops/systemd/kyso-api@.service`` runs it) and a
second worker (without beat, as ``kyso-worker@.service``). The users, each a thread with
its own login, take the two APIs in turn, as nginx would:

- drafters (40 %) open their page, upload a draft and route it to the Phó Chủ tịch;
- signers (20 %) open their page and the queue and approve what waits, as a batch;
- clerks (20 %) open their page and issue each signed document (number, register, seal);
- auditors (20 %) open the register and verify issued files.

Each user waits a few seconds between two acts (``--think``). When the time is up the
users stop, the backlog drains (every uploaded document is signed and issued), and the
check of nothing lost runs: every document issued, its number in the register once, the
numbers 1..N without a gap or a duplicate, and every issued file valid. It prints, for
each page and API call, the count, p50/p95/p99 in ms, the errors, and the GETs sent
again on a new connection (as a browser does when a kept-alive connection was closed by
the server as the request left); documents issued per minute during the load; and the
check. A draft uploaded while the workers are busy is routed once it is prepared, as a
drafter does when the list shows it ready.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_timing import percentile  # noqa: E402  (after the path is set)

BIN = ROOT / ".venv" / "bin"
DRAFT = ROOT / "tests" / "data" / "drafts" / "t1_mau12_quyet_dinh.pdf"
SIGNER = "Lê Minh Đức"
#: the roles' shares of the users, and their demo logins
ROLES = (("drafter", 0.4, "chuyenvien"), ("signer", 0.2, "phochutichduc"),
         ("clerk", 0.2, "vanthu"), ("auditor", 0.2, "kiemtra"))


@dataclass
class Tally:
    """Latencies (s) and errors of every operation, from every user thread."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    reconnects: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def call(self, name: str, send: Callable[[], httpx.Response],
             expect: tuple[int, ...] = (200, 201, 202)) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            try:
                answer = send()
            except (httpx.ReadError, httpx.RemoteProtocolError):
                if not name.startswith("GET "):
                    raise
                # a kept-alive connection the server closed as the request left: a browser
                # sends a GET again on a new connection, and so does this user
                with self.lock:
                    self.reconnects[name] += 1
                answer = send()
        except httpx.HTTPError as exc:
            with self.lock:
                self.errors[name].append(f"{type(exc).__name__}: {exc}")
            return None
        took = time.perf_counter() - started
        with self.lock:
            self.times[name].append(took)
            if answer.status_code not in expect:
                self.errors[name].append(f"{answer.status_code}: {answer.text[:200]}")
                return None
        return answer


@dataclass
class Shared:
    """What the users hand each other: routed documents (for clerks and the final
    check) and issued ones (for auditors)."""

    #: uploaded, not yet routed (still being prepared)
    uploaded: list[str] = field(default_factory=list)
    routed: list[str] = field(default_factory=list)
    #: uploaded and refused by the preparation (the same good draft every time)
    refused: dict[str, str] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)
    issued_at: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def login(url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=300)
    answer = client.post("/api/v1/auth/login", json={
        "username": username, "password": f"{username}-demo"})
    answer.raise_for_status()
    client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    return client


# ------------------------------------------------------------------ the users' acts

def drafter(client: httpx.Client, tally: Tally, shared: Shared, body_id: int,
            signer_id: int, mine: Callable[[str], bool]) -> None:
    """Route what a worker has prepared since (an upload answers before the preparation
    when it takes long), then upload the next draft."""
    tally.call("GET /chuyen-vien (page)", lambda: client.get("/chuyen-vien"))
    with shared.lock:
        waiting = [d for d in shared.uploaded if mine(d)]
    if waiting:  # one look at the prepared ones (a page, by status), not one per document
        prepared = tally.call("GET /api/v1/documents?status=PREPARED", partial(
            client.get, "/api/v1/documents", params={"status": "PREPARED", "limit": 200}))
        ready = {d["id"] for d in prepared.json()} if prepared is not None else set()
        for document_id in waiting:
            if document_id in ready:
                route(client, tally, shared, document_id, signer_id)
    with DRAFT.open("rb") as handle:
        made = tally.call("POST /api/v1/documents (upload)", lambda: client.post(
            "/api/v1/documents", data={"body_id": str(body_id), "doc_type": "quyet-dinh",
                                       "subject": "Về việc thử tải hệ thống"},
            files={"file": (DRAFT.name, handle, "application/pdf")}))
    if made is None:
        return
    document = made.json()
    with shared.lock:
        shared.uploaded.append(document["id"])
    if document["status"] == "PREPARED":
        route(client, tally, shared, document["id"], signer_id)


def route(client: httpx.Client, tally: Tally, shared: Shared, document_id: str,
          signer_id: int) -> None:
    routed = tally.call("POST /api/v1/documents/{id}/route", lambda: client.post(
        f"/api/v1/documents/{document_id}/route", json={"signer_person_ids": [signer_id]}))
    if routed is not None:
        with shared.lock:
            shared.uploaded.remove(document_id)
            shared.routed.append(document_id)


def signer(client: httpx.Client, tally: Tally, shared: Shared, body_id: int,
           signer_id: int, mine: Callable[[str], bool]) -> None:
    tally.call("GET /lanh-dao (page)", lambda: client.get("/lanh-dao"))
    queue = tally.call("GET /api/v1/queue", lambda: client.get("/api/v1/queue"))
    if queue is None:
        return
    waiting = [r["id"] for r in queue.json() if mine(str(r["id"]))][:10]
    if waiting:
        tally.call("POST /api/v1/requests/approve-batch", lambda: client.post(
            "/api/v1/requests/approve-batch", json={"request_ids": waiting}))


def clerk(client: httpx.Client, tally: Tally, shared: Shared, body_id: int,
          signer_id: int, mine: Callable[[str], bool]) -> None:
    tally.call("GET /van-thu (page)", lambda: client.get("/van-thu"))
    with shared.lock:
        candidates = [d for d in shared.routed if mine(d) and d not in shared.issued]
    if not candidates:
        return
    # what waits for a number: one look at the signed documents (a page), not one per id
    signed = tally.call("GET /api/v1/documents?status=SIGNED", partial(
        client.get, "/api/v1/documents", params={"status": "SIGNED", "limit": 200}))
    if signed is None:
        return
    ready = {d["id"] for d in signed.json()}
    for document_id in [d for d in candidates if d in ready][:5]:
        issued = tally.call("POST /api/v1/documents/{id}/issue", partial(
            client.post, f"/api/v1/documents/{document_id}/issue", json={}))
        if issued is not None:
            with shared.lock:
                shared.issued.append(document_id)
                shared.issued_at.append(time.monotonic())


def auditor(client: httpx.Client, tally: Tally, shared: Shared, body_id: int,
            signer_id: int, mine: Callable[[str], bool]) -> None:
    tally.call("GET /so-van-ban (page)", lambda: client.get("/so-van-ban"))
    with shared.lock:
        issued = list(shared.issued)
    if not issued:
        return
    document_id = random.choice(issued)
    state = client.get(f"/api/v1/documents/{document_id}").json()
    if state["status"] != "ISSUED":
        return  # the clerk's issue task still runs
    pdf = tally.call("GET /api/v1/documents/{id}/versions/issued", lambda: client.get(
        f"/api/v1/documents/{document_id}/versions/issued"))
    if pdf is None:
        return
    tally.call("POST /api/v1/verify", lambda: client.post("/api/v1/verify", files=[
        ("files", ("issued.pdf", pdf.content, "application/pdf"))]))


ACTS = {"drafter": drafter, "signer": signer, "clerk": clerk, "auditor": auditor}


# ------------------------------------------------------------------ the service

@contextmanager
def scale_out(root: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
    """`kyso serve` (API 1 + worker 1 + beat + demo PKI) and a second API and worker on
    PostgreSQL + Redis; the two API URLs and the environment."""
    from certs import free_port
    from tests.test_service import backing_services  # the set-up the tests use

    ports = [free_port(), free_port()]
    data_dir = root / "data"
    with backing_services("postgres-redis", f"kyso_load_{os.getpid()}_{ports[0]}") as extra:
        env = {k: v for k, v in os.environ.items()
               if k not in ("SOFTHSM2_CONF", "KYSO_DATABASE_URL", "KYSO_BROKER_URL",
                            "KYSO_RESULT_BACKEND")}
        env.update(extra)
        processes: list[subprocess.Popen[bytes]] = []
        logs = root / "logs"
        logs.mkdir()
        try:
            processes.append(subprocess.Popen(
                [str(BIN / "kyso"), "serve", "--data-dir", str(data_dir), "--port",
                 str(ports[0])], env=env, stdout=(logs / "serve.log").open("wb"),
                stderr=subprocess.STDOUT))
            urls = [f"http://127.0.0.1:{p}" for p in ports]
            healthy(urls[0], 600)
            second = scale_out_env(env, data_dir)
            processes.append(subprocess.Popen(
                [str(BIN / "uvicorn"), "--factory", "api.http.app:create_app", "--host",
                 "127.0.0.1", "--port", str(ports[1]), "--log-level", "warning"],
                env=second, stdout=(logs / "api-2.log").open("wb"),
                stderr=subprocess.STDOUT, cwd=ROOT))
            processes.append(second_worker(second, logs / "worker-2.log"))
            healthy(urls[1], 300)
            yield urls, env
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()


#: the server tokens a second API or worker opens: the Phó Chủ tịch's and the seal's
SCALE_OUT_TOKENS = ("pho-chu-tich-duc", "ubnd")


def scale_out_env(env: dict[str, str], data_dir: Path) -> dict[str, str]:
    """The environment of a second API or worker next to `kyso serve` on ``data_dir``
    (as ``ops/systemd``'s units have it): the data directory, SoftHSM and the PINs of
    :data:`SCALE_OUT_TOKENS`."""
    from api.demo.demo import DEMO_PIN
    from api.settings import ENV_DATA_DIR, pin_env

    return {**env, ENV_DATA_DIR: str(data_dir),
            "SOFTHSM2_CONF": str(data_dir / "softhsm" / "softhsm2.conf"),
            "KYSO_SERVER_TOKENS": json.dumps(SCALE_OUT_TOKENS),
            **{pin_env(t): DEMO_PIN for t in SCALE_OUT_TOKENS}}


def second_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A worker without beat (as ``kyso-worker@.service``) on the default queue and the
    queues of :data:`SCALE_OUT_TOKENS`, in ``env`` (:func:`scale_out_env`)."""
    return subprocess.Popen(
        [str(BIN / "celery"), "-A", "api.worker.app", "worker", "--pool=solo",
         "--loglevel=WARNING", "-Q",
         ",".join(["default", *(f"token.{t}" for t in SCALE_OUT_TOKENS)]),
         "--without-gossip", "--without-mingle", "-n", f"{log.stem}@%h"],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=ROOT)


def healthy(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit(f"{url} never answered /api/v1/health")


# ------------------------------------------------------------------ the run

def run_users(urls: list[str], users: int, seconds: float, think: float,
              tally: Tally, shared: Shared) -> float:
    """The users for ``seconds``; when the load stopped (monotonic)."""
    first = login(urls[0], "chuyenvien")
    body_id = first.get("/api/v1/bodies").json()[0]["id"]
    signer_id = {s["full_name"]: s["person_id"] for s in first.get(
        f"/api/v1/bodies/{body_id}/signers").json()}[SIGNER]
    first.close()
    plan: list[tuple[str, str]] = []
    for role, share, account in ROLES:
        plan += [(role, account)] * max(1, round(users * share))
    plan = plan[:max(users, len(ROLES))]
    counts = {role: sum(1 for r, _ in plan if r == role) for role, _, _ in ROLES}
    index: defaultdict[str, itertools.count[int]] = defaultdict(itertools.count)
    stop = threading.Event()
    deadline = time.monotonic() + seconds

    def user(number: int, role: str, account: str) -> None:
        mine_index = next(index[role])
        client = login(urls[number % len(urls)], account)

        def mine(key: str) -> bool:  # this user's share of the role's work
            return hash(key) % counts[role] == mine_index

        act = ACTS[role]
        rng = random.Random(number)
        time.sleep(rng.uniform(0, think))  # the users do not all start at one instant
        while not stop.is_set() and time.monotonic() < deadline:
            act(client, tally, shared, body_id, signer_id, mine)
            stop.wait(rng.uniform(0.5 * think, 1.5 * think))
        client.close()

    threads = [threading.Thread(target=user, args=(n, role, account), daemon=True)
               for n, (role, account) in enumerate(plan)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic()


def drain(url: str, shared: Shared, seconds: float) -> dict[str, str]:
    """Sign and issue what the load left behind; every routed document's final state."""
    vice_chair, clerk = login(url, "phochutichduc"), login(url, "vanthu")
    drafter, tally = login(url, "chuyenvien"), Tally()
    body_id = drafter.get("/api/v1/bodies").json()[0]["id"]
    signer_id = {s["full_name"]: s["person_id"] for s in drafter.get(
        f"/api/v1/bodies/{body_id}/signers").json()}[SIGNER]
    deadline = time.monotonic() + seconds
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        for document_id in list(shared.uploaded):  # prepared since: routed
            document = drafter.get(f"/api/v1/documents/{document_id}").json()
            if document["status"] == "PREPARED":
                route(drafter, tally, shared, document_id, signer_id)
            elif document["problem"]:  # a good draft refused: reported as a loss
                shared.uploaded.remove(document_id)
                shared.refused[document_id] = document["problem"]
        waiting = [r["id"] for r in vice_chair.get("/api/v1/queue").json()]
        if waiting:
            vice_chair.post("/api/v1/requests/approve-batch", json={"request_ids": waiting})
        states = {d: clerk.get(f"/api/v1/documents/{d}").json()["status"]
                  for d in shared.routed}
        for document_id, status in states.items():
            if status == "SIGNED":
                clerk.post(f"/api/v1/documents/{document_id}/issue", json={})
        if all(s == "ISSUED" for s in states.values()) and not shared.uploaded:
            break
        time.sleep(3)
    return states


def nothing_lost(url: str, shared: Shared, states: dict[str, str]) -> dict[str, Any]:
    clerk = login(url, "vanthu")
    numbers: list[int] = []
    invalid = []
    files = []
    for document_id in shared.routed:
        document = clerk.get(f"/api/v1/documents/{document_id}").json()
        if document["number"]:
            numbers.append(int(document["number"].split("/")[0]))
        if document["status"] == "ISSUED":  # the others are counted in not_issued
            files.append((document_id, clerk.get(
                f"/api/v1/documents/{document_id}/versions/issued").content))
    for start in range(0, len(files), 10):
        chunk = files[start:start + 10]
        reports = verify_all(clerk, chunk)
        invalid += [d for (d, _), r in zip(chunk, reports, strict=True)
                    if r["verdict"] != "valid"]
    not_issued = [d for d, s in states.items() if s != "ISSUED"]
    return {"documents": len(shared.routed), "issued": len(states) - len(not_issued),
            "refused_drafts": shared.refused, "never_prepared": list(shared.uploaded),
            "not_issued": not_issued, "invalid_files": invalid,
            "duplicate_numbers": len(numbers) - len(set(numbers)),
            # the numbers the load took follow each other (the demo's own come before)
            "gaps": sorted(set(range(min(numbers, default=1), max(numbers, default=0) + 1))
                           - set(numbers))}


def verify_all(client: httpx.Client, files: list[tuple[str, bytes]],
               attempts: int = 20) -> list[dict[str, Any]]:
    """The reports of ``POST /api/v1/verify`` for ``files``; a 503 (every PDF worker busy:
    ``PdfWorkBusy``) is sent again after its ``Retry-After``, as the auditor's page does."""
    for _ in range(attempts):
        answer = client.post("/api/v1/verify", files=[
            ("files", (f"{d}.pdf", pdf, "application/pdf")) for d, pdf in files])
        if answer.status_code != 503:
            break
        time.sleep(min(float(answer.headers.get("Retry-After", "5")), 30))
    if answer.status_code != 200:
        raise SystemExit(f"verify answered {answer.status_code}: {answer.text[:500]}")
    reports: list[dict[str, Any]] = answer.json()
    return reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--think", type=float, default=8.0,
                        help="mean seconds a user waits between two acts")
    parser.add_argument("--drain-minutes", type=float, default=60)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    tally, shared = Tally(), Shared()
    root = Path(tempfile.mkdtemp(prefix="kyso-load-"))
    with scale_out(root) as (urls, _):
        started = time.monotonic()
        stopped = run_users(urls, args.users, args.minutes * 60, args.think, tally, shared)
        during = sum(1 for t in shared.issued_at if t <= stopped)
        states = drain(urls[0], shared, args.drain_minutes * 60)
        check = nothing_lost(urls[0], shared, states)
    minutes = (stopped - started) / 60
    rows = []
    for name in sorted(set(tally.times) | set(tally.errors)):
        times = tally.times.get(name, [])
        rows.append({"operation": name, "count": len(times),
                     "p50_ms": 1000 * statistics.median(times) if times else None,
                     "p95_ms": 1000 * percentile(times, 95) if times else None,
                     "p99_ms": 1000 * percentile(times, 99) if times else None,
                     "errors": len(tally.errors.get(name, [])),
                     "reconnects": tally.reconnects.get(name, 0),
                     "first_error": next(iter(tally.errors.get(name, [])), None)})
    print(f"{args.users} users for {minutes:.1f} min on PostgreSQL + Redis, two API processes"
          f" and two workers (think time {args.think:.0f} s)")
    print(f"{'operation':45} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'errors':>6} {'resent':>6}")
    for row in rows:
        cells = [f"{row[k]:8.0f}" if row[k] is not None else f"{'-':>8}"
                 for k in ("p50_ms", "p95_ms", "p99_ms")]
        print(f"{row['operation']:45} {row['count']:6d} {' '.join(cells)} {row['errors']:6d} "
              f"{row['reconnects']:6d}")
    for row in rows:
        if row["first_error"]:
            print(f"  first error of {row['operation']}: {row['first_error']}")
    print(f"documents issued per minute during the load: {during / minutes:.1f} "
          f"({during} of {len(shared.routed)} routed)")
    print(f"after the drain: {check['issued']}/{check['documents']} issued, "
          f"{len(check['invalid_files'])} invalid files, {check['duplicate_numbers']} "
          f"duplicate numbers, {len(check['gaps'])} gaps")
    lost = bool(check["not_issued"] or check["invalid_files"] or check["duplicate_numbers"]
                or check["gaps"] or check["refused_drafts"] or check["never_prepared"])
    print("NOTHING LOST" if not lost else "LOSSES: " + json.dumps(check, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps({
            "users": args.users, "minutes": minutes, "think": args.think, "rows": rows,
            "issued_per_minute": during / minutes, "check": check}, ensure_ascii=False,
            indent=2), encoding="utf-8")
    raise SystemExit(1 if lost else 0)


if __name__ == "__main__":
    main()
