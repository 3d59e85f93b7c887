"""The errors of Kyso's programs (the HTTP service, the web UI, the CLI, the worker wiring
and the demo); the agent keeps its own in ``api/agent/errors.py``, since it imports
nothing server-side. Each says in Vietnamese and English what went wrong::

    KysoError
    ├── BadDate
    ├── BadSignatureEncoding
    ├── BatchUsageError     The command line named nothing usable (exit code 2)
    ├── CertificateUnreadable
    ├── ConversionFailed
    ├── ConverterMissing
    ├── CsrfRefused
    ├── DiskFull            A file a command writes does not fit on its disk
    ├── DraftNotUnderstood
    ├── NothingChosen
    ├── NothingToSign
    ├── OneFileOnly
    ├── OutputExists
    ├── TooLarge            A file or an archive member beyond the size limits
    ├── Unexpected
    ├── UnknownRemoteService  A remote-signing service a request names, not configured
    └── UploadTooLarge
"""

from __future__ import annotations

from pathlib import Path

from common import Category, KysoError


class Unexpected(KysoError):
    category = Category.INTERNAL

    def __init__(self) -> None:
        super().__init__("máy chủ gặp lỗi không mong muốn — hãy thử lại; nếu vẫn lỗi, báo quản trị "
                         "(chi tiết đã ghi vào nhật ký máy chủ)",
                         "unexpected server error — retry; if it persists, tell the "
                         "administrator (details are in the server log)")


class ConverterMissing(KysoError):
    category = Category.UNAVAILABLE

    def __init__(self, name: str) -> None:
        super().__init__(
            f"máy chủ chưa cài LibreOffice nên không chuyển được “{name}” sang PDF — hãy mở "
            "văn bản trong Word/LibreOffice, chọn Tệp → Xuất ra PDF rồi tải tệp PDF lên",
            f"LibreOffice is not installed on the server, so “{name}” cannot be converted "
            "to PDF — export it to PDF yourself and upload the PDF")


class ConversionFailed(KysoError):
    category = Category.BAD_INPUT

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"không chuyển được “{name}” sang PDF ({why}) — hãy tự xuất ra PDF "
                         "rồi tải lên",
                         f"could not convert “{name}” to PDF ({why}) — export it to PDF "
                         "yourself and upload the PDF")


class CertificateUnreadable(KysoError):
    category = Category.BAD_INPUT

    def __init__(self, name: str) -> None:
        super().__init__(f"tệp “{name}” không phải chứng thư số PEM/DER đọc được",
                         f"“{name}” is not a readable PEM/DER certificate")


class UploadTooLarge(KysoError):
    category = Category.TOO_LARGE

    def __init__(self, limit_mb: int) -> None:
        super().__init__(f"tệp tải lên lớn hơn giới hạn {limit_mb} MB",
                         f"the upload is larger than the {limit_mb} MB limit")


class CsrfRefused(KysoError):
    category = Category.FORBIDDEN

    def __init__(self) -> None:
        super().__init__("phiên làm việc đã thay đổi hoặc biểu mẫu đã cũ — hãy tải lại trang "
                         "rồi thử lại",
                         "the session changed or the form is stale — reload the page and retry")


class OneFileOnly(KysoError):
    category = Category.BAD_REQUEST

    def __init__(self, count: int) -> None:
        super().__init__(f"báo cáo HTML/PDF dành cho đúng một tệp (đã gửi {count})",
                         f"an HTML/PDF report is for exactly one file ({count} sent)")


class BadDate(KysoError):
    """A date typed in a form that is not ngày/tháng/năm."""

    category = Category.BAD_INPUT

    def __init__(self, label: str, value: str) -> None:
        super().__init__(f"“{value}” ở ô “{label}” không phải ngày hợp lệ — hãy gõ theo dạng "
                         "ngày/tháng/năm, ví dụ 05/03/2025",
                         f"“{value}” in “{label}” is not a valid date — type it as "
                         "day/month/year, e.g. 05/03/2025")


class UnknownRemoteService(KysoError):
    """A remote-signing service named in a request that tokens.json does not configure: the
    caller's mistake (422), not the service being down (found by tests/test_api_fuzz.py)."""

    category = Category.BAD_INPUT

    def __init__(self, name: str) -> None:
        shown = name[:80]
        super().__init__(f"không có dịch vụ ký số từ xa '{shown}' trong cấu hình (tokens.json)",
                         f"no remote-signing service '{shown}' is configured (tokens.json)")


class BadSignatureEncoding(KysoError):
    category = Category.BAD_INPUT

    def __init__(self) -> None:
        super().__init__("chữ ký gửi lên không đúng định dạng base64",
                         "the signature sent is not valid base64")


class NothingChosen(KysoError):
    """A batch act sent with no document ticked."""

    category = Category.BAD_INPUT

    def __init__(self) -> None:
        super().__init__("chưa chọn văn bản nào — hãy đánh dấu ô ở đầu mỗi văn bản cần ký "
                         "trong hàng chờ, rồi bấm lại",
                         "no document was chosen — tick the box of each document to sign "
                         "in the queue, then press again")


class NothingToSign(KysoError):
    category = Category.CONFLICT

    def __init__(self, batch: str) -> None:
        super().__init__(f"lô {batch} không còn văn bản nào chờ ký",
                         f"batch {batch} has nothing left to sign")


class OutputExists(KysoError):
    category = Category.CONFLICT

    def __init__(self, path: Path) -> None:
        super().__init__(f"tệp {path} đã tồn tại — Kyso không ghi đè, hãy chọn tên khác",
                         f"{path} already exists — Kyso never overwrites, choose another name")


class DiskFull(KysoError):
    """A file a command writes does not fit on its disk (nothing of it is left)."""

    category = Category.UNAVAILABLE

    def __init__(self, path: Path, size: int) -> None:
        super().__init__(f"ổ đĩa đã đầy, không ghi được tệp {path} ({size} byte) — không có "
                         "gì bị ghi dở; hãy giải phóng dung lượng rồi chạy lại",
                         f"the disk is full: {path} ({size} bytes) could not be written — "
                         "nothing was half written; free some space and run again")


class BatchUsageError(KysoError):
    """The command line named nothing usable (exit code 2)."""

    category = Category.BAD_REQUEST


class TooLarge(KysoError):
    """A file or an archive member beyond the size limits."""

    category = Category.TOO_LARGE


class DraftNotUnderstood(KysoError):
    category = Category.BAD_INPUT

    def __init__(self, what: str) -> None:
        super().__init__(f"không xác định được {what} của dự thảo — hãy chỉ rõ bằng --type",
                         f"cannot tell the {what} of the draft — give it with --type")
