"""Errors of the document's life: numbering, the register and their configuration.

Each says in Vietnamese and English what went wrong and what to do, because the
records clerk (văn thư) reads it, not a developer::

    KysoError
    └── DocumentsError
        ├── DuplicateNumber        (number, symbol, body, year) already in the register
        ├── DuplicateDocument      the document already has a register entry
        ├── NumberAlreadyBound     allocate() asked for a second number in another book/year
        ├── DocumentCancelled      the document's number was cancelled; it cannot be issued
        ├── AlreadyCancelled       cancel_number() on a cancelled entry
        ├── BookMismatch           the number book belongs to another issuing body
        ├── BookClosed             the number book is no longer in use
        ├── NoNumberBook           no (or more than one) number book fits a document
        ├── FieldTooLong           an Appendix VI limit (CodeNumber 11, CodeNotation 30 …)
        ├── MissingReason          a cancellation without a reason
        ├── UnknownDocumentType    a type code not in the table
        ├── InvalidAbbreviation    an abbreviation with spaces or empty
        ├── UnsupportedDatabase    a database other than SQLite or PostgreSQL
        ├── SqliteNotSerialised    a SQLite engine not made by create_engine_for()
        ├── ExportFailed           the register could not be printed (font missing …)
        ├── NoSigningAuthority     the person may not sign this type of document here
        ├── CertificateMismatch    the token's certificate is not the one registered
        ├── SignerNotInBlock       the signature block names somebody else
        ├── WrongStep              the document is not at the step the act needs
        ├── AuditHeadMissing       the audit trail has events but lost its head row
        ├── QueueError             the signing queue and its notices (documents/queue.py)
        │   ├── NoSigners          a routing without any signer
        │   ├── DuplicateSigner    the same person twice among a document's signers
        │   ├── WrongRequestStatus a request not in the state the act needs (approve twice …)
        │   ├── MissingReturnReason  a return without a reason
        │   └── MailFailed         an e-mail could not be sent (the notice stays pending)
        └── AccountError           accounts, roles and logins (documents/accounts.py)
            ├── InvalidUsername    a user name with spaces, symbols or of the wrong length
            ├── UsernameTaken      another account already has that user name
            ├── WeakPassword       a password the policy refuses (too short, = user name …)
            ├── LoginFailed        wrong user name or password (one message for both)
            ├── LoginThrottled     too many failed logins lately; retry after some seconds
            ├── InvalidToken       an API token unknown, expired, revoked or of a closed account
            └── Forbidden          the account lacks the role the act needs in that body
"""

from __future__ import annotations

from certs.errors import KysoError


class DocumentsError(KysoError):
    """A document could not be numbered, registered or exported."""


class DuplicateNumber(DocumentsError):
    def __init__(self, number_symbol: str, body: str, year: int) -> None:
        super().__init__(
            f"số và ký hiệu {number_symbol} của {body} đã có trong sổ đăng ký năm {year} — "
            "không được cấp trùng; kiểm tra cấu hình sổ đăng ký văn bản",
            f"number and symbol {number_symbol} of {body} is already in the {year} register — "
            "duplicates are refused; check the number book configuration",
        )
        self.number_symbol = number_symbol


class DuplicateDocument(DocumentsError):
    def __init__(self, document_id: str, number_symbol: str) -> None:
        super().__init__(
            f"văn bản (mã {document_id}) đã được đăng ký với số {number_symbol} — "
            "không đăng ký lại",
            f"document {document_id} is already registered as {number_symbol} — "
            "it is not registered twice",
        )
        self.document_id = document_id


class NumberAlreadyBound(DocumentsError):
    def __init__(self, document_id: str, number: str, book: str, year: int) -> None:
        super().__init__(
            f"văn bản (mã {document_id}) đã được cấp số {number} trong sổ “{book}” "
            f"năm {year} — một văn bản chỉ có một số",
            f"document {document_id} already holds number {number} in book “{book}” "
            f"for {year} — a document has one number only",
        )


class DocumentCancelled(DocumentsError):
    def __init__(self, document_id: str) -> None:
        super().__init__(
            f"số của văn bản (mã {document_id}) đã bị hủy — hãy tạo văn bản mới để cấp số mới",
            f"the number of document {document_id} was cancelled — "
            "create a new document to get a new number",
        )


class AlreadyCancelled(DocumentsError):
    def __init__(self, number_symbol: str) -> None:
        super().__init__(f"số {number_symbol} đã bị hủy trước đó",
                         f"number {number_symbol} was already cancelled")


class BookMismatch(DocumentsError):
    def __init__(self, book: str, body: str) -> None:
        super().__init__(
            f"sổ “{book}” không thuộc cơ quan ban hành {body}",
            f"number book “{book}” does not belong to the issuing body {body}",
        )


class BookClosed(DocumentsError):
    def __init__(self, book: str) -> None:
        super().__init__(f"sổ “{book}” đã ngừng sử dụng — chọn sổ đang dùng",
                         f"number book “{book}” is closed — choose an open one")


class NoNumberBook(DocumentsError):
    def __init__(self, body: str, doc_type: str, detail_vi: str, detail_en: str) -> None:
        super().__init__(
            f"không xác định được sổ đăng ký cho {doc_type} của {body}: {detail_vi} — "
            "quản trị cần cấu hình sổ",
            f"no single number book for {doc_type} of {body}: {detail_en} — "
            "the administrator must configure the books",
        )


class FieldTooLong(DocumentsError):
    def __init__(self, field: str, limit: int, value: str) -> None:
        super().__init__(
            f"{field} dài quá {limit} ký tự (Phụ lục VI): “{value}”",
            f"{field} is longer than {limit} characters (Appendix VI): “{value}”",
        )
        self.field = field


class MissingReason(DocumentsError):
    def __init__(self) -> None:
        super().__init__("phải ghi lý do hủy số", "a reason is required to cancel a number")


class UnknownDocumentType(DocumentsError):
    def __init__(self, code: str) -> None:
        super().__init__(f"không có loại văn bản “{code}” (Phụ lục III)",
                         f"unknown document type “{code}” (Appendix III)")


class InvalidAbbreviation(DocumentsError):
    def __init__(self, value: str) -> None:
        super().__init__(
            f"chữ viết tắt “{value}” không hợp lệ: phải có chữ và không có khoảng trắng",
            f"abbreviation “{value}” is invalid: it must be non-empty with no spaces",
        )


class UnsupportedDatabase(DocumentsError):
    def __init__(self, dialect: str) -> None:
        super().__init__(
            f"cơ sở dữ liệu {dialect} chưa được hỗ trợ — dùng SQLite hoặc PostgreSQL",
            f"database {dialect} is not supported — use SQLite or PostgreSQL",
        )


class SqliteNotSerialised(DocumentsError):
    def __init__(self) -> None:
        super().__init__(
            "kết nối SQLite không mở giao dịch ghi tuần tự (BEGIN IMMEDIATE) — "
            "hãy tạo engine bằng create_engine_for()",
            "the SQLite engine does not open serialised write transactions (BEGIN IMMEDIATE) — "
            "make it with create_engine_for()",
        )


class ExportFailed(DocumentsError):
    def __init__(self, detail_vi: str, detail_en: str) -> None:
        super().__init__(f"không xuất được sổ đăng ký: {detail_vi}",
                         f"the register could not be exported: {detail_en}")


class NoSigningAuthority(DocumentsError):
    def __init__(self, person: str, doc_type: str, body: str) -> None:
        super().__init__(
            f"{person} không có thẩm quyền ký {doc_type} của {body}",
            f"{person} has no authority to sign a {doc_type} of {body}")


class CertificateMismatch(DocumentsError):
    def __init__(self, person: str) -> None:
        super().__init__(
            f"chứng thư số trên thiết bị không phải chứng thư đã đăng ký cho {person}",
            f"the certificate on the token is not the one registered for {person}")


class SignerNotInBlock(DocumentsError):
    def __init__(self, printed: str, person: str) -> None:
        super().__init__(
            f"khối chữ ký ghi tên {printed}, không phải {person} — kiểm tra lại dự thảo",
            f"the signature block names {printed}, not {person} — check the draft")


class WrongStep(DocumentsError):
    def __init__(self, status: str, needed: str) -> None:
        super().__init__(
            f"văn bản đang ở bước '{status}', cần bước '{needed}'",
            f"the document is at step '{status}', this needs '{needed}'")


class AccountError(DocumentsError):
    """An account could not be created, could not log in, or may not act."""


class InvalidUsername(AccountError):
    def __init__(self, value: str, low: int, high: int) -> None:
        super().__init__(
            f"tên đăng nhập “{value}” không hợp lệ: dài {low}–{high} ký tự, chỉ gồm chữ, "
            "số và các dấu . _ -",
            f"user name “{value}” is invalid: {low}–{high} characters, letters, digits "
            "and . _ - only",
        )


class UsernameTaken(AccountError):
    def __init__(self, username: str) -> None:
        super().__init__(f"tên đăng nhập “{username}” đã có người dùng — chọn tên khác",
                         f"user name “{username}” is taken — choose another")
        self.username = username


class WeakPassword(AccountError):
    """The password policy refused a password; the message says why, never the password."""

    def __init__(self, detail_vi: str, detail_en: str) -> None:
        super().__init__(f"mật khẩu không đạt yêu cầu: {detail_vi}",
                         f"the password is refused: {detail_en}")


class LoginFailed(AccountError):
    """Wrong user name or password: the same message whether the account exists or not."""

    def __init__(self) -> None:
        super().__init__("tên đăng nhập hoặc mật khẩu không đúng",
                         "wrong user name or password")


class LoginThrottled(AccountError):
    """Too many failed logins for a user name or from an address in the recent window."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"đăng nhập sai quá nhiều lần — thử lại sau {retry_after_seconds} giây",
            f"too many failed logins — try again in {retry_after_seconds} seconds")
        self.retry_after_seconds = retry_after_seconds


class InvalidToken(AccountError):
    """An API token that does not (or no longer) open the service; ``reason`` says which."""

    _REASONS = {
        "unknown": ("mã truy cập (token API) không hợp lệ", "the API token is not valid"),
        "expired": ("mã truy cập (token API) đã hết hạn — hãy cấp mã mới",
                    "the API token has expired — issue a new one"),
        "revoked": ("mã truy cập (token API) đã bị thu hồi", "the API token was revoked"),
        "inactive": ("tài khoản của mã truy cập đã bị khóa",
                     "the API token's account is disabled"),
    }

    def __init__(self, reason: str) -> None:
        vi, en = self._REASONS[reason]
        super().__init__(vi, en)
        self.reason = reason


class Forbidden(AccountError):
    """The account is not a member of the body with any of the roles the act needs."""

    def __init__(self, username: str, needed_vi: str, needed_en: str, body: str) -> None:
        super().__init__(
            f"tài khoản “{username}” không có quyền làm việc này tại {body}: "
            f"cần vai trò {needed_vi}",
            f"account “{username}” may not do this in {body}: it needs the role {needed_en}")
        self.username = username


class ProvinceAdminOnly(Forbidden):
    """Only a province administrator may add or remove a province-wide trust anchor."""

    def __init__(self, username: str) -> None:
        AccountError.__init__(
            self,
            f"tài khoản “{username}” không được thêm hoặc gỡ CA tin cậy toàn tỉnh: việc này "
            "chỉ dành cho quản trị cấp tỉnh; quản trị của một cơ quan chỉ thêm CA cho cơ quan "
            "mình",
            f"account “{username}” may not add or remove a province-wide trusted CA: only a "
            "province administrator may; a body's administrator adds CAs for their own body")
        self.username = username


class AnchorNotFound(DocumentsError):
    def __init__(self, anchor_id: int) -> None:
        super().__init__(f"không tìm thấy CA tin cậy {anchor_id}",
                         f"trust anchor {anchor_id} not found")


class QueueError(DocumentsError):
    """The signing queue refused a transition, or a notice could not be delivered."""


class NoSigners(QueueError):
    def __init__(self) -> None:
        super().__init__("phải chọn ít nhất một người ký",
                         "choose at least one signer")


class DuplicateSigner(QueueError):
    def __init__(self, person: str) -> None:
        super().__init__(
            f"{person} đã có trong danh sách người ký văn bản này — mỗi người chỉ một bước",
            f"{person} is already among this document's signers — one step per person")
        self.person = person


class WrongRequestStatus(QueueError):
    def __init__(self, status_vi: str, status_en: str, action_vi: str, action_en: str) -> None:
        super().__init__(
            f"yêu cầu ký đang ở trạng thái “{status_vi}” — không thể {action_vi}",
            f"the signing request is {status_en} — it cannot be {action_en}")
        self.status = status_en


class MissingReturnReason(QueueError):
    def __init__(self) -> None:
        super().__init__("phải ghi lý do trả lại văn bản",
                         "a reason is required to return a document")


class MailFailed(QueueError):
    """``server_down``: the server could not be reached or refused the session (stop
    sending for now); otherwise only this message or address was refused."""

    def __init__(self, to: str, detail: str, *, server_down: bool) -> None:
        super().__init__(
            f"không gửi được thư tới {to}: {detail} — thông báo vẫn chờ gửi lại",
            f"could not e-mail {to}: {detail} — the notice stays pending")
        self.to = to
        self.server_down = server_down


class AuditHeadMissing(DocumentsError):
    """The audit trail has events but its head row (``audit_head``) is gone: the trail
    was tampered with, so nothing more is appended until an administrator looks."""

    def __init__(self) -> None:
        super().__init__(
            "nhật ký kiểm tra có sự kiện nhưng mất bản ghi đầu chuỗi (audit_head) — "
            "không ghi thêm được; hãy chạy “kyso audit verify” và báo quản trị",
            "the audit trail has events but its head row (audit_head) is gone — "
            "nothing more can be recorded; run “kyso audit verify” and tell the administrator")
