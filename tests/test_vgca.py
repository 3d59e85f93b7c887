"""The VGCA Sign Service path, end to end over the real app in-process and a stand-in of
the service written from its public description (tests/support/vgca_standin.py): the
signer's page asks Kyso for the call, sends it to the service, which downloads the file
by its single-use address, signs, uploads by the other; Kyso checks the upload as any
signed file. A batch of documents signs this way and validates; the addresses work once
and expire; a service that signs the wrong thing is refused with the reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from pyhanko.sign import signers
from sqlalchemy import select
from websockets.sync.client import connect

from documents import (
    Document,
    DocumentStatus,
    TicketRefused,
    User,
    issue_tickets,
)
from documents.audit import AuditEvent
from signer import APPROVAL_FIELD

from .inprocess_support import ACCOUNT, World
from .support.vgca_standin import VgcaStandIn, sign_in_field


@pytest.fixture
def service(world: World, duc_key: signers.Signer) -> Iterator[VgcaStandIn]:
    with VgcaStandIn(world.client, duc_key, APPROVAL_FIELD).running() as standin:
        yield standin


def the_call(world: World, document_id: str) -> dict[str, Any]:
    """What the page's script asks Kyso for before calling the service."""
    answer = world.client.post(f"/api/v1/documents/{document_id}/vgca", headers=world.headers)
    assert answer.status_code == 200, answer.text
    call: dict[str, Any] = answer.json()
    assert call["service"] == "wss://127.0.0.1:8987/SignApproved"
    return call


def call_service(service: VgcaStandIn, call: dict[str, Any]) -> dict[str, Any]:
    """What the page's script does: one message to SignApproved, one reply."""
    with connect(f"{service.url}/SignApproved") as socket:
        socket.send(json.dumps(call["request"]))
        reply: dict[str, Any] = json.loads(socket.recv(timeout=120))
        return reply


def status(world: World, document_id: str) -> DocumentStatus:
    with world.sessions() as session:
        return session.get_one(Document, document_id).status


def test_a_batch_signed_by_the_vgca_service_is_accepted_and_validates(
        world: World, service: VgcaStandIn) -> None:
    documents = [world.routed_draft() for _ in range(3)]
    for document_id in documents:
        call = the_call(world, document_id)
        message = call["request"]
        assert set(message) == {"FileName", "FileUploadHandler", "SessionId", "JWTToken",
                                "MetaData"}
        reply = call_service(service, call)
        assert reply["Status"] == 0, reply
        assert json.loads(reply["FileServer"])["accepted"] is True
        assert status(world, document_id) is DocumentStatus.SIGNED
    world.assert_approvals_validate(documents)
    with world.sessions() as session:
        uses = session.scalars(select(AuditEvent.object_id).where(
            AuditEvent.object_type == "signing_ticket")).all()
    assert len(uses) == 6 and len(set(uses)) == 6  # a file and an upload use per document


def test_the_addresses_work_once(world: World, service: VgcaStandIn) -> None:
    document_id = world.routed_draft()
    call = the_call(world, document_id)
    file_url, upload_url = call["request"]["FileName"], call["request"]["FileUploadHandler"]
    first = world.client.get(file_url)
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    again = world.client.get(file_url)
    assert again.status_code == 403 and "dùng một lần" in again.json()["error"]["vi"]
    signed = sign_in_field(first.content, service.key, APPROVAL_FIELD)
    assert world.client.post(upload_url, files={"f": ("x.pdf", signed)}).status_code == 200
    replay = world.client.post(upload_url, files={"f": ("x.pdf", signed)})
    assert replay.status_code == 403
    # a ticket is for one purpose: the upload address does not serve the file
    other = the_call(world, world.routed_draft())["request"]
    swapped = other["FileUploadHandler"].replace("/upload", "/file.pdf")
    assert world.client.get(swapped).status_code == 403
    forged = other["FileName"].replace("/file.pdf", "x/file.pdf")
    assert world.client.get(forged).status_code == 403


def test_an_expired_address_is_refused(world: World) -> None:
    document_id = world.routed_draft()
    with world.sessions() as session:
        account = session.scalars(select(User).where(User.username == ACCOUNT)).one()
        tickets = issue_tickets(session, account, document_id, secret=b"k", channel="vgca",
                                lifetime=timedelta(seconds=-1))
    from documents import file_for_ticket

    with world.sessions() as session, pytest.raises(TicketRefused):
        file_for_ticket(session, world.store, tickets.file, secret=b"k")


def test_a_service_that_signs_the_wrong_field_is_refused_with_the_reason(
        world: World, service: VgcaStandIn) -> None:
    service.sign = lambda pdf: _elsewhere(pdf, service.key)
    document_id = world.routed_draft()
    reply = call_service(service, the_call(world, document_id))
    assert reply["Status"] != 0
    error = json.loads(reply["Message"])["error"]
    assert "ChuKyVGCA" in error["vi"] and error["vi"].startswith("tệp đã ký không được nhận")
    assert status(world, document_id) is DocumentStatus.AWAITING_SIGNATURE


def _elsewhere(pdf: bytes, key: signers.Signer) -> bytes:
    from .test_returned import signed

    return signed(pdf, key, field="ChuKyVGCA")


def test_the_signers_page_offers_the_service_where_it_answers(world: World) -> None:
    document_id = world.routed_draft()
    page = world.client.get("/lanh-dao", headers=world.headers)
    assert '<script src="/static/ui/vgca.' in page.text  # its versioned name
    panel = world.client.get("/lanh-dao/cach-ky-khac", headers=world.headers)
    assert f'data-vgca-document="{document_id}" hidden' in panel.text  # until detected
    assert f"/api/v1/documents/{document_id}/to-sign.pdf" in panel.text
    script = world.client.get("/static/ui/vgca.js").text
    assert "wss://127.0.0.1:8987" in script and "/SignApproved" in script
