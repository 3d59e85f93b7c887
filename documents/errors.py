"""Errors of the document's life: numbering, the register and their configuration, and
the acts of the use-case layer (``documents/usecases/``).

Each says in Vietnamese and English what went wrong and what to do, because the
records clerk (văn thư) reads it, not a developer::

    KysoError
    ├── CertificateNotRegistered
    ├── DocumentsError          A document could not be numbered, registered or exported
    │   ├── AccountError        accounts, roles and logins (documents/accounts.py)
    │   │   ├── Forbidden       the account lacks the role the act needs in that body
    │   │   │   ├── NoBody      the account belongs to no body yet
    │   │   │   └── ProvinceAdminOnly
    │   │   ├── InvalidToken    an API token unknown, expired, revoked or of a closed account
    │   │   ├── InvalidUsername a user name with spaces, symbols or of the wrong length
    │   │   ├── LoginFailed     wrong user name or password (one message for both)
    │   │   ├── LoginThrottled  too many failed logins lately; retry after some seconds
    │   │   ├── UsernameTaken   another account already has that user name
    │   │   └── WeakPassword    a password the policy refuses (too short, = user name …)
    │   ├── AlreadyCancelled    cancel_number() on a cancelled entry
    │   ├── AnchorNotFound
    │   ├── AuditHeadMissing    the audit trail has events but lost its head row
    │   ├── BackupRefused
    │   ├── BodyExists
    │   ├── BookClosed          the number book is no longer in use
    │   ├── BookMismatch        the number book belongs to another issuing body
    │   ├── CertificateMismatch the token's certificate is not the one registered
    │   ├── CustodyError        which key may make which signature (documents/custody.py)
    │   │   ├── KeyHeldElsewhere a certificate or token already bound to another holder
    │   │   ├── KeyNotOnServer  the person's key is on their PC or a remote service
    │   │   ├── NoOrganisationKey the body has no organisation certificate in force
    │   │   ├── NotTheApprover  the account is not the person whose signature is next
    │   │   ├── SealChannelRefused an organisation key on the agent or a remote channel
    │   │   └── WrongKeyOnToken the open token holds another certificate than the bound one
    │   ├── DocumentCancelled   the document's number was cancelled; it cannot be issued
    │   ├── DuplicateDocument   the document already has a register entry
    │   ├── DuplicateNumber     (number, symbol, body, year) already in the register
    │   ├── ExportFailed        the register could not be printed (font missing …)
    │   ├── FieldTooLong        an Appendix VI limit (CodeNumber 11, CodeNotation 30 …)
    │   ├── InstanceNotEmpty
    │   ├── InvalidAbbreviation an abbreviation with spaces or empty
    │   ├── InvalidOrganId
    │   ├── MissingReason       a cancellation without a reason
    │   ├── NoNumberBook        no (or more than one) number book fits a document
    │   ├── NoSigningAuthority  the person may not sign this type of document here
    │   ├── NumberAlreadyBound  allocate() asked for a second number in another book/year
    │   ├── PrintedDateMismatch the date the issued page would print is not the register's
    │   ├── QueueError          the signing queue and its notices (documents/queue/)
    │   │   ├── BlockMismatch   (QueueError) routed to someone the block does not print
    │   │   ├── DuplicateSigner the same person twice among a document's signers
    │   │   ├── MailFailed      an e-mail could not be sent (the notice stays pending)
    │   │   ├── MissingReturnReason a return without a reason
    │   │   ├── NoSigners       a routing without any signer
    │   │   └── WrongRequestStatus a request not in the state the act needs (approve twice …)
    │   ├── SchemaOutdated
    │   ├── SealPictureMissing
    │   ├── SignaturePictureMissing
    │   ├── SignerNotInBlock    the signature block names somebody else
    │   ├── SqliteNotSerialised a SQLite engine not made by create_engine_for()
    │   ├── StaffListUnreadable
    │   ├── TicketRefused       a single-use signing address expired, spent or forged
    │   ├── UnknownDocumentType a type code not in the table
    │   ├── UnsupportedDatabase a database other than SQLite or PostgreSQL
    │   └── WrongStep           the document is not at the step the act needs
    ├── DraftNotPrepared        a stored draft the worker could not prepare (its reason)
    ├── JobNotReady
    ├── NoBodyChosen            a trust anchor added without its body or the province scope
    ├── NotFound                a thing the caller names that is not there (or not theirs)
    ├── StorageFull             the disk of the stored versions is full: nothing was written
    ├── StoredFileCorrupted
    ├── StoredFileMissing
    └── UnknownValue            an id or a value the service does not know
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TypeVar

from common import Category, KysoError, halves

from .job_status import JobStatus


class DocumentsError(KysoError):
    """A document could not be numbered, registered or exported."""

    category = Category.BAD_INPUT


class DuplicateNumber(DocumentsError):
    category = Category.CONFLICT

    def __init__(self, number_symbol: str, body: str, year: int) -> None:
        super().__init__(
            f"số và ký hiệu {number_symbol} của {body} đã có trong sổ đăng ký năm {year} — "
            "không được cấp trùng; kiểm tra cấu hình sổ đăng ký văn bản",
            f"number and symbol {number_symbol} of {body} is already in the {year} register — "
            "duplicates are refused; check the number book configuration",
        )
        self.number_symbol = number_symbol


class DuplicateDocument(DocumentsError):
    category = Category.CONFLICT

    def __init__(self, document_id: str, number_symbol: str) -> None:
        super().__init__(
            f"văn bản (mã {document_id}) đã được đăng ký với số {number_symbol} — "
            "không đăng ký lại",
            f"document {document_id} is already registered as {number_symbol} — "
            "it is not registered twice",
        )
        self.document_id = document_id


class NumberAlreadyBound(DocumentsError):
    category = Category.CONFLICT

    def __init__(self, document_id: str, number: str, book: str, year: int) -> None:
        super().__init__(
            f"văn bản (mã {document_id}) đã được cấp số {number} trong sổ “{book}” "
            f"năm {year} — một văn bản chỉ có một số",
            f"document {document_id} already holds number {number} in book “{book}” "
            f"for {year} — a document has one number only",
        )


class DocumentCancelled(DocumentsError):
    category = Category.CONFLICT

    def __init__(self, document_id: str) -> None:
        super().__init__(
            f"số của văn bản (mã {document_id}) đã bị hủy — hãy tạo văn bản mới để cấp số mới",
            f"the number of document {document_id} was cancelled — "
            "create a new document to get a new number",
        )


class AlreadyCancelled(DocumentsError):
    category = Category.CONFLICT

    def __init__(self, number_symbol: str) -> None:
        super().__init__(f"số {number_symbol} đã bị hủy trước đó",
                         f"number {number_symbol} was already cancelled")


class BookMismatch(DocumentsError):
    category = Category.BAD_INPUT

    def __init__(self, book: str, body: str) -> None:
        super().__init__(
            f"sổ “{book}” không thuộc cơ quan ban hành {body}",
            f"number book “{book}” does not belong to the issuing body {body}",
        )


class BookClosed(DocumentsError):
    category = Category.CONFLICT

    def __init__(self, book: str) -> None:
        super().__init__(f"sổ “{book}” đã ngừng sử dụng — chọn sổ đang dùng",
                         f"number book “{book}” is closed — choose an open one")


class NoNumberBook(DocumentsError):
    category = Category.CONFLICT

    def __init__(self, body: str, doc_type: str, detail_vi: str, detail_en: str) -> None:
        super().__init__(
            f"không xác định được sổ đăng ký cho {doc_type} của {body}: {detail_vi} — "
            "quản trị cần cấu hình sổ",
            f"no single number book for {doc_type} of {body}: {detail_en} — "
            "the administrator must configure the books",
        )


class FieldTooLong(DocumentsError):
    category = Category.BAD_INPUT

    def __init__(self, field: str, limit: int, value: str) -> None:
        super().__init__(
            f"{field} dài quá {limit} ký tự (Phụ lục VI): “{value}”",
            f"{field} is longer than {limit} characters (Appendix VI): “{value}”",
        )
        self.field = field


class MissingReason(DocumentsError):
    category = Category.BAD_INPUT

    def __init__(self) -> None:
        super().__init__("phải ghi lý do hủy số", "a reason is required to cancel a number")


class UnknownDocumentType(DocumentsError):
    category = Category.BAD_INPUT

    def __init__(self, code: str) -> None:
        super().__init__(f"không có loại văn bản “{code}” (Phụ lục III)",
                         f"unknown document type “{code}” (Appendix III)")


class InvalidAbbreviation(DocumentsError):
    category = Category.BAD_INPUT

    def __init__(self, value: str) -> None:
        super().__init__(
            f"chữ viết tắt “{value}” không hợp lệ: phải có chữ và không có khoảng trắng",
            f"abbreviation “{value}” is invalid: it must be non-empty with no spaces",
        )


class UnsupportedDatabase(DocumentsError):
    category = Category.INTERNAL

    def __init__(self, dialect: str) -> None:
        super().__init__(
            f"cơ sở dữ liệu {dialect} chưa được hỗ trợ — dùng SQLite hoặc PostgreSQL",
            f"database {dialect} is not supported — use SQLite or PostgreSQL",
        )


class SqliteNotSerialised(DocumentsError):
    category = Category.INTERNAL

    def __init__(self) -> None:
        super().__init__(
            "kết nối SQLite không mở giao dịch ghi tuần tự (BEGIN IMMEDIATE) — "
            "hãy tạo engine bằng create_engine_for()",
            "the SQLite engine does not open serialised write transactions (BEGIN IMMEDIATE) — "
            "make it with create_engine_for()",
        )


class ExportFailed(DocumentsError):
    category = Category.INTERNAL

    def __init__(self, detail_vi: str, detail_en: str) -> None:
        super().__init__(f"không xuất được sổ đăng ký: {detail_vi}",
                         f"the register could not be exported: {detail_en}")


class NoSigningAuthority(DocumentsError):
    category = Category.FORBIDDEN

    def __init__(self, person: str, doc_type: str, body: str) -> None:
        super().__init__(
            f"{person} không có thẩm quyền ký {doc_type} của {body}",
            f"{person} has no authority to sign a {doc_type} of {body}")


class CertificateMismatch(DocumentsError):
    category = Category.FORBIDDEN

    def __init__(self, person: str) -> None:
        super().__init__(
            f"chứng thư số trên thiết bị không phải chứng thư đã đăng ký cho {person}",
            f"the certificate on the token is not the one registered for {person}")


class SignerNotInBlock(DocumentsError):
    category = Category.CONFLICT

    def __init__(self, printed: str, person: str) -> None:
        super().__init__(
            f"khối chữ ký ghi tên {printed}, không phải {person} — kiểm tra lại dự thảo",
            f"the signature block names {printed}, not {person} — check the draft")


class PrintedDateMismatch(DocumentsError):
    """Issuing would print a date other than the register entry's (a draft prepared
    without a year field that prints another year, a day filled in by hand…)."""

    category = Category.CONFLICT

    def __init__(self, printed: str, issued: str, why_vi: str, why_en: str) -> None:
        super().__init__(
            f"văn bản sẽ in “{printed}” nhưng ngày ban hành là {issued}: {why_vi} — "
            "không ban hành; trả lại dự thảo để chuẩn bị và ký lại",
            f"the document would print “{printed}” but the date of issue is {issued}: "
            f"{why_en} — not issued; return the draft to be prepared and signed again")


class WrongStep(DocumentsError):
    category = Category.CONFLICT

    def __init__(self, status: str, needed: str) -> None:
        super().__init__(
            f"văn bản đang ở bước '{status}', cần bước '{needed}'",
            f"the document is at step '{status}', this needs '{needed}'")


class CustodyError(DocumentsError):
    """A key may not make this signature (who acts, for which body, in which act)."""

    category = Category.FORBIDDEN


class KeyHeldElsewhere(CustodyError):
    """Deliberately names neither the other holder nor its body: another commune's
    administrator must not learn whose key it is."""

    category = Category.CONFLICT

    def __init__(self, what_vi: str, what_en: str, value: str) -> None:
        super().__init__(
            f"{what_vi} {value} đã được gắn cho một người hoặc cơ quan khác — mỗi chứng thư "
            "số, thiết bị ký và tài khoản ký từ xa chỉ thuộc về một người của một cơ quan, "
            "hoặc là con dấu số của một cơ quan",
            f"{what_en} {value} is already bound to another person or body — each "
            "certificate, token and remote credential belongs to one person of one body, or "
            "is one body's seal")


class SealChannelRefused(CustodyError):
    category = Category.BAD_INPUT

    def __init__(self, token_name: str) -> None:
        super().__init__(
            f"chứng thư số của cơ quan phải nằm trên thiết bị ký của máy chủ, không phải "
            f"'{token_name}'",
            f"an organisation certificate must be held by a server-side token, not "
            f"'{token_name}'")


class NoOrganisationKey(CustodyError):
    category = Category.CONFLICT

    def __init__(self, body: str, day: str) -> None:
        super().__init__(
            f"{body} chưa có chứng thư số của cơ quan có hiệu lực ngày {day} — quản trị "
            "viên cần đăng ký chứng thư và thiết bị ký của cơ quan",
            f"{body} has no organisation certificate in force on {day} — the administrator "
            "must register the body's certificate and token")


class KeyNotOnServer(CustodyError):
    category = Category.CONFLICT

    def __init__(self, person: str, channel: str) -> None:
        super().__init__(
            f"khóa ký của {person} không nằm trên máy chủ ('{channel}'): ký bằng kyso agent "
            "hoặc dịch vụ ký từ xa",
            f"{person}'s key is not on the server ('{channel}'): sign with kyso agent or the "
            "remote-signing service")


class NotTheApprover(CustodyError):
    category = Category.FORBIDDEN

    def __init__(self, username: str, person: str) -> None:
        super().__init__(
            f"tài khoản “{username}” không phải {person}, người ký tiếp theo của văn bản: "
            "chỉ chính người đó được ký phê duyệt bằng khóa của mình",
            f"account “{username}” is not {person}, the document's next signer: only that "
            "person's own approval makes their signature")


class WrongKeyOnToken(CustodyError):
    category = Category.CONFLICT

    def __init__(self, token_name: str, expected: str, found: str) -> None:
        super().__init__(
            f"thiết bị ký '{token_name}' đang giữ chứng thư {found[:16]}…, không phải chứng "
            f"thư đã đăng ký {expected[:16]}… — không ký; kiểm tra tokens.json",
            f"token '{token_name}' holds certificate {found[:16]}…, not the bound "
            f"certificate {expected[:16]}… — nothing signed; check tokens.json")


class AccountError(DocumentsError):
    """An account could not be created, could not log in, or may not act."""

    category = Category.FORBIDDEN


class InvalidUsername(AccountError):
    category = Category.BAD_INPUT

    def __init__(self, value: str, low: int, high: int) -> None:
        super().__init__(
            f"tên đăng nhập “{value}” không hợp lệ: dài {low}–{high} ký tự, chỉ gồm chữ, "
            "số và các dấu . _ -",
            f"user name “{value}” is invalid: {low}–{high} characters, letters, digits "
            "and . _ - only",
        )


class UsernameTaken(AccountError):
    category = Category.CONFLICT

    def __init__(self, username: str) -> None:
        super().__init__(f"tên đăng nhập “{username}” đã có người dùng — chọn tên khác",
                         f"user name “{username}” is taken — choose another")
        self.username = username


class WeakPassword(AccountError):
    """The password policy refused a password; the message says why, never the password."""

    category = Category.BAD_INPUT

    def __init__(self, detail_vi: str, detail_en: str) -> None:
        super().__init__(f"mật khẩu không đạt yêu cầu: {detail_vi}",
                         f"the password is refused: {detail_en}")


class LoginFailed(AccountError):
    """Wrong user name or password: the same message whether the account exists or not."""

    category = Category.NOT_AUTHENTICATED

    def __init__(self) -> None:
        super().__init__("tên đăng nhập hoặc mật khẩu không đúng",
                         "wrong user name or password")


class LoginThrottled(AccountError):
    """Too many failed logins for a user name or from an address in the recent window."""

    category = Category.THROTTLED

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"đăng nhập sai quá nhiều lần — thử lại sau {retry_after_seconds} giây",
            f"too many failed logins — try again in {retry_after_seconds} seconds")
        self.retry_after_seconds = retry_after_seconds


class InvalidToken(AccountError):
    """An API token that does not (or no longer) open the service; ``reason`` says which."""

    category = Category.NOT_AUTHENTICATED

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

    category = Category.FORBIDDEN

    def __init__(self, username: str, needed_vi: str, needed_en: str, body: str) -> None:
        super().__init__(
            f"tài khoản “{username}” không có quyền làm việc này tại {body}: "
            f"cần vai trò {needed_vi}",
            f"account “{username}” may not do this in {body}: it needs the role {needed_en}")
        self.username = username


class NoBody(Forbidden):
    """The account is a member of no body at all (an administrator has to add it)."""

    category = Category.FORBIDDEN

    def __init__(self, username: str, needed_vi: str, needed_en: str) -> None:
        AccountError.__init__(
            self,
            f"tài khoản “{username}” chưa thuộc cơ quan nào nên chưa làm được việc này "
            f"(cần vai trò {needed_vi} tại một cơ quan) — hãy nhờ quản trị thêm tài khoản "
            "vào cơ quan của mình",
            f"account “{username}” belongs to no body yet, so it may not do this (it needs "
            f"the role {needed_en} in a body) — ask an administrator to add it to yours")
        self.username = username


class ProvinceAdminOnly(Forbidden):
    """Only a province administrator may add or remove a province-wide trust anchor."""

    category = Category.FORBIDDEN

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
    category = Category.NOT_FOUND

    def __init__(self, anchor_id: int) -> None:
        super().__init__(f"không tìm thấy CA tin cậy {anchor_id}",
                         f"trust anchor {anchor_id} not found")


class QueueError(DocumentsError):
    """The signing queue refused a transition, or a notice could not be delivered."""

    category = Category.CONFLICT


class NoSigners(QueueError):
    category = Category.BAD_INPUT

    def __init__(self) -> None:
        super().__init__("phải chọn ít nhất một người ký",
                         "choose at least one signer")


class BlockMismatch(QueueError):
    """The draft's signature block prints somebody (or something) else than the chosen
    signer: refused when routing, unless the drafter overrides it with a reason."""

    category = Category.BAD_INPUT

    def __init__(self, differences: list[tuple[str, str]]) -> None:
        super().__init__(
            "khối chữ ký của dự thảo không khớp với người được chọn ký: "
            + "; ".join(vi for vi, _ in differences)
            + " — sửa dự thảo, chọn đúng người ký, hoặc ghi lý do nếu vẫn gửi",
            "the draft's signature block does not match the chosen signer: "
            + "; ".join(en for _, en in differences)
            + " — correct the draft, choose the right signer, or give a reason to send anyway")
        self.differences = differences


class DuplicateSigner(QueueError):
    category = Category.BAD_INPUT

    def __init__(self, person: str) -> None:
        super().__init__(
            f"{person} đã có trong danh sách người ký văn bản này — mỗi người chỉ một bước",
            f"{person} is already among this document's signers — one step per person")
        self.person = person


class WrongRequestStatus(QueueError):
    category = Category.CONFLICT

    def __init__(self, status_vi: str, status_en: str, action_vi: str, action_en: str) -> None:
        super().__init__(
            f"yêu cầu ký đang ở trạng thái “{status_vi}” — không thể {action_vi}",
            f"the signing request is {status_en} — it cannot be {action_en}")
        self.status = status_en


class MissingReturnReason(QueueError):
    category = Category.BAD_INPUT

    def __init__(self) -> None:
        super().__init__("phải ghi lý do trả lại văn bản",
                         "a reason is required to return a document")


class MailFailed(QueueError):
    """``server_down``: the server could not be reached or refused the session (stop
    sending for now); otherwise only this message or address was refused."""

    category = Category.UNAVAILABLE

    def __init__(self, to: str, detail: str, *, server_down: bool) -> None:
        super().__init__(
            f"không gửi được thư tới {to}: {detail} — thông báo vẫn chờ gửi lại",
            f"could not e-mail {to}: {detail} — the notice stays pending")
        self.to = to
        self.server_down = server_down


class AuditHeadMissing(DocumentsError):
    """The audit trail has events but its head row (``audit_head``) is gone: the trail
    was tampered with, so nothing more is appended until an administrator looks."""

    category = Category.INTERNAL

    def __init__(self) -> None:
        super().__init__(
            "nhật ký kiểm tra có sự kiện nhưng mất bản ghi đầu chuỗi (audit_head) — "
            "không ghi thêm được; hãy chạy “kyso audit verify” và báo quản trị",
            "the audit trail has events but its head row (audit_head) is gone — "
            "nothing more can be recorded; run “kyso audit verify” and tell the administrator")


class SealPictureMissing(DocumentsError):
    """A body has no seal picture yet: it cannot issue until its administrator uploads one."""

    category = Category.CONFLICT

    def __init__(self, body: str) -> None:
        super().__init__(f"{body} chưa có ảnh con dấu nên chưa ban hành được: quản trị viên hãy "
                         "tải lên ảnh con dấu (PNG nền trong suốt, màu đỏ) ở trang Quản trị",
                         f"{body} has no seal picture yet, so it cannot issue: an administrator "
                         "must upload the seal (a transparent red PNG) on the admin page")


class SignaturePictureMissing(DocumentsError):
    """A signer has no handwritten-signature picture yet: their approval cannot be stamped."""

    category = Category.CONFLICT

    def __init__(self, person: str) -> None:
        super().__init__(f"{person} chưa có ảnh chữ ký nên chưa ký duyệt được: quản trị viên hãy "
                         "tải lên ảnh chữ ký tay (PNG nền trong suốt, màu xanh) ở trang Quản trị",
                         f"{person} has no handwritten-signature picture yet, so cannot approve: "
                         "an administrator must upload it (a transparent blue PNG) on the admin "
                         "page")


class BackupRefused(DocumentsError):
    """A backup cannot be written there, or a backup file cannot be restored."""

    category = Category.BAD_INPUT


class SchemaOutdated(DocumentsError):
    """The database's schema is not this release's: ``kyso db upgrade`` first."""

    category = Category.UNAVAILABLE

    def __init__(self, current: str | None, head: str) -> None:
        found = current or "trống / empty"
        super().__init__(
            f"cơ sở dữ liệu đang ở lược đồ {found}, phiên bản này cần {head}: hãy chạy "
            "`kyso db upgrade` (sau khi sao lưu bằng `kyso backup`) rồi khởi động lại",
            f"the database schema is {found}, this release needs {head}: run "
            "`kyso db upgrade` (after a `kyso backup`) and start again")


class StaffListUnreadable(DocumentsError):
    """A staff list file (XLSX/CSV) cannot be read as a whole (documents/staff.py)."""

    category = Category.BAD_INPUT


class StoredFileCorrupted(KysoError):
    category = Category.INTERNAL

    def __init__(self, sha256: str) -> None:
        super().__init__(f"tệp lưu trữ {sha256[:12]}… đã bị thay đổi hoặc hỏng",
                         f"stored file {sha256[:12]}… was altered or is damaged")


class StoredFileMissing(KysoError):
    category = Category.NOT_FOUND

    def __init__(self, sha256: str) -> None:
        super().__init__(f"không tìm thấy tệp lưu trữ {sha256[:12]}…",
                         f"stored file {sha256[:12]}… is missing")


class StorageFull(KysoError):
    """A PDF version could not be written: the disk (or the quota) of the stored files is
    full. Nothing of it remains (the partial file is removed) and the act's transaction
    rolls back — no number is used without its register entry; the work waits for space
    and goes on by itself (:func:`api.worker.ledger.service_of`: "storage")."""

    category = Category.UNAVAILABLE

    def __init__(self, folder: str, size: int) -> None:
        super().__init__(
            f"ổ đĩa lưu văn bản đã đầy, không ghi được tệp {size} byte vào {folder} — không "
            "có gì bị ghi dở, số văn bản chưa được cấp; báo quản trị giải phóng dung lượng, "
            "việc sẽ tự tiếp tục",
            f"the disk of the stored files is full, a {size}-byte file could not be written "
            f"to {folder} — nothing was half written and no number was used; ask the "
            "administrator to free space, the work goes on by itself")
        self.folder = folder
        self.size = size


class CertificateNotRegistered(KysoError):
    category = Category.CONFLICT

    def __init__(self, person: str) -> None:
        super().__init__(
            f"dịch vụ chưa có chứng thư số của {person} — hãy chạy kyso agent một lần "
            "với USB token đã cắm, hoặc nhờ quản trị tải chứng thư lên",
            f"the service does not have {person}'s certificate yet — run kyso agent once "
            "with the USB token plugged in, or ask the administrator to upload it")


class JobNotReady(KysoError):
    category = Category.CONFLICT

    def __init__(self, job_id: str, status: JobStatus) -> None:
        super().__init__(f"việc ký {job_id} đang ở trạng thái '{status.value}'",
                         f"signing job {job_id} is {status.name}")


class BodyExists(DocumentsError):
    """A body of that name (or official code) is already set up (documents/onboarding.py)."""

    category = Category.CONFLICT

    def __init__(self, what: str) -> None:
        super().__init__(f"đã có cơ quan {what} trong Kyso — không tạo lại",
                         f"the body {what} is already set up in Kyso — not created again")


class InstanceNotEmpty(DocumentsError):
    """The first-run page on an instance that already has a body or an account."""

    category = Category.CONFLICT

    def __init__(self) -> None:
        super().__init__("Kyso đã được khởi tạo (đã có cơ quan hoặc tài khoản): hãy đăng nhập; "
                         "cơ quan mới do quản trị viên thêm",
                         "Kyso is already set up (it has a body or an account): log in; new "
                         "bodies are added by an administrator")


class InvalidOrganId(DocumentsError):
    """An official code (mã định danh) not of the form 000.00.00.H41."""

    category = Category.BAD_INPUT

    def __init__(self, value: str) -> None:
        super().__init__(
            f"mã định danh “{value}” không đúng dạng (ví dụ: 000.12.34.H41 — bốn nhóm "
            "cách nhau bởi dấu chấm, theo mã định danh điện tử cơ quan được cấp)",
            f"official code “{value}” is malformed (e.g. 000.12.34.H41: four groups "
            "separated by dots, as the body's electronic identifier was issued)")


class TicketRefused(DocumentsError):
    """A single-use address handed to a local signing tool (documents/tickets.py) that is
    expired, already used, forged or for another purpose."""

    category = Category.FORBIDDEN

    def __init__(self) -> None:
        super().__init__(
            "địa chỉ ký số dùng một lần đã hết hạn, đã được dùng hoặc không hợp lệ — hãy bấm "
            "ký lại trên trang Kyso",
            "the single-use signing address has expired, was already used or is not valid — "
            "start the signature again from the Kyso page")


class NotFound(KysoError):
    """Something the caller names that does not exist, or that they may not see (the same
    answer, so one body cannot even learn another's ids)."""

    category = Category.NOT_FOUND

    def __init__(self, what: str) -> None:
        vi, en = halves(what)  # "văn bản X / document X"
        super().__init__(f"không tìm thấy {vi}", f"{en} not found")


class UnknownValue(KysoError):
    """A request names an id or a value the service does not know (or the caller may not
    see: the same answer, so nothing is learnt of other bodies)."""

    category = Category.BAD_INPUT

    def __init__(self, what_vi: str, what_en: str, value: object,
                 known: Iterable[str] = ()) -> None:
        choices = ", ".join(known)
        super().__init__(f"không có {what_vi} “{value}”" + (f" (chọn: {choices})" if choices
                                                               else ""),
                         f"unknown {what_en} “{value}”" + (f" (one of: {choices})" if choices
                                                            else ""))


E = TypeVar("E", bound=enum.Enum)


def enum_member(kind: type[E], name: str, what_vi: str, what_en: str) -> E:
    """``kind[name]``, or :class:`UnknownValue` listing the names it could be."""
    try:
        return kind[name]
    except KeyError:
        raise UnknownValue(what_vi, what_en, name, [m.name for m in kind]) from None


class DraftNotPrepared(KysoError):
    """The draft was stored but cannot be prepared; the reason is the prepare task's
    (``code``: the reason class of a refused PDF, when it is one)."""

    category = Category.BAD_INPUT

    def __init__(self, document_id: str, vi: str, en: str, code: str | None = None) -> None:
        super().__init__(f"dự thảo {document_id} chưa chuẩn bị được: {vi}",
                         f"draft {document_id} could not be prepared: {en}")
        self.code = code


class NoBodyChosen(KysoError):
    category = Category.BAD_REQUEST

    def __init__(self) -> None:
        super().__init__("hãy chọn cơ quan (body_id) sẽ tin cậy CA này, hoặc phạm vi toàn tỉnh",
                         "choose the body (body_id) that trusts this CA, or the province scope")
