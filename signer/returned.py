"""A prepared document signed elsewhere and brought back: accept exactly one new signature.

An official may sign the prepared PDF in a tool Kyso does not drive (the VGCA Sign Tool, a
CA's desktop signer, Adobe or Foxit) and upload the result. Whatever the tool did, the
upload is accepted only when :func:`check_returned` finds

1. the prepared file, byte for byte, as its beginning: the tool saved incrementally and
   the prepared revision is untouched (a rewritten file is refused);
2. exactly one new signature, in the prepared approval field, covering the whole upload
   (nothing added after it), an approval signature (not a certification);
3. nothing else changed between the prepared revision and the signed one (pyHanko's
   difference analysis: the only change is filling that one signature field);
4. the certificate registered for the signer (by SHA-256), and a signature that is
   intact and cryptographically valid (trust and revocation are checked later with the
   rest of the document, as for any approval).

Each refusal says what differs, in Vietnamese and English; nothing is stored by this
module.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import (
    CatalogModificationRule,
    DocInfoRule,
    DSSCompareRule,
    FormUpdatingRule,
    GenericFieldModificationRule,
    MetadataUpdateRule,
    ModificationLevel,
    ObjectStreamRule,
    SigFieldCreationRule,
    SigFieldModificationRule,
    StandardDiffPolicy,
    SuspiciousModification,
    XrefStreamRule,
)
from pyhanko.sign.diff_analysis.constants import ACROFORM_EXEMPT_STRICT_COMPARISON
from pyhanko.sign.general import CMSExtractionError, CMSStructuralError
from pyhanko.sign.validation import EmbeddedPdfSignature, async_validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko_certvalidator import ValidationContext

from .blocking import run_blocking
from .errors import ReturnedRefused
from .pdfinput import open_reader

__all__ = ["ReturnedSignature", "async_check_returned", "check_returned"]

#: pyHanko's default difference policy, except that the form may gain ``/SigFlags``: a
#: prepared draft's form has empty signature fields only, and the first signature sets
#: the flags (ISO 32000 12.7.3) — any tool does, and nothing is shown differently.
RETURN_POLICY = StandardDiffPolicy(  # (three of pyHanko's rule constructors are untyped)
    global_rules=[
        CatalogModificationRule(),  # type: ignore[no-untyped-call]
        DocInfoRule().as_qualified(ModificationLevel.LTA_UPDATES),
        XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        DSSCompareRule().as_qualified(ModificationLevel.LTA_UPDATES),
        MetadataUpdateRule().as_qualified(  # type: ignore[no-untyped-call]
            ModificationLevel.LTA_UPDATES),
    ],
    form_rule=FormUpdatingRule(
        field_rules=[SigFieldCreationRule(),  # type: ignore[no-untyped-call]
                     SigFieldModificationRule(),
                     GenericFieldModificationRule()],
        ignored_acroform_keys=ACROFORM_EXEMPT_STRICT_COMPARISON | {"/SigFlags"}),
)


@dataclass(frozen=True)
class ReturnedSignature:
    """The one new signature of an accepted upload."""

    field_name: str
    certificate: x509.Certificate
    #: the time the signer's tool claims (a timestamp, when there is one, is checked later)
    claimed_time: datetime | None
    #: how many bytes the tool added to the prepared file
    added_bytes: int


def _refuse(vi: str, en: str) -> ReturnedRefused:
    return ReturnedRefused(f"tệp đã ký không được nhận: {vi}", f"the signed file is refused: {en}")


def _new_signatures(reader: PdfFileReader, prepared_revisions: int) -> list[EmbeddedPdfSignature]:
    return [s for s in reader.embedded_signatures if s.signed_revision >= prepared_revisions]


def check_returned(prepared: bytes, returned: bytes, *, field_name: str,
                   certificate_sha256: str) -> ReturnedSignature:
    """:func:`async_check_returned` for callers without an event loop."""
    return run_blocking(async_check_returned(prepared, returned, field_name=field_name,
                                            certificate_sha256=certificate_sha256))


async def async_check_returned(prepared: bytes, returned: bytes, *, field_name: str,
                               certificate_sha256: str) -> ReturnedSignature:
    """Accept ``returned`` as ``prepared`` plus one approval signature in ``field_name`` by
    the certificate whose SHA-256 is ``certificate_sha256``, or say why not."""
    if not returned.startswith(prepared):
        raise _refuse("phần mềm ký đã ghi lại toàn bộ tệp thay vì ký thêm vào bản đã chuẩn bị "
                      "(hãy chọn lưu kiểu “incremental”/giữ nguyên bản gốc, hoặc dùng phần "
                      "mềm ký khác)",
                      "the signing tool rewrote the whole file instead of appending to the "
                      "prepared one (save incrementally, or use another tool)")
    reader = open_reader(returned)
    base = open_reader(prepared)
    prepared_revisions = base.xrefs.total_revisions
    before = {s.field_name for s in base.embedded_signatures}
    new = _new_signatures(reader, prepared_revisions)
    if not new:
        raise _refuse("không có chữ ký số mới nào", "it carries no new signature")
    if len(new) > 1:
        names = ", ".join(s.field_name for s in new)
        raise _refuse(f"có {len(new)} chữ ký mới ({names}), chỉ được một",
                      f"it carries {len(new)} new signatures ({names}); only one is allowed")
    signature = new[0]
    if signature.field_name != field_name or field_name in before:
        raise _refuse(f"chữ ký nằm ở ô “{signature.field_name}”, không phải ô ký đã chuẩn bị "
                      f"“{field_name}”",
                      f"the signature is in field “{signature.field_name}”, not in the "
                      f"prepared field “{field_name}”")
    if signature.sig_object.get("/Reference") is not None or \
            signature.sig_object.get("/Type") == "/DocTimeStamp":
        raise _refuse("đây là chữ ký chứng nhận (certification), không phải chữ ký phê duyệt",
                      "it is a certification signature, not an approval signature")
    if signature.signed_revision != reader.xrefs.total_revisions - 1:
        raise _refuse("tệp có thêm thay đổi sau khi ký", "the file was changed after it was signed")
    if signature.signed_revision != prepared_revisions:
        raise _refuse("tệp có thêm phiên bản trước khi ký (trang, nội dung hoặc ghi chú mới)",
                      "the file gained a revision before the signature (a page, content or a "
                      "note)")
    cert = signature.signer_cert
    fingerprint = hashlib.sha256(cert.dump()).hexdigest()
    if fingerprint != certificate_sha256.lower():
        who = cert.subject.human_friendly
        raise _refuse(f"ký bằng chứng thư của {who}, không phải chứng thư đã đăng ký cho người ký",
                      f"signed with the certificate of {who}, not the one registered for the "
                      "signer")
    _check_changes(reader, prepared_revisions - 1, field_name)
    await _check_integrity(signature)
    return ReturnedSignature(field_name=field_name, certificate=cert,
                             claimed_time=signature.self_reported_timestamp,
                             added_bytes=len(returned) - len(prepared))


def _check_changes(reader: PdfFileReader, base_revision: int, field_name: str) -> None:
    try:
        result = RETURN_POLICY.review_file(reader, base_revision)
    except (SignatureValidationError, ValueError, KeyError) as exc:
        raise _refuse(f"không phân tích được thay đổi ({exc})",
                      f"its changes cannot be analysed ({exc})") from exc
    if isinstance(result, SuspiciousModification):
        detail = str(result).splitlines()[0][:200]
        raise _refuse("nội dung hoặc cấu trúc văn bản đã bị thay đổi (trang, chữ, ghi chú hoặc "
                      "ô nhập) — chỉ được thêm chữ ký vào ô đã chuẩn bị",
                      f"the document's content or structure was changed ({detail})")
    if result.modification_level > ModificationLevel.FORM_FILLING:
        what_vi = ("có thêm ghi chú hoặc chú thích trên trang"
                   if result.modification_level is ModificationLevel.ANNOTATIONS
                   else "nội dung hoặc cấu trúc văn bản đã bị thay đổi")
        raise _refuse(what_vi, f"changes beyond the signature: {result.modification_level.name}")
    others = set(result.changed_form_fields) - {field_name}
    if others:
        names = ", ".join(sorted(others))
        raise _refuse(f"ô khác cũng bị điền hoặc sửa: {names}",
                      f"other fields were filled or changed: {names}")


async def _check_integrity(signature: EmbeddedPdfSignature) -> None:
    # trust and revocation are judged with the whole document later; here: intact, valid
    context = ValidationContext(trust_roots=[signature.signer_cert], allow_fetching=False,
                                revocation_mode="soft-fail")
    try:
        status = await async_validate_pdf_signature(signature, context)
    except (SignatureValidationError, CMSExtractionError, CMSStructuralError, ValueError) as exc:
        raise _refuse(f"chữ ký không kiểm tra được ({exc})",
                      f"the signature cannot be checked ({exc})") from exc
    if not (status.intact and status.valid):
        raise _refuse("chữ ký số không hợp lệ (nội dung đã ký không khớp chữ ký)",
                      "the signature is not valid (the signed content does not match it)")
