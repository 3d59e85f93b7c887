"""Signing and verification errors.

Its tree (drawn by tests/support/error_classes.draw_tree)::

    KysoError
    └── SignerError         A PDF could not be signed or verified
        ├── CannotErase
        ├── CertificateExpired
        ├── CertificateRevoked
        ├── CertificateUntrusted
        ├── DraftHasNoSignatureBlock
        ├── DraftMarked
        ├── DraftRefused
        │   └── PdfHostile
        │       ├── ChildFailed
        │       └── PdfTooCostly
        ├── FontMissing
        ├── ImageRefused
        ├── LevelNeedsTsa
        ├── LevelNeedsValidationContext
        ├── MarkNotCovered
        ├── NotSigned
        ├── PdfEncrypted
        ├── PdfUnreadable
        │   ├── NotAPdf
        │   └── PdfTruncated
        ├── PdfWorkBusy
        ├── PendingSignatureExpired
        ├── PendingSignatureUnreadable
        ├── QrOverlapsField
        ├── QrTooLong
        ├── ReturnedRefused
        ├── RevocationInfoMissing
        ├── SignatureMismatch
        ├── SigningFailed
        ├── TimestampUnavailable
        └── YearNotCovered
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from common import Category, KysoError, halves

from .levels import PadesLevel


class _Located(Protocol):
    """Something found in a document that says where it is (a draft mark)."""

    @property
    def where_vi(self) -> str: ...

    @property
    def where_en(self) -> str: ...


class SignerError(KysoError):
    """A PDF could not be signed or verified."""

    category = Category.BAD_INPUT


class PdfUnreadable(SignerError):
    """``detail`` says what is wrong in Vietnamese, ``english`` in English (the same
    text when it is a library's own words or a file name)."""

    category = Category.BAD_INPUT

    def __init__(self, detail: str, english: str | None = None) -> None:
        super().__init__(f"tệp PDF hỏng hoặc không đọc được ({detail})",
                         f"the PDF is damaged or unreadable ({english or detail})")


class NotAPdf(PdfUnreadable):
    """A file that is no PDF at all (it does not start with ``%PDF-``)."""

    category = Category.BAD_INPUT

    def __init__(self) -> None:
        SignerError.__init__(
            self, "tệp này không phải tệp PDF — hãy chọn tệp PDF của văn bản",
            "this file is not a PDF — choose the document's PDF file")


class PdfEncrypted(SignerError):
    category = Category.BAD_INPUT

    def __init__(self) -> None:
        super().__init__("tệp PDF đã được mã hóa/đặt mật khẩu — hãy xuất lại bản không mật khẩu",
                         "the PDF is encrypted/password-protected — export it again without one")


class CertificateExpired(SignerError):
    category = Category.BAD_INPUT

    def __init__(self, subject: str, when: str) -> None:
        super().__init__(f"chứng thư số của {subject} đã hết hạn hoặc chưa có hiệu lực ({when})",
                         f"the certificate of {subject} has expired or is not yet valid ({when})")


class CertificateRevoked(SignerError):
    category = Category.BAD_INPUT

    def __init__(self, subject: str) -> None:
        super().__init__(f"chứng thư số của {subject} đã bị thu hồi — không được ký",
                         f"the certificate of {subject} has been revoked — signing refused")


class CertificateUntrusted(SignerError):
    category = Category.BAD_INPUT

    def __init__(self, subject: str, detail: str) -> None:
        super().__init__(
            f"chứng thư số của {subject} không kiểm tra được tới CA tin cậy ({detail})",
            f"the certificate of {subject} does not validate to a trusted CA ({detail})")


class TimestampUnavailable(SignerError):
    category = Category.UNAVAILABLE

    def __init__(self, url: str) -> None:
        super().__init__(f"không lấy được dấu thời gian từ máy chủ TSA {url}",
                         f"could not get a timestamp from the TSA at {url}")


class SigningFailed(SignerError):
    category = Category.INTERNAL

    def __init__(self, detail: str) -> None:
        vi, en = halves(detail)
        super().__init__(f"ký số không thành công: {vi}", f"signing failed: {en}")


class DraftHasNoSignatureBlock(SignerError):
    """The draft has no single signature block (title lines + signer's name) to sign in.

    ``found`` is how many blocks were seen: 0 (none) or more than one (ambiguous).
    """

    category = Category.BAD_INPUT

    def __init__(self, found: int = 0) -> None:
        self.found = found
        if found > 1:
            super().__init__(
                f"bản dự thảo có {found} khối chữ ký, không xác định được ký vào khối nào "
                "— hãy để lại đúng một khối chữ ký (chức vụ và họ tên người ký)",
                f"the draft has {found} signature blocks and which one to sign cannot be "
                "told — keep exactly one (the signer's title and full name)")
        else:
            super().__init__(
                "không tìm thấy khối chữ ký (chức vụ và họ tên người ký) ở cuối bản dự thảo",
                "no signature block (the signer's title and full name) was found at the end "
                "of the draft")


class PendingSignatureExpired(SignerError):
    """A hash-only signature was finished after its prepared state had expired."""

    category = Category.CONFLICT

    def __init__(self, expired_at: str) -> None:
        super().__init__(
            f"văn bản chuẩn bị để ký đã hết hạn lúc {expired_at} — hãy chuẩn bị và ký lại",
            f"the document prepared for signing expired at {expired_at} — prepare and "
            "sign it again")


class PendingSignatureUnreadable(SignerError):
    category = Category.BAD_INPUT

    def __init__(self, detail: str) -> None:
        vi, en = halves(detail)
        super().__init__(f"không đọc được trạng thái ký đang chờ ({vi})",
                         f"the pending signature state cannot be read ({en})")


class SignatureMismatch(SignerError):
    """A signature returned for a prepared digest does not verify: wrong key, wrong
    digest or a damaged value. Nothing is produced."""

    category = Category.BAD_INPUT

    def __init__(self, detail: str) -> None:
        vi, en = halves(detail)
        super().__init__(
            f"chữ ký nhận về không khớp với chứng thư số hoặc với văn bản đã chuẩn bị "
            f"({vi}) — văn bản không được ký",
            f"the signature received does not match the certificate or the prepared "
            f"document ({en}) — nothing was signed")


# --- preparing a draft: what is printed under the fields, draft marks ----------------

class CannotErase(SignerError):
    """Glyphs that should be taken out of a page cannot be (drawn in a form XObject, in
    a font whose codes cannot be split, or a content stream read differently)."""

    category = Category.BAD_INPUT

    def __init__(self, where_vi: str, where_en: str, why_vi: str, why_en: str) -> None:
        super().__init__(f"không xóa được chữ {where_vi} khỏi trang: {why_vi}",
                         f"cannot remove the text {where_en} from the page: {why_en}")


class YearNotCovered(SignerError):
    """The draft prints a year where no field will write the year of issue."""

    category = Category.BAD_INPUT

    def __init__(self, line: str, page_number: int, why_vi: str = "",
                 why_en: str = "") -> None:
        super().__init__(
            f"dòng ngày tháng “{line}” (trang {page_number}) ghi sẵn năm nhưng không che được "
            f"bằng trường năm ban hành{': ' + why_vi if why_vi else ''} — hãy để trống năm "
            "hoặc sửa dự thảo",
            f"the date line “{line}” (page {page_number}) prints a year that cannot be covered "
            f"by the year-of-issue field{': ' + why_en if why_en else ''} — leave the year "
            "blank or correct the draft")


class DraftMarked(SignerError):
    """The draft still says it is a draft: refused unless the drafter asks to cover it."""

    category = Category.BAD_INPUT

    def __init__(self, where_vi: str, where_en: str) -> None:
        super().__init__(
            f"dự thảo còn dấu “DỰ THẢO”: {where_vi} — văn bản ban hành không được mang dấu "
            "này; xóa dấu trong tệp gốc rồi tải lên lại, hoặc tải lên với lựa chọn "
            "“che dấu DỰ THẢO”",
            f"the draft is still marked as a draft: {where_en} — an issued document must "
            "not carry it; remove it from the source file and upload again, or upload with "
            "cover_draft_mark=true")

    @classmethod
    def of(cls, marks: Sequence[_Located]) -> DraftMarked:
        """From :class:`signer.marks.DraftMark` objects (their ``where_vi``/``where_en``)."""
        return cls("; ".join(m.where_vi for m in marks), "; ".join(m.where_en for m in marks))


class MarkNotCovered(SignerError):
    """A mark the drafter asked to cover could not be taken out of the page."""

    category = Category.BAD_INPUT

    def __init__(self, where_vi: str, where_en: str, why_vi: str, why_en: str) -> None:
        super().__init__(
            f"không che được {where_vi}: {why_vi} — xóa dấu trong tệp gốc rồi tải lên lại",
            f"cannot cover {where_en}: {why_en} — remove it from the source file and upload "
            "again")
class DraftRefused(SignerError):
    """A draft (or an attachment) that must not be signed, with the reason."""

    category = Category.BAD_INPUT


class PdfHostile(DraftRefused):
    """A PDF whose structure or content Kyso refuses to process or sign.

    ``code`` is the reason class: ``loop`` (a tree or /Parent chain that loops),
    ``depth`` (nesting), ``objects`` (too many objects or tree nodes), ``pages``,
    ``size``, ``bomb`` (decompressed size), ``image`` (declared image size),
    ``filter`` (a stream filter that cannot be decoded within bounds), ``name`` (an
    object name that is not UTF-8), ``active`` (content outside the allow-list of an
    official document).
    """

    category = Category.BAD_INPUT

    def __init__(self, code: str, vi: str, en: str) -> None:
        self.code = code
        super().__init__(vi, en)


class PdfTooCostly(PdfHostile):
    """Processing the PDF went over the time or memory granted to it (``code`` ``time``,
    ``memory``, or ``crash`` when the process working on it died)."""

    category = Category.BAD_INPUT

    def __init__(self, code: str, limit: str) -> None:
        what_vi = {"time": f"quá thời gian cho phép ({limit})",
                   "memory": f"quá bộ nhớ cho phép ({limit})"}.get(
                       code, "làm tiến trình xử lý bị dừng")
        what_en = {"time": f"took longer than allowed ({limit})",
                   "memory": f"needed more memory than allowed ({limit})"}.get(
                       code, "made the process working on it die")
        super().__init__(code, f"xử lý tệp PDF {what_vi} — tệp bị từ chối",
                         f"processing the PDF {what_en} — the file is refused")
        self.limit = limit


class PdfWorkBusy(SignerError):
    """Every PDF worker process of this server stayed busy with other files for as long
    as one file may take: the server is overloaded, the file is not blamed."""

    category = Category.UNAVAILABLE
    retry_after = 30

    def __init__(self, waited: str) -> None:
        super().__init__(
            f"máy chủ đang bận xử lý các tệp khác (đã chờ {waited}) — tệp chưa bị từ chối, "
            "xin gửi lại sau ít phút",
            f"the server is busy with other files (waited {waited}) — the file is not "
            "refused, please send it again in a few minutes")


class ImageRefused(SignerError):
    """An uploaded seal or signature picture cannot be used (signer/images.py says why)."""

    category = Category.BAD_INPUT


class ReturnedRefused(SignerError):
    """A document signed outside Kyso is not exactly the prepared one plus one approval
    signature (signer/returned.py says what differs)."""

    category = Category.BAD_INPUT


class QrTooLong(SignerError):
    category = Category.BAD_INPUT

    def __init__(self, length: int) -> None:
        super().__init__(f"đường dẫn kiểm tra quá dài cho mã QR ({length} ký tự)",
                         f"the verification link is too long for the QR code ({length} "
                         "characters)")


class QrOverlapsField(SignerError):
    category = Category.BAD_INPUT

    def __init__(self, field: str) -> None:
        super().__init__(f"mã QR ở lề dưới bên trái trang 1 trùng chỗ với ô {field}; "
                         "hãy tắt mã QR hoặc đặt lại vị trí ô",
                         f"the QR code in page 1's bottom-left margin overlaps field "
                         f"{field}; turn the QR code off or move the field")


class FontMissing(SignerError):
    category = Category.UNAVAILABLE

    def __init__(self) -> None:
        super().__init__("không tìm thấy phông chữ Noto Serif hoặc Liberation Serif "
                         "(gói fonts-noto-core / fonts-liberation2)",
                         "neither Noto Serif nor Liberation Serif is installed "
                         "(packages fonts-noto-core / fonts-liberation2)")


class LevelNeedsTsa(SignerError):
    category = Category.UNAVAILABLE

    def __init__(self, level: PadesLevel) -> None:
        super().__init__(f"mức {level.value} cần máy chủ cấp dấu thời gian (TSA)",
                         f"level {level.value} needs a time-stamping authority (TSA)")


class LevelNeedsValidationContext(SignerError):
    category = Category.INTERNAL

    def __init__(self, level: PadesLevel) -> None:
        super().__init__(
            f"mức {level.value} cần ngữ cảnh kiểm tra chứng thư để lấy thông tin thu hồi",
            f"level {level.value} needs a validation context to gather revocation info")


class RevocationInfoMissing(SignerError):
    """B-LT/B-LTA was asked but no OCSP response or CRL could be embedded."""

    category = Category.UNAVAILABLE

    def __init__(self, level: PadesLevel) -> None:
        super().__init__(
            f"không lấy được thông tin thu hồi (OCSP/CRL) để nhúng vào tệp — "
            f"chữ ký không đạt mức {level.value}",
            f"no revocation info (OCSP/CRL) could be embedded — the signature would not "
            f"reach {level.value}")


class NotSigned(SignerError):
    category = Category.BAD_INPUT

    def __init__(self) -> None:
        super().__init__("tệp PDF chưa có chữ ký số nào để gia hạn dấu thời gian lưu trữ",
                         "the PDF has no signature whose archive timestamp could be renewed")


class PdfTruncated(PdfUnreadable):
    """An unreadable PDF that does not end with %%EOF: most likely cut short."""

    category = Category.BAD_INPUT

    def __init__(self) -> None:
        SignerError.__init__(
            self, "tệp PDF không đọc được và không kết thúc bằng %%EOF: tệp đã bị cắt cụt",
            "the PDF is unreadable and does not end with %%EOF: the file was truncated")


class ChildFailed(PdfHostile):
    """The work failed in an unexpected way (code ``crash``): the file is refused all the
    same, with what went wrong."""

    category = Category.BAD_INPUT

    def __init__(self, detail: str) -> None:
        super().__init__("crash", f"không xử lý được tệp PDF ({detail})",
                         f"the PDF could not be processed ({detail})")
