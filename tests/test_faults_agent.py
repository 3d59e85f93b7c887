"""The agent losing its connection mid-batch (issue 17, faults during work), end to end:
`kyso serve`, and `kyso agent` on "the signer's PC" reaching the service through a TCP
relay that goes down the moment the agent sends its third signature (that request cut
off, the answer to the second perhaps lost on its way back). The agent stops with the
count and the reason; what the service took is finished, the rest stays in the signer's
queue; the agent run again once the network is back signs the rest, nothing twice."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from api.demo.demo import DEMO_PIN

from .helpers import KYSO
from .service_support import keys_elsewhere, routed_drafts
from .support.backing import TcpRelay
from .test_faults import DRAFT, until
from .test_faults_backing import consistent, issue_all

pytestmark = pytest.mark.slow

COUNT = 5


def test_the_agent_cut_off_mid_batch_leaves_the_rest_queued_and_a_second_run_signs_once(
        tmp_path: Path) -> None:
    with keys_elsewhere(tmp_path) as keys:
        service = keys.service
        staff = service.login("chuyenvien")
        documents = routed_drafts(staff, keys.body_id, DRAFT, "Lê Minh Đức", COUNT)
        me = service.login("phochutichduc")
        requests = [r["id"] for r in me.get("/api/v1/queue").json()
                    if r["document_id"] in documents]
        assert me.post("/api/v1/requests/approve-batch",
                       json={"request_ids": requests}).status_code == 202

        target = urlsplit(service.url)
        relay = TcpRelay((target.hostname or "127.0.0.1", target.port or 80))
        relay.up()

        def agent() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [KYSO, "agent", "--service", relay.url, "--user", "phochutichduc",
                 "--module", keys.commune.hsm.module, "--once", "--yes", "--wait", "20"],
                input=f"{DEMO_PIN}\n", capture_output=True, text=True, timeout=300,
                env={**os.environ, "SOFTHSM2_CONF": str(keys.pc("pho-chu-tich-duc")),
                     "KYSO_PASSWORD": "phochutichduc-demo", "COLUMNS": "120"})

        try:
            relay.drop_at(b"/signature", 3)
            cut = agent()
            assert relay.dropped.is_set(), cut.stdout + cut.stderr
            assert cut.returncode == 2, cut.stdout + cut.stderr
            stopped = re.search(r"dừng sau (\d)/(\d) văn bản", cut.stderr)
            assert stopped, cut.stderr
            told_signed = int(stopped.group(1))
            # of the jobs ready so far (the others are added as they are prepared)
            assert told_signed <= 2 and told_signed < int(stopped.group(2)) <= COUNT
            assert "kiểm tra kết nối mạng" in cut.stderr and "network" in cut.stderr

            # what the service took is finished, nothing half-signed; the rest waits in
            # the queue of the agent's jobs
            def split() -> tuple[list[str], set[str]]:
                signed = [d for d in documents
                          if me.get(f"/api/v1/documents/{d}").json()["status"] == "SIGNED"]
                waiting = {j["document_id"] for j in me.get("/api/v1/agent/jobs").json()["jobs"]}
                return signed, waiting

            # each signature the service took is finished (its task runs), each other job
            # is still offered to the agent
            signed, waiting = until(lambda: (p := split()) and
                                    len(p[0]) + len(p[1]) == COUNT and p, 90,
                                    "signed + waiting = the batch")
            # more than the agent counted when an answer was lost on the way back (the
            # next signature may have gone on the other connection as the relay fell)
            assert told_signed <= len(signed) < COUNT, (told_signed, signed)
            assert waiting == set(documents) - set(signed)
            for document_id in documents:
                kinds = [v["kind"] for v in me.get(f"/api/v1/documents/{document_id}")
                         .json()["versions"]]
                assert kinds.count("APPROVED") <= 1, kinds

            relay.up()  # the network is back
            started = time.monotonic()
            again = agent()
            assert again.returncode == 0, again.stdout + again.stderr
            rest = re.search(r"Đã ký (\d+)/(\d+)", again.stdout)
            assert rest and int(rest.group(1)) == int(rest.group(2)) == COUNT - len(signed), \
                again.stdout
            numbers = issue_all(service, documents)
            consistent(service, documents, numbers)
            print(f"agent cut off: {len(signed)}/{COUNT} signed before, the rest "
                  f"{time.monotonic() - started:.1f} s after the network came back "
                  "(issued included)")
        finally:
            relay.down()
