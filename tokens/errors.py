"""Token errors: each says, in Vietnamese and English, what the signer should do."""

from __future__ import annotations

from certs.errors import KysoError


class TokenError(KysoError):
    """A token could not be used."""


class ModuleMissing(TokenError):
    def __init__(self, module: str) -> None:
        super().__init__(
            f"không tìm thấy hoặc không nạp được thư viện PKCS#11 '{module}' — "
            "kiểm tra đã cài phần mềm của thiết bị ký số (USB token)",
            f"PKCS#11 module '{module}' is missing or cannot be loaded — "
            "check the token vendor's software is installed",
        )


class TokenNotFound(TokenError):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"không thấy thiết bị ký số {what} — hãy cắm USB token rồi thử lại",
            f"token {what} not found — plug the USB token in and try again",
        )


class WrongPin(TokenError):
    def __init__(self, remaining: str | None = None) -> None:
        vi, en = "mã PIN không đúng", "wrong PIN"
        if remaining == "final":
            vi += "; chỉ còn MỘT lần thử trước khi thiết bị bị khóa"
            en += "; ONE try left before the token locks"
        elif remaining == "low":
            vi += "; còn ít lần thử trước khi thiết bị bị khóa"
            en += "; few tries left before the token locks"
        super().__init__(vi + " (không tự thử lại)", en + " (not retried automatically)")
        self.remaining = remaining


class TokenLocked(TokenError):
    def __init__(self) -> None:
        super().__init__(
            "thiết bị ký số đã bị khóa do nhập sai PIN quá số lần — liên hệ quản trị hoặc "
            "nhà cung cấp chứng thư để mở khóa",
            "the token is locked after too many wrong PINs — ask the administrator or the CA "
            "to unlock it",
        )


class KeyNotFound(TokenError):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"không tìm thấy khóa bí mật hoặc chứng thư số {what} trên thiết bị",
            f"private key or certificate {what} not found on the token",
        )


class TokenRemoved(TokenError):
    def __init__(self) -> None:
        super().__init__(
            "thiết bị ký số đã bị rút ra hoặc mất kết nối trong khi ký",
            "the token was removed or disconnected while signing",
        )


class KeyFileError(TokenError):
    def __init__(self, path: str) -> None:
        super().__init__(
            f"không mở được tệp khóa PKCS#12 '{path}' (sai mật khẩu hoặc tệp hỏng)",
            f"cannot open PKCS#12 file '{path}' (wrong password or damaged file)",
        )
