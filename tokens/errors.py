"""Token errors: each says, in Vietnamese and English, what the signer should do.

Its tree (drawn by tests/support/error_classes.draw_tree)::

    KysoError
    └── TokenError          A token could not be used
        ├── DigestRefused
        ├── DigestSigningUnsupported
        ├── KeyFileError
        ├── KeyNotFound
        ├── ModuleMissing
        ├── RemoteNotConfigured
        ├── RemoteSigningError A remote signing service could not be used
        │   ├── CredentialUnavailable
        │   ├── HashCountMismatch
        │   ├── PhoneConfirmationRefused
        │   ├── PhoneConfirmationTimedOut
        │   ├── RemoteAuthRefused
        │   ├── RemoteServerError
        │   ├── RemoteUnreachable
        │   ├── SadExpired
        │   └── WrongOtp
        ├── TokenLocked
        ├── TokenNotFound
        ├── TokenRemoved
        └── WrongPin
"""

from __future__ import annotations

from common import Category, KysoError


class TokenError(KysoError):
    """A token could not be used."""

    category = Category.UNAVAILABLE


class ModuleMissing(TokenError):
    category = Category.UNAVAILABLE

    def __init__(self, module: str) -> None:
        super().__init__(
            f"không tìm thấy hoặc không nạp được thư viện PKCS#11 '{module}' — "
            "kiểm tra đã cài phần mềm của thiết bị ký số (USB token)",
            f"PKCS#11 module '{module}' is missing or cannot be loaded — "
            "check the token vendor's software is installed",
        )


class TokenNotFound(TokenError):
    category = Category.UNAVAILABLE

    def __init__(self, what: str) -> None:
        super().__init__(
            f"không thấy thiết bị ký số {what} — hãy cắm USB token rồi thử lại",
            f"token {what} not found — plug the USB token in and try again",
        )


class WrongPin(TokenError):
    category = Category.BAD_INPUT

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
    category = Category.BAD_INPUT

    def __init__(self) -> None:
        super().__init__(
            "thiết bị ký số đã bị khóa do nhập sai PIN quá số lần — liên hệ quản trị hoặc "
            "nhà cung cấp chứng thư để mở khóa",
            "the token is locked after too many wrong PINs — ask the administrator or the CA "
            "to unlock it",
        )


class KeyNotFound(TokenError):
    category = Category.UNAVAILABLE

    def __init__(self, what: str) -> None:
        super().__init__(
            f"không tìm thấy khóa bí mật hoặc chứng thư số {what} trên thiết bị",
            f"private key or certificate {what} not found on the token",
        )


class TokenRemoved(TokenError):
    category = Category.UNAVAILABLE

    def __init__(self) -> None:
        super().__init__(
            "thiết bị ký số đã bị rút ra hoặc mất kết nối trong khi ký",
            "the token was removed or disconnected while signing",
        )


class KeyFileError(TokenError):
    category = Category.UNAVAILABLE

    def __init__(self, path: str) -> None:
        super().__init__(
            f"không mở được tệp khóa PKCS#12 '{path}' (sai mật khẩu hoặc tệp hỏng)",
            f"cannot open PKCS#12 file '{path}' (wrong password or damaged file)",
        )


# --- remote signing (CSC API v2 and other providers, tokens/remote.py) ---------------------


class RemoteSigningError(TokenError):
    """A remote signing service could not be used."""

    category = Category.UNAVAILABLE


class RemoteUnreachable(RemoteSigningError):
    category = Category.UNAVAILABLE

    def __init__(self, url: str) -> None:
        super().__init__(
            f"không kết nối được dịch vụ ký số từ xa {url} — kiểm tra mạng rồi thử lại",
            f"remote signing service {url} is unreachable — check the network and try again",
        )
        self.url = url


class RemoteAuthRefused(RemoteSigningError):
    category = Category.BAD_INPUT

    def __init__(self, detail: str = "") -> None:
        suffix = f" ({detail})" if detail else ""
        super().__init__(
            "dịch vụ ký số từ xa từ chối quyền truy cập hoặc ủy quyền ký" + suffix,
            "the remote signing service refused the access or the signing authorisation" + suffix,
        )
        self.detail = detail


class WrongOtp(RemoteSigningError):
    category = Category.BAD_INPUT

    def __init__(self) -> None:
        super().__init__(
            "mã OTP không đúng hoặc đã hết hạn — yêu cầu mã mới rồi thử lại (không tự thử lại)",
            "wrong or expired OTP — ask for a new code and try again (not retried automatically)",
        )


class SadExpired(RemoteSigningError):
    category = Category.BAD_INPUT

    def __init__(self) -> None:
        super().__init__(
            "phiên ủy quyền ký (SAD) đã hết hạn — người ký cần xác nhận lại",
            "the signing authorisation (SAD) has expired — the signer must authorise again",
        )


class CredentialUnavailable(RemoteSigningError):
    category = Category.UNAVAILABLE

    def __init__(self, credential_id: str, disabled: bool = False) -> None:
        if disabled:
            vi = f"chứng thư số '{credential_id}' trên dịch vụ ký từ xa đang bị khóa hoặc tạm dừng"
            en = f"credential '{credential_id}' at the remote signing service is disabled"
        else:
            vi = f"không có chứng thư số '{credential_id}' trên dịch vụ ký số từ xa"
            en = f"no credential '{credential_id}' at the remote signing service"
        super().__init__(vi, en)
        self.credential_id = credential_id
        self.disabled = disabled


class HashCountMismatch(RemoteSigningError):
    category = Category.UNAVAILABLE

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(
            f"số bản băm không khớp: cần {expected}, nhận {got} — không ký lô này",
            f"hash count mismatch: expected {expected}, got {got} — the batch is not signed",
        )
        self.expected = expected
        self.got = got


class RemoteServerError(RemoteSigningError):
    category = Category.UNAVAILABLE

    def __init__(self, status: int, error: str, description: str) -> None:
        what = f"HTTP {status} {error}: {description}".strip(": ")
        super().__init__(f"dịch vụ ký số từ xa báo lỗi: {what}",
                         f"the remote signing service reported an error: {what}")
        self.status = status
        self.error = error
        self.description = description


class PhoneConfirmationRefused(RemoteSigningError):
    """The official refused (or cancelled) the signing transaction on their phone."""

    category = Category.CONFLICT

    def __init__(self, detail: str = "") -> None:
        suffix = f" ({detail})" if detail else ""
        super().__init__("người ký đã từ chối hoặc hủy giao dịch ký trên điện thoại — văn bản "
                         "vẫn chờ ký" + suffix,
                         "the signer refused or cancelled the signing on their phone — the "
                         "documents still wait for the signature" + suffix)


class PhoneConfirmationTimedOut(RemoteSigningError):
    """Nobody confirmed the signing transaction on the phone in time."""

    category = Category.UNAVAILABLE

    def __init__(self, seconds: int) -> None:
        super().__init__(f"quá {seconds} giây mà chưa xác nhận trên điện thoại — văn bản vẫn chờ "
                         "ký, hãy ký lại rồi xác nhận trong ứng dụng",
                         f"not confirmed on the phone within {seconds} s — the documents still "
                         "wait; sign again and confirm in the app")


class RemoteNotConfigured(TokenError):
    category = Category.UNAVAILABLE

    def __init__(self, name: str) -> None:
        super().__init__(f"chưa cấu hình dịch vụ ký số từ xa '{name}' (tokens.json)",
                         f"remote-signing service '{name}' is not configured (tokens.json)")


class DigestSigningUnsupported(TokenError):
    category = Category.UNAVAILABLE

    def __init__(self, what: str) -> None:
        super().__init__(
            f"thiết bị ký '{what}' không hỗ trợ ký giá trị băm (ký rời)",
            f"token '{what}' cannot sign digests (hash-only signing)")


class DigestRefused(TokenError):
    """A digest or algorithm the key cannot sign (programming or configuration error)."""

    category = Category.BAD_INPUT

    def __init__(self, detail: str) -> None:
        super().__init__(f"không ký được giá trị băm: {detail}",
                         f"cannot sign the digest: {detail}")
