"""Kyso errors as HTTP answers: status code and a body in Vietnamese and English."""

from __future__ import annotations

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from common import Category, KysoError


class NotAuthenticated(KysoError):
    category = Category.NOT_AUTHENTICATED

    def __init__(self) -> None:
        super().__init__("cần đăng nhập", "login required")


class UnknownFields(KysoError):
    """A request carrying fields the act does not take (e.g. a token name or a date)."""

    category = Category.BAD_INPUT

    def __init__(self, names: list[str]) -> None:
        listed = ", ".join(names)
        super().__init__(f"yêu cầu có trường không được phép: {listed}",
                         f"the request has fields that are not allowed: {listed}")


class ValueOutOfRange(KysoError):
    """A value in the request beyond what the database stores (an id of 40 digits, a text
    longer than its column): refused as input, never a 500 (found by
    tests/test_api_fuzz.py)."""

    category = Category.BAD_INPUT

    def __init__(self) -> None:
        super().__init__("một giá trị trong yêu cầu vượt quá giới hạn cho phép",
                         "a value in the request is out of range or too long")


#: Vietnamese names of form fields, for validation messages.
FIELD_NAMES = {
    "file": "tệp", "files": "tệp", "doc_type": "loại văn bản", "subject": "trích yếu",
    "signers": "người ký", "reason": "lý do", "username": "tên đăng nhập",
    "password": "mật khẩu", "full_name": "họ và tên", "position": "chức vụ",
    "token_name": "thiết bị ký", "person_id": "người", "code": "mã sổ", "name": "tên",
    "request_ids": "văn bản", "display_name": "tên hiển thị", "roles": "vai trò",
    "year": "năm", "kind": "loại bản sao",
}


class MissingInput(KysoError):
    category = Category.BAD_INPUT

    def __init__(self, fields: list[str]) -> None:
        names = ", ".join(dict.fromkeys(FIELD_NAMES.get(f, f) for f in fields))
        super().__init__(f"thiếu hoặc sai thông tin: {names}",
                         f"missing or invalid input: {', '.join(fields)}")


#: The HTTP status of each category of error: the one place it is decided.
STATUS: dict[Category, int] = {
    Category.BAD_REQUEST: 400,
    Category.BAD_INPUT: 422,
    Category.NOT_AUTHENTICATED: 401,
    Category.FORBIDDEN: 403,
    Category.NOT_FOUND: 404,
    Category.CONFLICT: 409,
    Category.TOO_LARGE: 413,
    Category.THROTTLED: 429,
    Category.UNAVAILABLE: 503,
    Category.INTERNAL: 500,
}
#: Seconds a client is asked to wait before retrying an UNAVAILABLE act, unless the
#: error knows better.
RETRY_AFTER_UNAVAILABLE = 30


def status_for(exc: KysoError) -> int:
    """The HTTP status of a Kyso error: the one its class declares by its category."""
    return STATUS[exc.category]


def retry_after(exc: KysoError) -> int | None:
    """The ``Retry-After`` seconds for an error worth retrying later, else None."""
    seconds = exc.retry_after or getattr(exc, "retry_after_seconds", None)
    if seconds is None and exc.category is Category.UNAVAILABLE:
        seconds = RETRY_AFTER_UNAVAILABLE
    return int(seconds) if seconds else None


async def kyso_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KysoError)
    headers = {}
    retry = retry_after(exc)
    if retry:
        headers["Retry-After"] = str(retry)
    body = {"type": type(exc).__name__, "vi": exc.vi, "en": exc.en}
    code = getattr(exc, "code", None)
    if isinstance(code, str):  # the reason class of a refused PDF (signer.PdfHostile)
        body["code"] = code
    return JSONResponse(status_code=status_for(exc), headers=headers,
                        content={"error": body})


async def out_of_range_handler(request: Request, exc: Exception) -> JSONResponse:
    """A value the database cannot store or compare, raised while the request's own values
    are bound into a statement: SQLite's ``OverflowError`` (an integer above 2**63),
    PostgreSQL's ``DataError`` (numeric value out of range, a text too long)."""
    return await kyso_error_handler(request, ValueOutOfRange())


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A request FastAPI could not read (a field missing or of the wrong type): 422 with the
    fields named in both languages, and pydantic's ``detail`` for programs."""
    assert isinstance(exc, RequestValidationError)
    fields = [str(e.get("loc", ("", "?"))[-1]) for e in exc.errors()]
    error = MissingInput(fields)
    return JSONResponse(status_code=422, content={
        "error": {"type": type(error).__name__, "vi": error.vi, "en": error.en},
        "detail": jsonable_encoder(exc.errors())})
