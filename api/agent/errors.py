"""Errors of the signer agent (the program on the official's PC)::

    KysoError
    └── AgentError          The agent cannot go on; the message says why and what to do
        ├── BatchInterrupted
        ├── CertificateNotOnToken
        ├── NotASigner
        ├── ServiceRefused
        └── ServiceUnavailable
"""

from __future__ import annotations

from common.errors import Category, KysoError


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
        super().__init__(
            f"dừng sau {signed}/{total} văn bản: {cause.vi}. Các văn bản đã ký vẫn được "
            "hoàn tất; văn bản còn lại vẫn chờ — cắm lại USB token và chạy lại kyso agent",
            f"stopped after {signed}/{total} documents: {cause.en}. The signed ones are "
            "finished; the others still wait — plug the token in and run kyso agent again")
