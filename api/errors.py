"""Kyso errors as HTTP answers: status code and a body in Vietnamese and English."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from certs import KysoError


class NotAuthenticated(KysoError):
    def __init__(self) -> None:
        super().__init__("cần đăng nhập", "login required")


class NotFound(KysoError):
    def __init__(self, what: str) -> None:
        super().__init__(f"không tìm thấy {what}", f"{what} not found")


def status_for(exc: KysoError) -> int:
    """The HTTP status of a Kyso error, by its class name (no import of every package)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    table = [
        ({"NotAuthenticated", "LoginFailed", "InvalidToken"}, 401),
        ({"Forbidden", "NoSigningAuthority", "CertificateMismatch"}, 403),
        ({"NotFound", "StoredFileMissing"}, 404),
        ({"LoginThrottled"}, 429),
        ({"WrongStep", "DuplicateNumber", "DuplicateDocument", "SignerNotInBlock",
          "AlreadyCancelled", "DocumentCancelled"}, 409),
        ({"SignerError", "DraftRefused", "DraftNotPrepared", "PdfUnreadable",
          "PdfEncrypted"}, 422),
        ({"WrongPin", "TokenLocked", "WrongOtp", "RemoteAuthRefused", "SadExpired",
          "SignatureMismatch", "DigestRefused"}, 422),
        ({"JobNotReady", "CertificateNotRegistered", "NothingToSign"}, 409),
        ({"TokenError", "TimestampUnavailable"}, 503),
    ]
    for group, status in table:
        if names & group:
            return status
    return 400


async def kyso_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KysoError)
    headers = {}
    retry = getattr(exc, "retry_after", None) or getattr(exc, "retry_after_seconds", None)
    if retry:
        headers["Retry-After"] = str(int(retry))
    body = {"type": type(exc).__name__, "vi": exc.vi, "en": exc.en}
    code = getattr(exc, "code", None)
    if isinstance(code, str):  # the reason class of a refused PDF (signer.PdfHostile)
        body["code"] = code
    return JSONResponse(status_code=status_for(exc), headers=headers,
                        content={"error": body})
