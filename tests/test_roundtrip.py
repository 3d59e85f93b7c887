"""The round trip through any signing tool, over the real app in-process: the next signer
downloads the prepared document, signs it outside Kyso (pyHanko's own ``sign_pdf`` with the
key on their token, as any tool would), uploads it; the approval is recorded, the clerk
issues, the issued file validates. Every upload of the corpus (an added page, changed text,
an extra annotation, a signature in another field, another certificate, a second
signature, a certification signature, a stripped field) is refused with its reason in
Vietnamese and leaves the database as it was."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from sqlalchemy import func, select

from api.cli.operations import verify_document
from api.datadir import DataDir
from api.demo.art import seal
from api.demo.demo import DEMO_PIN, DemoCommune
from documents import (
    Document,
    DocumentStatus,
    DocumentVersion,
    IssueDetails,
    Signing,
    SigningJob,
    VersionKind,
    issue,
)
from documents.audit import AuditAction, AuditEvent
from documents.queue import RequestStatus, SigningRequest
from signer import APPROVAL_FIELD

from .inprocess_support import SIGNER, World
from .test_returned import _add_note, _add_page, _change_text, _strip_field, official, signed


def download(world: World, document_id: str, headers: dict[str, str] | None = None) -> Any:
    return world.client.get(f"/api/v1/documents/{document_id}/to-sign.pdf",
                            headers=headers or world.headers)


def upload(world: World, document_id: str, pdf: bytes) -> Any:
    return world.client.post(f"/api/v1/documents/{document_id}/signed", headers=world.headers,
                             files={"file": ("da-ky.pdf", pdf, "application/pdf")})


def state(world: World, document_id: str) -> dict[str, Any]:
    """What an accepted upload changes (and a refused one must not)."""
    with world.sessions() as session:
        document = session.get_one(Document, document_id)
        return {
            "status": document.status,
            "versions": sorted(v.kind.name for v in session.scalars(select(DocumentVersion)
                               .where(DocumentVersion.document_id == document_id))),
            "requests": [r.status for r in session.scalars(select(SigningRequest).where(
                SigningRequest.document_id == document_id))],
            "jobs": session.scalar(select(func.count()).select_from(SigningJob).where(
                SigningJob.document_id == document_id)),
            "signs": session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.object_id == document_id,
                AuditEvent.action.in_((AuditAction.SIGN, AuditAction.APPROVE)))),
        }


def _stripped(pdf: bytes, key: signers.Signer) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    _strip_field(writer)
    out = io.BytesIO()
    signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name=APPROVAL_FIELD),
                     signer=key, output=out,
                     new_field_spec=fields.SigFieldSpec(APPROVAL_FIELD, box=(20, 20, 120, 60)))
    return out.getvalue()


Forge = Callable[[bytes, signers.Signer], bytes]
CORPUS: dict[str, tuple[Forge, str]] = {
    "added page": (lambda p, k: signed(p, k, before=_add_page), "đã bị thay đổi"),
    "changed text": (lambda p, k: signed(p, k, before=_change_text), "đã bị thay đổi"),
    "extra annotation": (lambda p, k: signed(p, k, before=_add_note), "đã bị thay đổi"),
    "another field": (lambda p, k: signed(p, k, field="ChuKyKhac"), "ChuKyKhac"),
    "another certificate": (lambda p, k: signed(p, official("Người Lạ")[0]),
                            "không phải chứng thư đã đăng ký"),
    "second signature": (lambda p, k: signed(signed(p, k), k, field="ChuKyThem"),
                         "2 chữ ký mới"),
    "certification": (lambda p, k: signed(p, k, certify=True), "chứng nhận"),
    "stripped field": (_stripped, "đã bị thay đổi"),
}


@pytest.fixture(scope="module")
def waiting_document(world: World) -> str:
    return world.routed_draft()


@pytest.mark.parametrize("case", list(CORPUS))
def test_an_altered_upload_is_refused_with_its_reason_and_changes_nothing(
        case: str, world: World, waiting_document: str, duc_key: signers.Signer) -> None:
    forge, says = CORPUS[case]
    prepared = download(world, waiting_document)
    assert prepared.status_code == 200, prepared.text
    before = state(world, waiting_document)
    answer = upload(world, waiting_document, forge(prepared.content, duc_key))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["vi"].startswith("tệp đã ký không được nhận") and says in error["vi"], error
    assert state(world, waiting_document) == before  # nothing half-done
    with world.sessions() as session:
        last = session.scalars(select(AuditEvent).where(
            AuditEvent.object_id == waiting_document).order_by(AuditEvent.seq.desc())).first()
        assert last is not None and last.action is AuditAction.VERIFY
        assert last.details_dict["accepted"] is False and says in last.details_dict["reason"]


def test_only_the_next_signer_may_download_or_upload(world: World, waiting_document: str,
                                                     duc_key: signers.Signer) -> None:
    other = world.login("chutich")
    assert download(world, waiting_document, other).status_code == 403
    prepared = download(world, waiting_document).content
    answer = world.client.post(f"/api/v1/documents/{waiting_document}/signed", headers=other,
                               files={"file": ("x.pdf", signed(prepared, duc_key))})
    assert answer.status_code == 403
    assert download(world, "khong-co", world.headers).status_code == 403


def test_a_pdf_signed_outside_kyso_is_approved_then_issued_and_validates(
        world: World, duc_key: signers.Signer, commune: DemoCommune, data: DataDir) -> None:
    document_id = world.routed_draft()
    answer = download(world, document_id)
    assert answer.headers["X-Kyso-Signature-Field"] == APPROVAL_FIELD
    returned = signed(answer.content, duc_key)  # the official's tool: pyHanko, not Kyso
    accepted = upload(world, document_id, returned)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == DocumentStatus.SIGNED.name
    after = state(world, document_id)
    assert after["status"] is DocumentStatus.SIGNED and "APPROVED" in after["versions"]
    # the step approved with the upload, then the approval signature: APPROVE, APPROVE, SIGN
    assert after["requests"] == [RequestStatus.APPROVED] and after["signs"] == 3
    with world.sessions() as session:
        sign = session.scalars(select(AuditEvent).where(
            AuditEvent.object_id == document_id,
            AuditEvent.action == AuditAction.SIGN)).one()
        assert sign.details_dict["channel"] == "upload"
    # a second upload of the same file finds the document signed already
    assert upload(world, document_id, returned).status_code == 403
    # the clerk's act is unchanged: number, seal, issue
    with data.token("ubnd").signer(DEMO_PIN) as body_signer, world.sessions() as session, \
            session.begin():
        document = session.get_one(Document, document_id)
        _, issued = issue(session, world.store, document, body_signer, seal(),
                          IssueDetails(issued_date=date.today(), signer_full_name=SIGNER,
                                       signer_position="Phó Chủ tịch"),
                          Signing(tsa_url=commune.pki.tsa_url))
    assert issued.startswith(returned)
    report = verify_document(data, issued)
    assert report.verdict == "valid", report.reasons
    assert len(report.signatures) == 2
    with world.sessions() as session:
        kinds = {v.kind for v in session.scalars(select(DocumentVersion).where(
            DocumentVersion.document_id == document_id))}
    assert VersionKind.ISSUED in kinds

