"""The attacks of issue 11 on key custody, replayed over HTTP against a running
`kyso serve` (API + Celery worker + demo PKI, the embedded profile).

1. A clerk naming another person's token (``{"token": "chu-tich"}``, ``-F token=…``) or
   an issue date gets a 422 and nothing happens; the issued file's organisation
   signature is by the body's own certificate.
2. A second commune's administrator binding Tiên Lữ's certificate hash (read from a
   signed PDF) or token name to one of their authorities, or as their seal, is refused.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import TESTS_DATA
from .service_support import Service, embedded_service, upload, wait_for

DRAFT = TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with embedded_service(tmp_path_factory.mktemp("custody-service")) as service:
        yield service


def signatures(pdf: bytes) -> list[tuple[str, str]]:
    """(signer's common name, SHA-256 of the signer's certificate) of each signature."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    return [(s.signer_cert.subject.native["common_name"],
             hashlib.sha256(s.signer_cert.dump()).hexdigest())
            for s in PdfFileReader(io.BytesIO(pdf)).embedded_signatures]


def cert_sha256(service: Service, label: str) -> str:
    from certs import DemoPki

    return hashlib.sha256(DemoPki(service.data.pki).cert(label).dump()).hexdigest()


def signed_document(service: Service) -> tuple[httpx.Client, str, int]:
    """A draft approved by Lê Minh Đức, waiting for the clerk: (clerk, id, body id)."""
    staff = service.login("chuyenvien")
    body_id = staff.get("/api/v1/bodies").json()[0]["id"]
    document = upload(staff, body_id, DRAFT).json()
    signers = {s["full_name"]: s["person_id"]
               for s in staff.get(f"/api/v1/bodies/{body_id}/signers").json()}
    assert staff.post(f"/api/v1/documents/{document['id']}/route", json={
        "signer_person_ids": [signers["Lê Minh Đức"]]}).status_code == 200
    vice_chair = service.login("phochutichduc")
    request_id = next(r["id"] for r in vice_chair.get("/api/v1/queue").json()
                      if r["document_id"] == document["id"])
    assert vice_chair.post(f"/api/v1/requests/{request_id}/approve").status_code == 202
    wait_for(vice_chair, document["id"], "SIGNED")
    return service.login("vanthu"), document["id"], body_id


def unchanged(clerk: httpx.Client, document_id: str, status: str,
              kinds: list[str]) -> None:
    state = clerk.get(f"/api/v1/documents/{document_id}").json()
    assert state["status"] == status and [v["kind"] for v in state["versions"]] == kinds


@pytest.mark.slow
def test_a_clerk_cannot_name_a_key_or_a_date_and_the_seal_is_the_bodys(
        service: Service) -> None:
    from common import vietnam_time

    clerk, document_id, body_id = signed_document(service)
    base = f"/api/v1/documents/{document_id}"
    before = [v["kind"] for v in clerk.get(base).json()["versions"]]
    for body in ({"token": "chu-tich"}, {"issued_on": "2020-01-15"},
                 {"issued_on": "2099-12-31", "recipients": "Lưu: VT."}):
        refused = clerk.post(f"{base}/issue", json=body)
        assert refused.status_code == 422, refused.text
        assert any(e["type"] == "extra_forbidden" for e in refused.json()["detail"])
    unchanged(clerk, document_id, "SIGNED", before)
    # refused before anything was queued: no number either
    assert clerk.get(base).json()["number"] is None

    assert clerk.post(f"{base}/issue", json={"recipients": "Như Điều 3; Lưu: VT."}
                      ).status_code == 202
    issued = wait_for(clerk, document_id, "ISSUED")
    pdf = clerk.get(f"{base}/versions/issued").content
    assert signatures(pdf) == [("Lê Minh Đức", cert_sha256(service, "pho-chu-tich-duc")),
                               ("UBND xã Tiên Lữ", cert_sha256(service, "ubnd"))]
    (report,) = clerk.post("/api/v1/verify", files=[
        ("files", ("issued.pdf", pdf, "application/pdf"))]).json()
    assert report["verdict"] == "valid"
    today = vietnam_time().date()
    rows = clerk.get(f"/api/v1/register/{body_id}/{today.year}").json()
    (row,) = [r for r in rows if r["number"] == issued["number"]]
    assert row["date"] == today.isoformat()  # the day of the organisation signature

    # the attachment and the copy: a token named in the form or the body is refused
    from api.demo.art import appendix_pdf

    appendix = appendix_pdf(f"Phụ lục của Quyết định số {issued['number']}")
    refused = clerk.post(f"{base}/attachments", data={"token": "chu-tich"},
                         files={"file": ("phu-luc.pdf", appendix, "application/pdf")})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["type"] == "UnknownFields"
    assert "token" in refused.json()["error"]["vi"]
    for body in ({"kind": "SAO_Y", "token": "chu-tich"},
                 {"kind": "SAO_Y", "issued_on": "2020-01-15"}):
        assert clerk.post(f"{base}/copies", json=body).status_code == 422
    unchanged(clerk, document_id, "ISSUED", [*before, "ISSUED"])
    assert not [d for d in clerk.get("/api/v1/documents").json() if d["type"] == "ban-sao-y"
                and d["subject"].endswith(issued["number"])]

    queued = clerk.post(f"{base}/attachments",
                        files={"file": ("phu-luc.pdf", appendix, "application/pdf")})
    assert queued.status_code == 202, queued.text
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and "ATTACHMENT" not in [
            v["kind"] for v in clerk.get(base).json()["versions"]]:
        time.sleep(0.3)
    attachment = clerk.get(f"{base}/versions/attachment").content
    assert signatures(attachment) == [("UBND xã Tiên Lữ", cert_sha256(service, "ubnd"))]
    # a signer is not a clerk: the Chairman cannot issue or attach at all
    chair = service.login("chutich")
    assert chair.post(f"{base}/attachments", files={
        "file": ("x.pdf", appendix, "application/pdf")}).status_code == 403


def second_commune_admin(service: Service) -> tuple[httpx.Client, int]:
    """UBND xã Hưng Đạo with an administrator of its own (made in the database, as the
    instance's operator would), logged in over HTTP."""
    from documents import Organisation, OrganisationKind, create_engine_for, session_factory
    from documents.accounts import Role, create_user, grant

    engine = create_engine_for(service.data.database_url)
    with session_factory(engine)() as session, session.begin():
        other = Organisation(kind=OrganisationKind.PEOPLE_COMMITTEE, name="UBND xã Hưng Đạo",
                             abbreviation="UBND", place_name="Hưng Đạo")
        session.add(other)
        session.flush()
        admin = create_user(session, "quantri-hungdao", "mat-khau-hung-dao",
                            "Quản trị xã Hưng Đạo")
        grant(session, admin, other, Role.ADMIN)
        other_id = other.id
    engine.dispose()
    return service.login_as("quantri-hungdao", "mat-khau-hung-dao"), other_id


@pytest.mark.slow
def test_another_communes_admin_cannot_bind_tien_lus_keys(service: Service) -> None:
    clerk, document_id, _ = signed_document(service)
    # the certificate hashes are visible in any signed PDF
    pdf = clerk.get(f"/api/v1/documents/{document_id}/versions/approved").content
    ((_, duc_sha256),) = signatures(pdf)
    admin, other_id = second_commune_admin(service)
    base = f"/api/v1/admin/bodies/{other_id}"
    person = admin.post(f"{base}/people", json={"full_name": "Hoàng Văn Nam",
                                                "position": "Phó Chủ tịch"})
    assert person.status_code == 201, person.text
    person_id = person.json()["person_id"]
    seal_sha256 = cert_sha256(service, "ubnd")
    for attempt in ({"certificate_sha256": duc_sha256, "token_name": "hung-dao-pct"},
                    {"certificate_sha256": "cd" * 32, "token_name": "pho-chu-tich-duc"},
                    {"certificate_sha256": duc_sha256, "token_name": "pho-chu-tich-duc"},
                    {"certificate_sha256": seal_sha256, "token_name": "hung-dao-pct"},
                    {"certificate_sha256": "cd" * 32, "token_name": "ubnd"}):
        refused = admin.post(f"{base}/authorities", json={
            "person_id": person_id, "designation": "KT", **attempt})
        assert refused.status_code == 409, (attempt, refused.text)
        error = refused.json()["error"]
        assert error["type"] == "KeyHeldElsewhere" and "Lê Minh Đức" not in error["vi"]
    for attempt in ({"certificate_sha256": seal_sha256, "token_name": "hung-dao-seal"},
                    {"certificate_sha256": "ef" * 32, "token_name": "ubnd"},
                    {"certificate_sha256": duc_sha256, "token_name": "hung-dao-seal"},
                    {"certificate_sha256": "ef" * 32, "token_name": "pho-chu-tich-duc"}):
        refused = admin.post(f"{base}/organisation-keys", json=attempt)
        assert refused.status_code == 409, (attempt, refused.text)
    assert admin.post(f"{base}/organisation-keys", json={
        "certificate_sha256": "ef" * 32, "token_name": "agent"}).status_code == 422
    # their own keys are fine, and cannot be moved onto Tiên Lữ's afterwards
    own = admin.post(f"{base}/authorities", json={
        "person_id": person_id, "certificate_sha256": "cd" * 32, "token_name": "hung-dao-pct"})
    assert own.status_code == 201, own.text
    assert admin.patch(f"{base}/authorities/{own.json()['authority_id']}", json={
        "certificate_sha256": duc_sha256}).status_code == 409
    assert admin.patch(f"{base}/authorities/{own.json()['authority_id']}", json={
        "token_name": "ubnd"}).status_code == 409
    seal = admin.post(f"{base}/organisation-keys", json={
        "certificate_sha256": "ef" * 32, "token_name": "hung-dao-seal"})
    assert seal.status_code == 201, seal.text
    assert admin.patch(f"{base}/organisation-keys/{seal.json()['id']}", json={
        "token_name": "ubnd"}).status_code == 409
    keys: list[dict[str, Any]] = admin.get(f"{base}/organisation-keys").json()
    assert [(k["certificate_sha256"], k["token_name"]) for k in keys] == [
        ("ef" * 32, "hung-dao-seal")]
    # and Tiên Lữ's own administrator sees its seal bound to its token
    tien_lu = service.login("quantri")
    body_id = tien_lu.get("/api/v1/bodies").json()[0]["id"]
    assert [(k["certificate_sha256"], k["token_name"]) for k in tien_lu.get(
        f"/api/v1/admin/bodies/{body_id}/organisation-keys").json()] == [
        (seal_sha256, "ubnd")]
    assert Path(service.data.database_url.removeprefix("sqlite:///")).exists()
