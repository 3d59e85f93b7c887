"""The remote-signing service (CSC v2, certomancer-csc-dummy) down (issue 17, faults during
work), end to end on `kyso serve`: Kyso reaches the CSC server through a TCP relay the
test takes down. The chairman's authorisation of a batch then fails with the reason, the
batch's documents show they wait for the service, the audit trail and the people waiting
are told; once the service is back, one authorisation signs the whole batch, once."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from api.demo.demo import DEMO_PIN

from .service_support import Service, keys_elsewhere, routed_drafts
from .support.backing import TcpRelay
from .test_faults import events
from .test_faults_backing import consistent, issue_all

pytestmark = pytest.mark.slow

DRAFT_HUNG = Path(__file__).parent / "data" / "drafts" / "a_quyet_dinh_1trang.pdf"


def approved_batch(service: Service, body_id: int, count: int) -> tuple[str, list[str]]:
    staff = service.login("chuyenvien")
    documents = routed_drafts(staff, body_id, DRAFT_HUNG, "Nguyễn Văn Hùng", count)
    chair = service.login("chutich")
    requests = [r["id"] for r in chair.get("/api/v1/queue").json()
                if r["document_id"] in documents]
    approved = chair.post("/api/v1/requests/approve-batch", json={"request_ids": requests})
    assert approved.status_code == 202, approved.text
    return approved.json()["batch"], documents


def wait_signed(client: httpx.Client, documents: list[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(client.get(f"/api/v1/documents/{d}").json()["status"] == "SIGNED"
               for d in documents):
            return
        time.sleep(0.3)
    raise AssertionError("the batch was not signed in time")


def test_a_remote_signing_service_down_shows_the_batch_waiting_and_one_authorisation_after(
        tmp_path: Path) -> None:
    with keys_elsewhere(tmp_path) as keys:
        service, data = keys.service, keys.service.data
        target = urlsplit(keys.csc.base_url)
        relay = TcpRelay((target.hostname or "127.0.0.1", target.port or 80))
        relay.up()
        tokens = data.token_settings()
        tokens["csc-tinh"]["url"] = relay.url  # read on each remote signing
        data.save_token_settings(tokens)
        chair = service.login("chutich")
        try:
            # a first batch while the service is up: the chairman's certificate is on file
            first_batch, first = approved_batch(service, keys.body_id, 1)
            assert chair.post(f"/api/v1/remote/batches/{first_batch}/sign",
                              json={"pin": DEMO_PIN}).status_code == 200
            wait_signed(chair, first)

            batch, documents = approved_batch(service, keys.body_id, 3)
            relay.down()  # the remote-signing service is unreachable
            started = time.monotonic()
            for _ in range(2):  # the chairman tries twice: told the reason, told once
                refused = chair.post(f"/api/v1/remote/batches/{batch}/sign",
                                     json={"pin": DEMO_PIN})
                assert refused.status_code == 503, refused.text
                assert "không kết nối được dịch vụ ký số từ xa" in refused.json()["error"]["vi"]
                assert "unreachable" in refused.json()["error"]["en"]
            for document_id in documents:
                document = chair.get(f"/api/v1/documents/{document_id}").json()
                assert document["status"] == "AWAITING_SIGNATURE", document
                assert "APPROVED" not in [v["kind"] for v in document["versions"]]
                assert document["problem"].startswith("Đang chờ dịch vụ"), document
                # the PIN is never kept: the text says the signer authorises once more
                assert "xác nhận lại một lần" in document["problem"], document
                assert "authorises the batch once more" in document["problem"], document
                waited = [e for e in events(service, document_id)
                          if e.get("background") == "waiting_for_service"]
                assert len(waited) == 1 and waited[0]["service"] == "remote-signing"
            told = [n for n in chair.get("/api/v1/notifications").json()
                    if n["kind"] == "WORK_DELAYED" and n["document_id"] in documents]
            assert len(told) == 3 and all("(remote-signing)" in n["text"] for n in told), told
            page = service.login("chuyenvien").get("/chuyen-vien/danh-sach")
            assert page.status_code == 200 and "waiting-service" in page.text

            relay.up()  # back: one authorisation signs the whole batch
            back = time.monotonic()
            signed = chair.post(f"/api/v1/remote/batches/{batch}/sign", json={"pin": DEMO_PIN})
            assert signed.status_code == 200, signed.text
            assert signed.json()["signed"] == 3
            wait_signed(chair, documents)
            recovered = time.monotonic() - back
            for document_id in documents:
                document = chair.get(f"/api/v1/documents/{document_id}").json()
                assert document["problem"] is None, document
                assert [e.get("background") for e in events(service, document_id)
                        ].count("resumed") == 1
            again = chair.post(f"/api/v1/remote/batches/{batch}/sign", json={"pin": DEMO_PIN})
            assert again.status_code == 409  # nothing left: no double signature
            everything = first + documents
            consistent(service, everything, issue_all(service, everything))
            print(f"csc down: {back - started:.1f} s down, batch of 3 signed "
                  f"{recovered:.1f} s after it came back")
        finally:
            relay.down()
