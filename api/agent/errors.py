"""Errors of the signer agent (the program on the official's PC)::

    KysoError
    └── AgentError          The agent cannot go on; the message says why and what to do
        ├── BatchInterrupted
        ├── CertificateExpiredOnToken
        ├── CertificateNotOnToken
        ├── NoPinDialog     no console and no window to ask the PIN in
        ├── NotASigner
        ├── ServiceRefused
        └── ServiceUnavailable
"""

from __future__ import annotations

from common import Category, KysoError


class AgentError(KysoError):
    """The agent cannot go on; the message says why and what to do."""

    category = Category.UNAVAILABLE


class ServiceUnavailable(AgentError):
    category = Category.UNAVAILABLE

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"không kết nối được dịch vụ Kyso tại {url} ({detail}) — kiểm tra "
                         "mạng hoặc hỏi quản trị",
                         f"cannot reach the Kyso service at {url} ({detail})")


class ServiceRefused(AgentError):
    category = Category.BAD_INPUT

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(f"dịch vụ từ chối: {vi}", f"the service refused: {en}")


class NotASigner(AgentError):
    category = Category.FORBIDDEN

    def __init__(self, username: str) -> None:
        super().__init__(f"tài khoản {username} không có thẩm quyền ký nào được đăng ký",
                         f"account {username} has no registered signing authority")


class CertificateNotOnToken(AgentError):
    category = Category.BAD_INPUT

    def __init__(self, registered: list[str], found: list[str]) -> None:
        shown = ", ".join(found) or "không có / none"
        super().__init__(
            "chứng thư số trên USB token không phải chứng thư đã đăng ký cho ông/bà "
            f"(đã đăng ký: {', '.join(r[:16] for r in registered)}…; trên token: {shown}) — "
            "cắm đúng USB token, hoặc nhờ quản trị cập nhật chứng thư mới",
            "the certificate on the USB token is not the one registered for you "
            f"(registered: {', '.join(r[:16] for r in registered)}…; on the token: {shown})")


class BatchInterrupted(AgentError):
    category = Category.UNAVAILABLE

    def __init__(self, signed: int, total: int, cause: KysoError) -> None:
        self.signed, self.total = signed, total
        if isinstance(cause, ServiceUnavailable):  # the connection, not the token
            then_vi = "kiểm tra kết nối mạng rồi chạy lại kyso agent"
            then_en = "check the network connection and run kyso agent again"
        else:
            then_vi = "cắm lại USB token và chạy lại kyso agent"
            then_en = "plug the token in and run kyso agent again"
        super().__init__(
            f"dừng sau {signed}/{total} văn bản: {cause.vi}. Các văn bản đã ký vẫn được "
            f"hoàn tất; văn bản còn lại vẫn chờ — {then_vi}",
            f"stopped after {signed}/{total} documents: {cause.en}. The signed ones are "
            f"finished; the others still wait — {then_en}")


class CertificateExpiredOnToken(AgentError):
    category = Category.BAD_INPUT

    def __init__(self, subject: str, when: str) -> None:
        super().__init__(f"chứng thư số của {subject} trên USB token đã hết hạn hoặc chưa có "
                         f"hiệu lực ({when}) — nhờ quản trị đăng ký chứng thư mới",
                         f"the certificate of {subject} on the USB token has expired or is not "
                         f"yet valid ({when})")


class NoPinDialog(AgentError):
    """Started without a console (at login), the agent has no window to ask the PIN in."""

    category = Category.UNAVAILABLE

    def __init__(self, why: str) -> None:
        super().__init__(
            "không hỏi được mật khẩu hoặc mã PIN: agent chạy không có cửa sổ dòng lệnh và "
            f"không mở được hộp thoại ({why}) — cài Python có tkinter, hoặc chạy kyso-agent "
            "trong cửa sổ dòng lệnh",
            f"cannot ask for the password or PIN: no console and no dialog ({why}) — install "
            "Python with tkinter, or run kyso-agent in a terminal")
