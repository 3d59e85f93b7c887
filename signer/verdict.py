"""The verdict on one signature, from the facts a verification gathered.

**invalid** when something is proven wrong (byte range, digest, signature,
revocation before any proven signing time, a disallowed change after signing);
else **indeterminate** when something cannot be established (trust, revocation,
time, algorithm strength); else **valid**. Every verdict carries its reasons in
Vietnamese and English with a stable code (listed in docs/verification.md).
"""

from __future__ import annotations

from certs import Revocation

from .report import Change, Reason, SignatureReport, Verdict

__all__ = ["ALLOWED_LEVELS", "change_reasons", "judge", "reason"]

#: pyHanko modification levels that leave an earlier signature valid
ALLOWED_LEVELS = ("none", "lta_updates", "form_filling")


def reason(code: str, vi: str, en: str) -> Reason:
    """A reason (or note) with its stable code first, as the rules read best."""
    return Reason(vi, en, code)


_r = reason


def judge(sig: SignatureReport, structural: list[Reason],
          changed: list[Reason]) -> tuple[Verdict, list[Reason]]:
    """The verdict and its reasons; ``structural`` are byte-range problems, ``changed``
    the reasons :func:`change_reasons` found in what was changed after signing."""
    invalid: list[Reason] = list(structural)
    unsure: list[Reason] = []
    if not sig.intact:
        invalid.append(_r("digest_mismatch",
                          "tài liệu đã bị sửa sau khi ký, hoặc chữ ký thuộc tài liệu khác "
                          "(giá trị băm không khớp)",
                          "the document was altered after signing, or the signature belongs to "
                          "another document (digest mismatch)"))
    elif not sig.valid:
        invalid.append(_r("signature_mismatch",
                          "chữ ký số không đúng với khóa công khai của chứng thư",
                          "the signature does not verify with the certificate's key"))
    if sig.revocation == Revocation.REVOKED.value:
        invalid.append(_r("revoked",
                          "chứng thư số đã bị thu hồi trước thời điểm ký được chứng minh",
                          "the certificate was revoked before any proven signing time"))
    if sig.coverage in ("entire_file", "entire_revision"):
        invalid.extend(changed)
    elif not structural:
        invalid.append(_r("coverage", "chữ ký không bao trùm trọn một phiên bản của tài liệu",
                          "the signature does not cover a whole revision of the document"))
    if (not sig.trusted and sig.intact and sig.valid
            and sig.revocation != Revocation.REVOKED.value):
        problem = sig.trust_problem or "unknown"
        unsure.append(_r("untrusted",
                         f"không xác minh được chứng thư tới CA tin cậy ({problem})",
                         f"the certificate does not validate to a trusted CA ({problem})"))
    if sig.trusted and sig.validation_time_source == "claimed_signing_time":
        unsure.append(_r("expired_no_poe",
                         f"chứng thư số đã hết hạn ({sig.cert_valid_to}) và không có dấu thời gian "
                         "chứng minh chữ ký được tạo trước đó (thời điểm ký tự khai không phải "
                         "bằng chứng)",
                         f"the certificate expired ({sig.cert_valid_to}) and no timestamp proves "
                         "the signature was made before that (a claimed signing time is no proof)"))
    if sig.revocation == Revocation.UNCHECKED.value:
        unsure.append(_r("revocation_unchecked",
                         "CẢNH BÁO: không kiểm tra được tình trạng thu hồi (không có OCSP và CRL)",
                         "WARNING: revocation status could not be checked (neither OCSP nor CRL)"))
    if sig.timestamp is not None and not sig.timestamp_valid:
        unsure.append(_r("timestamp_untrusted", "dấu thời gian không hợp lệ hoặc không tin cậy",
                         "the timestamp is not valid or not trusted"))
    unknown = [a for a in sig.weak_algorithms if a.startswith(("unknown ", "unreadable "))]
    if unknown:
        listed = ", ".join(unknown)
        unsure.append(_r("unknown_algorithm",
                         f"thuật toán không xác định hoặc không đọc được, không kiểm tra được theo "
                         f"Phụ lục I Thông tư 15/2025/TT-BKHCN: {listed}",
                         f"algorithm unknown or unreadable, cannot be checked against Circular "
                         f"15/2025 Appendix I: {listed}"))
    weak = [a for a in sig.weak_algorithms if a not in unknown]
    if weak:
        listed = ", ".join(weak)
        unsure.append(_r("weak_algorithm",
                         f"thuật toán yếu, không đạt Phụ lục I Thông tư 15/2025/TT-BKHCN: {listed}",
                         f"weak algorithm below Circular 15/2025 Appendix I: {listed}"))
    if invalid:
        return Verdict.INVALID, invalid + unsure
    if unsure:
        return Verdict.INDETERMINATE, unsure
    return Verdict.VALID, []


_CHANGE_TEXT = {
    "page_content": ("nội dung trang bị sửa sau khi ký", "page content changed after signing"),
    "page_resources": ("tài nguyên trang (hình, khối nội dung) bị thay sau khi ký",
                       "page resources (images, forms) replaced after signing"),
    "pages": ("số trang thay đổi sau khi ký", "pages added or removed after signing"),
    "annotation": ("chú thích được thêm/xóa sau khi ký (có thể che hoặc phủ nội dung)",
                   "annotation added or removed after signing (may hide or overlay content)"),
    "field_added": ("trường biểu mẫu mới được thêm sau khi ký (có thể phủ lên nội dung)",
                    "form field added after signing (may overlay content)"),
    "field_removed": ("trường biểu mẫu bị xóa sau khi ký", "form field removed after signing"),
    "form_value_changed": ("giá trị trường biểu mẫu đã ký bị sửa",
                           "a form field value present at signing was changed"),
    "other": ("có thay đổi không được phép sau khi ký", "disallowed changes after signing"),
}


def change_reasons(changes: list[Change], level: str, allowed_by_docmdp: bool,
                   diff_message: str) -> list[Reason]:
    """Reasons for the disallowed changes after a signature (Kyso's analysis first,
    pyHanko's modification level when Kyso found nothing it could name)."""
    reasons: list[Reason] = []
    for kind, (vi, en) in _CHANGE_TEXT.items():
        found = [c for c in changes if c.kind == kind]
        if not found or (kind == "annotation" and allowed_by_docmdp):
            continue
        detail = "; ".join(c.detail for c in found[:5])
        reasons.append(_r(kind, f"{vi}: {detail}", f"{en}: {detail}"))
    if level not in ALLOWED_LEVELS and not reasons and not (
            level == "annotations" and allowed_by_docmdp):
        extra = f" — {diff_message}" if diff_message else ""
        reasons.append(_r("other", f"có thay đổi không được phép sau khi ký ({level}){extra}",
                          f"disallowed changes after signing ({level}){extra}"))
    return reasons
