"""A prepared document signed outside Kyso (here: by pyHanko itself, as any tool would) is
accepted only as the prepared file plus one approval signature in its field, by the
registered certificate, with nothing else changed; each other upload is refused, saying
what differs."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from signer import APPROVAL_FIELD, ReturnedRefused, check_returned, locate
from signer.prepare import plan_fields, prepare_draft

DRAFT = Path(__file__).parent / "data" / "drafts" / "t1_mau12_quyet_dinh.pdf"


def official(name: str) -> tuple[signers.SimpleSigner, str]:
    """A key and certificate of the official's own, as their tool would hold them."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365)).sign(key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(der),
        signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())),
        cert_registry=None)  # type: ignore[arg-type]
    return signer, hashlib.sha256(der).hexdigest()


@pytest.fixture(scope="module")
def prepared() -> bytes:
    pdf = DRAFT.read_bytes()
    return prepare_draft(pdf, plan_fields(locate(pdf)))


@pytest.fixture(scope="module")
def duc() -> tuple[signers.SimpleSigner, str]:
    return official("Lê Minh Đức")


def signed(pdf: bytes, signer: signers.Signer, field: str = APPROVAL_FIELD, *,
           certify: bool = False, before: Callable[[IncrementalPdfFileWriter], None] | None
           = None) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    if before is not None:
        before(writer)
    out = io.BytesIO()
    signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name=field, certify=certify),
                     signer=signer, output=out,
                     new_field_spec=None if field == APPROVAL_FIELD else
                     fields.SigFieldSpec(field, box=(20, 20, 120, 60)))
    return out.getvalue()


def refusal(prepared: bytes, returned: bytes, sha256: str) -> ReturnedRefused:
    with pytest.raises(ReturnedRefused) as refused:
        check_returned(prepared, returned, field_name=APPROVAL_FIELD, certificate_sha256=sha256)
    assert refused.value.en.startswith("the signed file is refused")
    return refused.value


def test_the_prepared_file_signed_in_its_field_is_accepted(
        prepared: bytes, duc: tuple[signers.SimpleSigner, str]) -> None:
    signer, sha256 = duc
    returned = signed(prepared, signer)
    accepted = check_returned(prepared, returned, field_name=APPROVAL_FIELD,
                              certificate_sha256=sha256)
    assert accepted.field_name == APPROVAL_FIELD and accepted.added_bytes > 0
    assert hashlib.sha256(accepted.certificate.dump()).hexdigest() == sha256


def test_the_prepared_file_unsigned_is_refused(prepared: bytes,
                                               duc: tuple[signers.SimpleSigner, str]) -> None:
    assert "không có chữ ký số mới" in refusal(prepared, prepared, duc[1]).vi


def test_a_rewritten_file_is_refused(prepared: bytes,
                                     duc: tuple[signers.SimpleSigner, str]) -> None:
    with pikepdf.open(io.BytesIO(prepared)) as pdf:
        out = io.BytesIO()
        pdf.save(out)
    assert "ghi lại toàn bộ tệp" in refusal(prepared, signed(out.getvalue(), duc[0]), duc[1]).vi


def test_another_certificate_is_refused(prepared: bytes,
                                        duc: tuple[signers.SimpleSigner, str]) -> None:
    stranger, _ = official("Người Lạ")
    error = refusal(prepared, signed(prepared, stranger), duc[1])
    assert "Người Lạ" in error.vi and "không phải chứng thư đã đăng ký" in error.vi


def test_a_signature_in_another_field_is_refused(
        prepared: bytes, duc: tuple[signers.SimpleSigner, str]) -> None:
    error = refusal(prepared, signed(prepared, duc[0], field="ChuKyKhac"), duc[1])
    assert "ChuKyKhac" in error.vi


def test_a_second_signature_is_refused(prepared: bytes,
                                       duc: tuple[signers.SimpleSigner, str]) -> None:
    twice = signed(signed(prepared, duc[0]), duc[0], field="ChuKyThem")
    assert "2 chữ ký mới" in refusal(prepared, twice, duc[1]).vi


def test_a_certification_signature_is_refused(
        prepared: bytes, duc: tuple[signers.SimpleSigner, str]) -> None:
    assert "chứng nhận" in refusal(prepared, signed(prepared, duc[0], certify=True), duc[1]).vi


def test_a_change_after_signing_is_refused(prepared: bytes,
                                           duc: tuple[signers.SimpleSigner, str]) -> None:
    returned = signed(prepared, duc[0])
    writer = IncrementalPdfFileWriter(io.BytesIO(returned))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    assert "sau khi ký" in refusal(prepared, out.getvalue(), duc[1]).vi


def _add_page(writer: IncrementalPdfFileWriter) -> None:
    page = generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Page"),
        generic.NameObject("/MediaBox"): generic.ArrayObject(
            [generic.NumberObject(n) for n in (0, 0, 595, 842)]),
        generic.NameObject("/Contents"): writer.add_object(generic.StreamObject(
            stream_data=b"BT /F1 12 Tf 72 700 Td (trang them) Tj ET")),
    })
    writer.insert_page(page)


def _change_text(writer: IncrementalPdfFileWriter) -> None:
    writer.add_stream_to_page(0, writer.add_object(generic.StreamObject(
        stream_data=b"BT /F1 14 Tf 100 100 Td (sua noi dung) Tj ET")))


def _add_note(writer: IncrementalPdfFileWriter) -> None:
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    note = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/Text"),
        generic.NameObject("/Rect"): generic.ArrayObject(
            [generic.NumberObject(n) for n in (50, 50, 70, 70)]),
        generic.NameObject("/Contents"): generic.TextStringObject("ghi chú thêm"),
    }))
    annots = page.get("/Annots")
    if annots is None:
        page["/Annots"] = generic.ArrayObject([note])
    else:
        annots.get_object().append(note)
    writer.update_container(page)


def _strip_field(writer: IncrementalPdfFileWriter) -> None:
    """Drop the prepared approval field and let the tool make its own of the same name."""
    form = writer.root["/AcroForm"]
    kept = generic.ArrayObject(f for f in form["/Fields"]
                               if f.get_object().get("/T") != APPROVAL_FIELD)
    form["/Fields"] = kept
    writer.update_container(form)
    page = writer.root["/Pages"]["/Kids"][-1].get_object()
    page["/Annots"] = generic.ArrayObject(
        a for a in page.get("/Annots", []) if a.get_object().get("/T") != APPROVAL_FIELD)
    writer.update_container(page)


@pytest.mark.parametrize(("change", "says"), [
    (_add_page, "đã bị thay đổi"), (_change_text, "đã bị thay đổi"),
    (_add_note, "đã bị thay đổi"),
])
def test_a_change_made_with_the_signature_is_refused(
        prepared: bytes, duc: tuple[signers.SimpleSigner, str],
        change: Callable[[IncrementalPdfFileWriter], None], says: str) -> None:
    error = refusal(prepared, signed(prepared, duc[0], before=change), duc[1])
    assert says in error.vi, error.vi


def test_a_stripped_field_is_refused(prepared: bytes,
                                     duc: tuple[signers.SimpleSigner, str]) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(prepared), strict=False)
    _strip_field(writer)
    out = io.BytesIO()
    signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name=APPROVAL_FIELD),
                     signer=duc[0], output=out,
                     new_field_spec=fields.SigFieldSpec(APPROVAL_FIELD, box=(20, 20, 120, 60)))
    assert "đã bị thay đổi" in refusal(prepared, out.getvalue(), duc[1]).vi


def test_a_signature_whose_signed_bytes_were_altered_is_refused(
        prepared: bytes, duc: tuple[signers.SimpleSigner, str]) -> None:
    returned = bytearray(signed(prepared, duc[0]))
    marker = b"/ModDate (D\\072"  # the new revision's modification date: signed bytes
    at = returned.index(marker, len(prepared)) + len(marker) + 3
    returned[at] = ord("9") if returned[at] != ord("9") else ord("8")
    assert "không hợp lệ" in refusal(prepared, bytes(returned), duc[1]).vi
