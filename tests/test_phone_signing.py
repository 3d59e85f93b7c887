"""Remote signing confirmed on the phone (VNPT SmartCA style), wired end to end over the
real app in-process: the vice-chair's authority is ``remote:vnpt``, a SmartCA service in
tokens.json; he approves a batch, sends it to his phone with one call, the signer's page
says "xác nhận trên điện thoại" with a countdown, he confirms once for the whole batch,
every approved PDF validates. Refused on the phone or timed out: nothing is signed, the
documents still wait, the page shows the reason and offers to send again.

The service is the stand-in written from VNPT's public API description
(tests/support/smartca_standin.py), signing with the vice-chair's key on his SoftHSM
token; the worker's prepare and finish tasks run in this process."""

from __future__ import annotations

from typing import Any

import pytest
from asn1crypto import pem
from sqlalchemy import select

from api.demo.demo import DemoCommune
from api.worker import tasks
from documents import (
    Document,
    DocumentStatus,
    JobStatus,
    SigningJob,
)
from documents.queue import SigningRequest

from .inprocess_support import SIGNER, World, confirm_within, sign_on_the_phone, until
from .support.smartca_standin import SmartCaStandIn


@pytest.fixture(scope="module")
def standin(phone_standin: SmartCaStandIn) -> SmartCaStandIn:
    return phone_standin


@pytest.fixture(scope="module", autouse=True)
def on_the_phone(world: World, standin: SmartCaStandIn, commune: DemoCommune) -> None:
    """The vice-chair signs through the SmartCA stand-in, transactions lasting 60 s."""
    sign_on_the_phone(world, standin, 60, commune.pki.tsa_url)


def approved_batch(world: World, standin: SmartCaStandIn, count: int) -> tuple[str, list[str]]:
    """``count`` drafts approved together by the vice-chair and prepared for his remote key:
    (batch, document ids)."""
    documents = [world.routed_draft() for _ in range(count)]
    with world.sessions() as session:
        requests = [session.scalars(select(SigningRequest.id).where(
            SigningRequest.document_id == d)).one() for d in documents]
    answer = world.client.post("/api/v1/requests/approve-batch", headers=world.headers,
                               json={"request_ids": requests})
    assert answer.status_code == 202, answer.text
    batch, jobs = answer.json()["batch"], answer.json()["job_ids"]
    assert len(jobs) == count
    # the certificate the service holds (as start_phone_batch fetches it), then the worker
    cert = pem.armor("CERTIFICATE", standin.certificate.dump()).decode()
    registered = world.client.post("/api/v1/agent/certificate", headers=world.headers,
                                   json={"certificate_pem": cert})
    assert registered.status_code == 200, registered.text
    assert [tasks.prepare_signing_job(j) for j in jobs] == ["READY"] * count
    return batch, documents


def jobs_of(world: World, batch: str) -> list[SigningJob]:
    with world.sessions() as session:
        jobs = list(session.scalars(select(SigningJob).where(SigningJob.batch == batch)))
        session.expunge_all()
        return jobs


def page(world: World, batch: str, confirm_until: str) -> str:
    from datetime import datetime

    moment = datetime.fromisoformat(confirm_until).timestamp()
    answer = world.client.get(f"/lanh-dao/dien-thoai/{batch}?until={moment}",
                              headers=world.headers)
    assert answer.status_code == 200, answer.text
    return str(answer.text)


def send_to_phone(world: World, batch: str) -> dict[str, Any]:
    answer = world.client.post(f"/api/v1/remote-phone/{batch}", headers=world.headers)
    assert answer.status_code == 202, answer.text
    sent: dict[str, Any] = answer.json()
    return sent


def test_a_batch_is_one_confirmation_on_the_phone_and_every_approval_validates(
        world: World, standin: SmartCaStandIn) -> None:
    batch, documents = approved_batch(world, standin, 3)
    offer = world.client.get(f"/lanh-dao/viec-ky?batch={batch}&remote=true",
                             headers=world.headers)
    assert "Gửi yêu cầu ký đến điện thoại" in offer.text and "remote-pin" not in offer.text
    sent = send_to_phone(world, batch)
    assert sent["documents"] == 3 and 50 <= sent["seconds_left"] <= 60
    transaction = standin.next_transaction()  # one request on the phone ...
    assert len(transaction.digests) == 3  # ... for the whole batch
    standin.wait_polled(transaction, 1)
    waiting = page(world, batch, sent["confirm_until"])
    assert "xác nhận trên điện thoại" in waiting and 'id="phone-countdown"' in waiting
    assert "Còn <strong id=\"phone-countdown\" data-seconds=" in waiting
    standin.confirm(transaction)
    until(lambda: all(j.status is JobStatus.SIGNED for j in jobs_of(world, batch)))
    assert [tasks.finish_signing_job(j.id) for j in jobs_of(world, batch)] == ["DONE"] * 3
    done = page(world, batch, sent["confirm_until"])
    assert "Lô đã xong: 3/3" in done and "phone-countdown" not in done
    assert len(standin.transactions) == 1
    with world.sessions() as session:
        for document_id in documents:
            assert session.get_one(Document, document_id).status is DocumentStatus.SIGNED
    world.assert_approvals_validate(documents, signer=SIGNER)


@pytest.mark.parametrize("outcome", ["refused", "timeout"])
def test_a_refusal_or_timeout_leaves_the_documents_waiting_with_the_reason(
        outcome: str, world: World, standin: SmartCaStandIn) -> None:
    batch, documents = approved_batch(world, standin, 2)
    if outcome == "timeout":
        confirm_within(world, standin, 0.5)
    try:
        sent = send_to_phone(world, batch)
        transaction = standin.next_transaction()
        if outcome == "refused":
            standin.refuse(transaction)
        reason = "từ chối" if outcome == "refused" else "vẫn chờ ký"
        until(lambda: all(j.error and reason in j.error for j in jobs_of(world, batch)))
    finally:
        confirm_within(world, standin, 60)
        if outcome == "timeout":
            standin.refuse(transaction)  # the phone never answered; close it at the service
    assert all(j.status is JobStatus.READY for j in jobs_of(world, batch))  # nothing signed
    with world.sessions() as session:
        assert all(session.get_one(Document, d).status is DocumentStatus.AWAITING_SIGNATURE
                   for d in documents)
    shown = page(world, batch, sent["confirm_until"])
    assert reason in shown and "Gửi lại yêu cầu ký đến điện thoại" in shown
    # and the documents can be sent again, this time confirmed
    again = send_to_phone(world, batch)
    assert again["documents"] == 2
    retry = standin.next_transaction()
    standin.confirm(retry)
    until(lambda: all(j.status is JobStatus.SIGNED for j in jobs_of(world, batch)))
