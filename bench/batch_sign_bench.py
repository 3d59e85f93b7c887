"""Batch signing with one PIN on a slow USB token: is the token the only bottleneck?

    .venv/bin/python bench/batch_sign_bench.py [--n 50] [--delay-ms 300]

Starts `kyso serve` (embedded profile) on a fresh data directory, moves the Phó Chủ tịch's
token ("pho-chu-tich-duc") to a SoftHSM directory of its own — "his PC", which the service
cannot reach — and switches his signing authority to the agent. Staff upload and route N
drafts to him; he approves them as one batch; once the service has prepared every digest,
the agent runs in this process (``api.agent.main.Agent``) on the slow-token wrapper
(tests/support/slowtoken.c: every signature sleeps ``--delay-ms``, as a real USB token
takes 100-700 ms) in front of SoftHSM. Measured from the PIN entry: the wall time until
the service accepted the last signature (against N × delay: the target is within 10%),
and until all N documents are SIGNED (the service's worker finishes each PDF).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DRAFT = ROOT / "tests" / "data" / "drafts" / "t1_mau12_quyet_dinh.pdf"
SIGNER, SIGNER_USER, SIGNER_TOKEN = "Lê Minh Đức", "phochutichduc", "pho-chu-tich-duc"


def prepare_pc(root: Path) -> Path:
    """The signer's PC: its own SoftHSM configuration, which this process loads (SoftHSM
    reads SOFTHSM2_CONF once per process, so this happens before anything loads it)."""
    pc = root / "pc"
    (pc / "tokens").mkdir(parents=True)
    conf = pc / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {pc / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\nslots.removable = false\n", encoding="utf-8")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    return pc


def route_and_approve(service: Any, body_id: int, count: int) -> list[str]:
    """Upload and route ``count`` drafts to the signer, who approves them as one batch."""
    from tests.service_support import upload

    staff = service.login("chuyenvien")
    signer = {s["full_name"]: s["person_id"] for s in
              staff.get(f"/api/v1/bodies/{body_id}/signers").json()}[SIGNER]
    documents = []
    for _ in range(count):
        created = upload(staff, body_id, DRAFT)
        assert created.status_code == 201, created.text
        routed = staff.post(f"/api/v1/documents/{created.json()['id']}/route",
                            json={"signer_person_ids": [signer]})
        assert routed.status_code == 200, routed.text
        documents.append(created.json()["id"])
    me = service.login(SIGNER_USER)
    requests = [r["id"] for r in me.get("/api/v1/queue").json() if r["document_id"] in documents]
    approved = me.post("/api/v1/requests/approve-batch", json={"request_ids": requests})
    assert approved.status_code == 202, approved.text
    return documents


def wait_prepared(client: httpx.Client, count: int, limit: float = 600) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        answer = client.get("/api/v1/agent/jobs").json()
        if len(answer["jobs"]) >= count and not answer["preparing"]:
            return
        time.sleep(0.5)
    raise SystemExit(f"the service did not prepare {count} digests in {limit:.0f} s")


def wait_signed(client: httpx.Client, documents: list[str], limit: float = 600) -> float:
    """When (perf_counter) the last of ``documents`` became SIGNED."""
    from bench.listing import at_status  # after ROOT is on sys.path (run as a script)

    deadline = time.monotonic() + limit
    pending = set(documents)
    while pending and time.monotonic() < deadline:
        pending -= at_status(client, "SIGNED")
        if pending:
            time.sleep(0.1)
    if pending:
        raise SystemExit(f"{len(pending)} documents never became SIGNED")
    return time.perf_counter()


def run(count: int, delay_ms: int) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="kyso-bench-batch-"))
    pc = prepare_pc(root)

    from api.agent.main import Agent, ServiceClient
    from api.datadir import DataDir
    from api.demo.demo import DEMO_PIN, provision, token_settings
    from certs import free_port
    from tests.service_support import move_token, start_service
    from tests.support.native import ENV_SLOW_MODULE, ENV_SLOW_SIGN_MS, build_slow_token
    from tokens import refresh_module

    data = DataDir(root / "data").create()
    commune = provision(data.softhsm, data.pki)
    move_token(data.softhsm, SIGNER_TOKEN, pc)
    refresh_module(commune.hsm.module)  # this process's SoftHSM now sees the moved token
    data.save_token_settings(token_settings(commune))
    slow = build_slow_token(root / "native")
    os.environ[ENV_SLOW_MODULE] = commune.hsm.module
    os.environ[ENV_SLOW_SIGN_MS] = str(delay_ms)

    env = {k: v for k, v in os.environ.items()
           if k not in ("SOFTHSM2_CONF", "KYSO_DATABASE_URL", "KYSO_BROKER_URL",
                        "KYSO_RESULT_BACKEND")}
    service = start_service(data, free_port(), env, root / "serve.log")
    try:
        admin = service.login("quantri")
        body_id = admin.get("/api/v1/bodies").json()[0]["id"]
        authority = {a["person"]: a for a in admin.get(
            f"/api/v1/admin/bodies/{body_id}/authorities").json()}[SIGNER]
        changed = admin.patch(f"/api/v1/admin/bodies/{body_id}/authorities/{authority['id']}",
                              json={"token_name": "agent"})
        assert changed.status_code == 200, changed.text

        # the agent connects first: the service knows the certificate and prepares at once
        client = ServiceClient(service.url)
        me = client.login(SIGNER_USER, f"{SIGNER_USER}-demo")
        marks: dict[str, float] = {}
        accepted: list[float] = []
        latencies: list[float] = []
        post = client.post

        def timed_post(job: Any, value: bytes, algorithm: str) -> dict[str, Any]:
            sent = time.perf_counter()
            answer = post(job, value, algorithm)
            accepted.append(time.perf_counter())
            latencies.append(accepted[-1] - sent)
            return answer

        def ask_pin() -> str:
            marks["pin"] = time.perf_counter()
            return DEMO_PIN

        client.post = timed_post  # type: ignore[method-assign]
        from rich.console import Console

        signed: list[float] = []

        class TimedAgent(Agent):
            def _sign_one(self, pool: Any, signer: Any, job: Any) -> Any:
                future = super()._sign_one(pool, signer, job)
                signed.append(time.perf_counter())
                return future

        agent = TimedAgent(client, str(slow), ask_pin, lambda jobs: True,
                           Console(file=io.StringIO(), width=120))
        agent.connect(me)

        documents = route_and_approve(service, body_id, count)
        signer_http = service.login(SIGNER_USER)
        wait_prepared(signer_http, count)

        outcome = agent.run(wait=0, once=True)
        done = time.perf_counter()
        clerk = service.login("vanthu")
        signed_at = wait_signed(clerk, documents)
    finally:
        service.stop()
        shutil.rmtree(root, ignore_errors=True)
    if len(outcome.signed) != count:
        raise SystemExit(f"the agent signed {len(outcome.signed)} of {count}")
    wall = max(accepted) - marks["pin"]
    latencies.sort()
    return {"wall": wall, "returned": done - marks["pin"],
            "all_signed": signed_at - marks["pin"],
            "first_signature": signed[0] - marks["pin"],
            "last_signature": signed[-1] - marks["pin"],
            "post_median": latencies[len(latencies) // 2], "post_max": latencies[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="documents in the batch")
    parser.add_argument("--delay-ms", type=int, default=300,
                        help="milliseconds the token takes per signature")
    args = parser.parse_args()
    result = run(args.n, args.delay_ms)
    floor = args.n * args.delay_ms / 1000
    print(f"| N | delay ms | wall s (PIN → last signature accepted) | N × delay s | ratio "
          f"| until all {args.n} SIGNED s |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.n} | {args.delay_ms} | {result['wall']:.2f} | {floor:.2f} "
          f"| {result['wall'] / floor:.3f} | {result['all_signed']:.2f} |")
    print(f"first signature {result['first_signature']:.3f} s, last "
          f"{result['last_signature']:.3f} s after the PIN; a post took "
          f"{result['post_median'] * 1000:.0f} ms (median), {result['post_max'] * 1000:.0f} ms "
          f"(max); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
